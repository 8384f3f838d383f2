"""A child route is never wider than its parents: each ancestor is looked up as a retrieve of
its own (its scopes, its `own` selector, its tenancy), and a parent's body never writes a
nested row its caller could not write through the child's own route."""

import pytest

from djfapi.exceptions import ImproperlyConfigured
from djfapi.testing import Client
from tests.testapp import library, models
from tests.testapp.factories import AuthorFactory, BookFactory, ReviewFactory

READ_ANY = ["library.authors.read.any", "library.books.read.any", "library.reviews.read.any"]


@pytest.fixture
def shelf():
    """Alice's author and book with Bob's review on it, and a book of Bob's."""
    author = AuthorFactory(tenant_id="tenant-a", created_by="alice")
    book = BookFactory(author=author, created_by="alice")
    review = ReviewFactory(book=book, created_by="bob", text="Bob liked it")
    bobs_book = BookFactory(author=author, created_by="bob")
    return author, book, review, bobs_book


@pytest.fixture
def client(library_app):
    return Client(library_app)


def reviews_of(author, book):
    return f"/api/authors/{author.id}/books/{book.id}/reviews"


def test_an_own_selector_on_the_parent_holds_for_its_children(client, shelf):
    author, book, _, bobs_book = shelf
    client.authenticate(["library.authors.read.any", "library.books.read.own", "library.reviews.read.any"],
                        tenant="tenant-a", user="bob")
    assert client.get(f"/api/authors/{author.id}/books/{book.id}").status_code == 404  # Alice's book
    assert client.get(reviews_of(author, book)).status_code == 404  # so its reviews too
    assert client.get(f"{reviews_of(author, book)}/{shelf[2].id}").status_code == 404
    assert client.get(reviews_of(author, bobs_book)).status_code == 200  # Bob's own book


def test_a_child_scope_alone_reaches_no_child(client, shelf):
    author, book, review, _ = shelf
    client.authenticate(["library.reviews.read.any", "library.reviews.update.any"], tenant="tenant-a")
    one = f"{reviews_of(author, book)}/{review.id}"
    for method, path in (("GET", reviews_of(author, book)), ("GET", one), ("PATCH", one)):
        response = client.request(method, path, json={"text": "x"} if method == "PATCH" else None)
        assert response.status_code == 403, (method, path, response.text)
        assert "library.authors.read" in response.json()["detail"]
    assert models.Review.objects.get().text == "Bob liked it"


def test_each_ancestor_needs_its_own_read_scope(client, shelf):
    author, book, _, _ = shelf
    client.authenticate(["library.authors.read.any", "library.reviews.read.any"], tenant="tenant-a")
    response = client.get(reviews_of(author, book))
    assert response.status_code == 403
    assert response.json()["detail"] == ("The token holds none of the scopes needed to read the parent "
                                         "book: library.books.read.any, library.books.read.own.")
    client.authenticate(READ_ANY, tenant="tenant-a")
    assert [r["text"] for r in client.get(reviews_of(author, book)).json()["items"]] == ["Bob liked it"]


def test_ancestors_see_their_own_scope_not_the_childs(shelf):
    seen = []

    class Books(library.BookViewSet):
        def get_queryset(self):
            seen.append((self.action, self.nested_action, str(self.access.scope)))
            return super().get_queryset()

    author, book, _, _ = shelf
    client = Client(library.create_app(library.build_router(books=Books))).authenticate(
        ["library.authors.read.any", "library.books.read.own", "library.reviews.read.any"],
        tenant="tenant-a", user="alice")
    assert client.get(reviews_of(author, book)).status_code == 200
    assert seen == [("retrieve", "list", "library.books.read.own")]


def test_the_opt_out_waives_parents_scopes_but_not_tenancy(shelf):
    author, book, _, _ = shelf
    AuthorFactory(tenant_id="tenant-b")
    client = Client(library.create_app(library.build_router(check_parent_scopes=False)))
    client.authenticate(["library.reviews.read.any"], tenant="tenant-a")
    assert client.get(reviews_of(author, book)).status_code == 200
    client.authenticate(["library.reviews.read.any"], tenant="tenant-b")
    assert client.get(reviews_of(author, book)).status_code == 404


def test_the_opt_out_is_only_for_nested_registrations():
    router = library.build_router()
    with pytest.raises(ImproperlyConfigured, match="only a nested registration"):
        router.register("more-authors", library.AuthorViewSet, basename="more",
                        check_parent_scopes=False)


