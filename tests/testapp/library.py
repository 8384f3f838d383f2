"""A library API three levels deep (authors → books → reviews), each level with scopes of its
own, an ``own`` selector by creator, and a hook that stamps the creator: what a new user
builds, and what nested security must hold for."""

from fastapi import FastAPI
from pydantic import BaseModel

from djfapi import ModelViewSet, Router, Schemas
from djfapi.permissions import JWTBearer, Scopes
from tests.testapp import api, models

token = JWTBearer()


def scopes(resource: str) -> Scopes:
    def scope(action: str) -> str:
        return f"library.{resource}.{action}"

    return Scopes(get=[scope("read.any"), scope("read.own")], post=[scope("create")],
                  patch=[scope("update.any"), scope("update.own")], delete=[scope("delete.any")])


def every_scope(*resources: str, selector: str = "any") -> list[str]:
    """Every scope of ``resources``, reads and updates with ``selector``."""
    return [f"library.{resource}.{action}" for resource in resources
            for action in (f"read.{selector}", "create", f"update.{selector}", "delete.any")]


ALL_SCOPES = every_scope("authors", "books", "reviews")


class CommentIn(BaseModel):
    text: str


class CommentOut(BaseModel):
    id: int
    text: str
    created_by: str


class ReviewOut(BaseModel):
    id: int
    text: str
    stars: int
    created_by: str
    comments: list[CommentOut] = []


class ReviewIn(BaseModel):
    text: str
    stars: int = 3
    comments: list[CommentIn] = []


class ReviewWrite(ReviewIn):
    id: int | None = None


class BookOut(BaseModel):
    id: int
    title: str
    created_by: str
    reviews: list[ReviewOut]


class BookIn(BaseModel):
    title: str
    reviews: list[ReviewIn] = []


class BookUpdate(BaseModel):
    title: str
    reviews: list[ReviewWrite] = []


class AuthorOut(BaseModel):
    id: int
    name: str
    created_by: str


class AuthorIn(BaseModel):
    name: str


class CreatorViewSet(ModelViewSet):
    """Stamps the creator on new rows; with an ``own`` scope, only the caller's rows."""

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.access.scope is not None and self.access.scope.selector == "own":
            queryset = queryset.filter(created_by=self.access.user_id)
        return queryset

    def perform_create(self, instance):
        instance.created_by = self.access.user_id
        super().perform_create(instance)


class AuthorViewSet(CreatorViewSet):
    model = models.Author
    schemas = Schemas(get=AuthorOut, create=AuthorIn, update=AuthorIn)
    security = token
    scopes = scopes("authors")


class BookViewSet(CreatorViewSet):
    model = models.Book
    schemas = Schemas(get=BookOut, create=BookIn, update=BookUpdate)
    security = token
    scopes = scopes("books")


class ReviewViewSet(CreatorViewSet):
    model = models.Review
    schemas = Schemas(get=ReviewOut, create=ReviewIn, update=ReviewIn)
    security = token
    scopes = scopes("reviews")

    def set_nested_server_owned_fields(self, instance):  # comments, which have no route
        super().set_nested_server_owned_fields(instance)
        if instance._state.adding:
            instance.created_by = self.access.user_id


def build_router(books: type[BookViewSet] = BookViewSet, **review_options) -> Router:
    router = Router()
    router.register("authors", AuthorViewSet)
    router.register("books", books, parent=AuthorViewSet)
    router.register("reviews", ReviewViewSet, parent=books, **review_options)
    return router


def create_app(router: Router | None = None) -> FastAPI:
    return api.create_app(router or build_router())