# -- nested writes ---------------------------------------------------------------------------

BOOK_WRITER = ["library.authors.read.any", "library.books.read.any", "library.books.create",
               "library.books.update.any", "library.reviews.read.any"]


def test_nested_creates_need_the_childs_create_scope_and_run_its_hooks(client, shelf):
    author = shelf[0]
    body = {"title": "New", "reviews": [{"text": "Great", "comments": [{"text": "Agreed"}]}]}
    books = f"/api/authors/{author.id}/books"
    client.authenticate(BOOK_WRITER, tenant="tenant-a", user="carol")
    response = client.post(books, json=body)
    assert response.status_code == 403, response.text
    assert "library.reviews.create" in response.json()["detail"]
    assert not models.Book.objects.filter(title="New").exists()

    client.authenticate([*BOOK_WRITER, "library.reviews.create"], tenant="tenant-a", user="carol")
    response = client.post(books, json=body)
    assert response.status_code == 201, response.text
    review = models.Review.objects.get(text="Great")
    assert (review.book.created_by, review.created_by) == ("carol", "carol")  # perform_create ran
    assert review.comments.get().created_by == "carol"  # set_nested_server_owned_fields ran
    assert response.json()["reviews"][0]["created_by"] == "carol"


def test_a_put_cannot_delete_or_change_rows_the_child_route_would_not(client, shelf):
    author, book, review, _ = shelf
    path = f"/api/authors/{author.id}/books/{book.id}"
    client.authenticate(BOOK_WRITER, tenant="tenant-a", user="alice")
    response = client.put(path, json={"title": "Renamed", "reviews": []})  # would delete Bob's
    assert response.status_code == 403, response.text
    assert "library.reviews.delete.any" in response.json()["detail"]
    client.authenticate([*BOOK_WRITER, "library.reviews.update.own", "library.reviews.delete.any"],
                        tenant="tenant-a", user="alice")
    response = client.put(path, json={"title": "Renamed", "reviews": [{"id": review.id, "text": "Mine now"}]})
    assert response.status_code == 403, response.text
    assert response.json()["detail"] == f"You may not change review {review.id} (body.reviews.0)."
    assert models.Review.objects.get().text == "Bob liked it"
    assert models.Book.objects.get(pk=book.pk).title == book.title  # nothing half-written


def test_a_nested_list_shows_and_synchronises_what_the_childs_list_would(client, shelf):
    """Embedded reviews are those the reviews route lists for the caller; a body synchronises
    those and leaves the rest (others' reviews, with an `own` scope) as they are."""
    author, book, bobs, _ = shelf
    mine = ReviewFactory(book=book, created_by="alice", text="Alice's")
    path = f"/api/authors/{author.id}/books/{book.id}"
    own = [*BOOK_WRITER[:-1], "library.reviews.read.own", "library.reviews.update.own",
           "library.reviews.delete.any", "library.reviews.create"]
    client.authenticate(own, tenant="tenant-a", user="alice")
    shown = client.get(path).json()
    assert [r["id"] for r in shown["reviews"]] == [mine.id]  # as GET .../reviews shows Alice
    shown["reviews"][0]["text"] = "Alice's, edited"
    response = client.put(path, json=shown)  # what a GET returned goes back
    assert response.status_code == 200, response.text
    assert [r["text"] for r in response.json()["reviews"]] == ["Alice's, edited"]
    assert models.Review.objects.get(pk=bobs.pk).text == "Bob liked it"  # outside her view: kept
    response = client.put(path, json={"title": "T", "reviews": [{"id": bobs.id, "text": "Mine now"}]})
    assert response.status_code == 422  # not in her list: as if it were not there
    assert client.put(path, json={"title": "T", "reviews": []}).status_code == 200
    assert list(models.Review.objects.values_list("text", flat=True)) == ["Bob liked it"]
    client.authenticate(BOOK_WRITER[:-1], tenant="tenant-a", user="alice")  # no reviews scope
    assert client.get(path).json()["reviews"] == []


def test_a_put_without_the_list_leaves_it_and_one_with_rights_synchronises_it(client, shelf):
    author, book, review, _ = shelf
    path = f"/api/authors/{author.id}/books/{book.id}"
    client.authenticate(BOOK_WRITER, tenant="tenant-a", user="alice")
    response = client.put(path, json={"title": "Renamed"})
    assert response.status_code == 200, response.text
    assert [r["id"] for r in response.json()["reviews"]] == [review.id]  # not sent: untouched
    client.authenticate([*BOOK_WRITER, "library.reviews.update.any", "library.reviews.delete.any",
                         "library.reviews.create"], tenant="tenant-a", user="alice")
    response = client.put(path, json={"title": "Renamed", "reviews": [{"text": "Fresh"}]})
    assert response.status_code == 200, response.text
    assert [(r.text, r.created_by) for r in models.Review.objects.all()] == [("Fresh", "alice")]


def test_nested_validation_errors_point_into_the_body(client, shelf):
    author = shelf[0]
    client.authenticate([*BOOK_WRITER, "library.reviews.create"], tenant="tenant-a", user="carol")
    response = client.post(f"/api/authors/{author.id}/books",
                           json={"title": "T", "reviews": [{"text": "ok"}, {"text": "x" * 201}]})
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["body", "reviews", 1, "text"]


def test_a_child_route_without_create_lets_no_body_create_one(shelf):
    from djfapi import ReadOnlyModelViewSet, Router

    class ReadOnlyReviews(ReadOnlyModelViewSet):
        model = models.Review
        schemas = library.ReviewViewSet.schemas
        security, scopes = library.token, library.scopes("reviews")

    router = Router()
    router.register("authors", library.AuthorViewSet)
    router.register("books", library.BookViewSet, parent=library.AuthorViewSet)
    router.register("reviews", ReadOnlyReviews, parent=library.BookViewSet)
    client = Client(library.create_app(router)).authenticate(library.ALL_SCOPES, tenant="tenant-a")
    body = {"title": "T", "reviews": [{"text": "x"}]}
    response = client.post(f"/api/authors/{shelf[0].id}/books", json=body)
    assert response.status_code == 403
    assert response.json()["detail"] == "Creating reviews through this body is not allowed: the route of " \
                                         "reviews has no create."
    assert not models.Book.objects.filter(title="T").exists()


def test_an_ancestor_with_a_security_scheme_of_its_own_checks_the_token_too(shelf):
    from djfapi import Router
    from djfapi.permissions import JWTBearer
    from djfapi.permissions.jwt import INVALID_TOKEN

    class AudienceAuthors(library.AuthorViewSet):
        security = JWTBearer(audience="https://authors.example")

    router = Router()
    router.register("authors", AudienceAuthors)
    router.register("books", library.BookViewSet, parent=AudienceAuthors)
    client = Client(library.create_app(router))
    author, book, _, _ = shelf
    path = f"/api/authors/{author.id}/books/{book.id}"
    client.authenticate(READ_ANY, tenant="tenant-a")  # valid for the books' scheme, not the authors'
    response = client.get(path)
    assert response.status_code == 401
    assert response.json() == {"detail": INVALID_TOKEN}
    client.authenticate(READ_ANY, tenant="tenant-a", aud="https://authors.example")
    assert client.get(path).status_code == 200


# -- a selector of an inherited scope is about the parent's rows --------------------------------

def test_an_inherited_own_write_scope_reaches_only_the_callers_parents(secured_app):
    from tests.testapp.factories import EmployeeFactory, TeamFactory

    team = TeamFactory(department__company__tenant_id="tenant-a")
    company, department = team.department.company, team.department
    EmployeeFactory(company=company, user_id="owner", type="owner")
    scopes = ["business.companies.read.any", "business.companies.update.own"]
    base = f"/api/companies/{company.id}"
    mallory = Client(secured_app).authenticate(scopes, tenant="tenant-a", user="mallory")
    assert mallory.post(f"{base}/employees", json={"user_id": "mallory", "type": "owner"}).status_code == 404
    assert mallory.patch(f"{base}/departments/{department.id}", json={"name": "x"}).status_code == 404
    assert mallory.delete(f"{base}/departments/{department.id}/teams/{team.id}").status_code == 404
    assert mallory.get(f"{base}/departments/{department.id}/teams/{team.id}").status_code == 200  # read.any
    assert not models.Employee.objects.filter(user_id="mallory").exists()
    assert models.Team.objects.filter(pk=team.pk).exists()
    owner = Client(secured_app).authenticate(scopes, tenant="tenant-a", user="owner")
    assert owner.patch(f"{base}/departments/{department.id}", json={"name": "x"}).status_code == 200
    assert owner.delete(f"{base}/departments/{department.id}/teams/{team.id}").status_code == 204


def test_a_body_cannot_create_children_of_a_parent_the_caller_could_not_reach():
    from pydantic import BaseModel

    from djfapi import Router, Schemas
    from tests.testapp import secured

    class DepartmentIn(BaseModel):
        name: str

    class CompanyWithDepartments(BaseModel):
        name: str
        departments: list[DepartmentIn] = []

    class Companies(secured.CompanyViewSet):
        schemas = Schemas(get=secured.CompanyOut, create=CompanyWithDepartments, update=secured.CompanyUpdate)

    router = Router()
    router.register("companies", Companies)
    router.register("departments", secured.DepartmentViewSet, parent=Companies)
    client = Client(library.create_app(router)).authenticate(  # read.own: companies alice owns, none yet
        ["business.companies.create", "business.companies.read.own", "business.companies.update.own"],
        tenant="tenant-a", user="alice")
    response = client.post("/api/companies", json={"name": "New", "departments": [{"name": "Ops"}]})
    assert response.status_code == 403, response.text
    assert "the company is not one the caller could reach them through" in response.json()["detail"]
    assert not models.Company.objects.exists()
    assert client.post("/api/companies", json={"name": "New"}).status_code == 201


def test_a_row_listed_twice_in_a_body_is_422(client, shelf):
    author, book, review, _ = shelf
    client.authenticate([*BOOK_WRITER, "library.reviews.update.any"], tenant="tenant-a")
    response = client.put(f"/api/authors/{author.id}/books/{book.id}", json={
        "title": "T", "reviews": [{"id": review.id, "text": "one"}, {"id": review.id, "text": "two"}]})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "reviews", 1, "id"]
    assert models.Review.objects.get().text == "Bob liked it"


def test_a_patch_through_the_parent_changes_only_the_fields_each_nested_row_sends(client, shelf):
    author, book, review, _ = shelf
    review.stars = 5
    review.save()
    client.authenticate(library.ALL_SCOPES, tenant="tenant-a", user="bob")
    response = client.patch(f"/api/authors/{author.id}/books/{book.id}",
                            json={"reviews": [{"id": review.id, "text": "Bob loved it"}]})
    assert response.status_code == 200, response.text
    review.refresh_from_db()
    assert (review.text, review.stars) == ("Bob loved it", 5)  # stars not sent: kept, not reset to 3
    put = client.put(f"/api/authors/{author.id}/books/{book.id}",
                     json={"title": book.title, "reviews": [{"id": review.id, "text": "Bob loved it"}]})
    assert put.status_code == 200, put.text
    review.refresh_from_db()
    assert review.stars == 3  # a PUT writes every field, defaults included


def test_an_override_of_get_queryset_without_super_stays_within_the_parent_and_tenant():
    """DRF's way, ``return Review.objects.all()``, on a nested viewset: still the parent's rows
    of the caller's tenant only."""
    from fastapi import FastAPI

    class AllReviews(library.ReviewViewSet):
        def get_queryset(self):
            return models.Review.objects.all()

    router = library.Router()
    authors = router.register("authors", library.AuthorViewSet)
    books = router.register("books", library.BookViewSet, parent=authors.viewset)
    router.register("reviews", AllReviews, parent=books.viewset)
    app = FastAPI()
    app.include_router(router, prefix="/api")
    theirs = ReviewFactory(book=BookFactory(author=AuthorFactory(tenant_id="tenant-b")), text="Theirs")
    mine = AuthorFactory(tenant_id="tenant-a")
    my_book, other_book = BookFactory(author=mine), BookFactory(author=mine)
    ReviewFactory(book=other_book, text="Other book's")
    client = Client(app).authenticate(library.ALL_SCOPES, tenant="tenant-a", user="alice")
    own_path = f"/api/authors/{mine.id}/books/{my_book.id}/reviews"
    assert client.get(own_path).json()["items"] == []  # neither other books' nor other tenants'
    for method in ("get", "patch", "delete"):
        response = client.request(method, f"{own_path}/{theirs.id}", json={"text": "Mine now"})
        assert response.status_code == 404, (method, response.text)
    theirs.refresh_from_db()
    assert theirs.text == "Theirs"
