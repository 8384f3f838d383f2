"""``DjangoRouterSchema``: djfapi 0.0.x's declarative routes, built on viewsets (once at
``djfapi.routing.django``).

::

    router = DjangoRouterSchema(
        name="companies", model=models.Company,
        get=schemas.Company, create=schemas.CompanyCreate, update=schemas.CompanyUpdate,
        security=transaction_token,
        security_scopes=SecurityScopes(get=[...], post=[...], patch=[...], delete=[...]),
        objects_filter=company_objects_filter,
        children=[DjangoRouterSchema(name="departments", model=models.CompanyDepartment, ...)],
    )
    app.include_router(router.router)

Each node becomes a generated ``ModelViewSet`` registered on a :class:`~djfapi.Router`, so
signalling, tenancy, errors and OpenAPI are the viewsets'. Paths are 0.0.x's:
``/companies/{company_id}/departments/{department_id}/teams/{team_id}``, each id named after the
model without its parent's prefix.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from enum import Enum
from typing import Any, cast

import pydantic_core
from django.db import models
from django.db.models import Q, QuerySet
from fastapi import Query, Request, Response, Security
from pydantic import BaseModel

from djfapi import GenericViewSet, Router, Schemas, request_signalling
from djfapi.compat.routing import Method, SecurityScopes
from djfapi.endpoints import in_hop, path_parameters
from djfapi.pagination import MAX_OFFSET, BasePagination
from djfapi.permissions import JWTBearer, Scopes
from djfapi.schemas.fields import field_scopes, orm_name
from djfapi.viewsets import mixins

__all__ = ["DjangoRouterSchema", "Method", "SecurityScopes"]


class DjangoRouterSchema:
    """One 0.0.x route node and its ``children``; ``.router`` is the FastAPI router to include."""

    def __init__(
        self,
        *,
        name: str,
        model: type[models.Model],
        get: type[BaseModel],
        create: type[BaseModel] | None = None,
        update: type[BaseModel] | None = None,
        list: type[BaseModel] | bool | None = None,
        get_endpoint: bool = True,
        delete: bool = True,
        create_multi: bool = False,
        children: Sequence[DjangoRouterSchema] = (),
        security: JWTBearer | None = None,
        security_scopes: Scopes | None = None,
        objects_filter: Callable[[Any], Q] | None = None,
        delete_status: Any = None,
        pagination_options: dict[str, Any] | None = None,
        cache_control: Any = None,
        aggregate_fields: type[Enum] | Sequence[str] | bool | None = None,
        aggregate_group_by: type[Enum] | Sequence[str] | None = None,
    ) -> None:
        self.name, self.model, self.get, self.create, self.update = name, model, get, create, update
        self.list, self.get_endpoint, self.delete = list, get_endpoint, delete
        self.create_multi = create_multi
        self.children = tuple(children)
        self.parent: DjangoRouterSchema | None = None
        for child in self.children:
            child.parent = self
        self.security, self.security_scopes, self.objects_filter = security, security_scopes, objects_filter
        self.delete_status = delete_status
        self.pagination_options = dict(pagination_options or {})
        self.cache_control = getattr(cache_control, "value", cache_control)
        self.aggregate_fields, self.aggregate_group_by = aggregate_fields, aggregate_group_by
        self._router: Router | None = None

    @property
    def name_singular(self) -> str:
        return self.model.__name__.lower()

    @property
    def id_field(self) -> str:
        """The path value naming one row: the model's name without its parent's, plus ``_id``."""
        name = self.name_singular
        if self.parent is not None:
            name = name.removeprefix(self.parent.name_singular)
        return f"{name}_id"

    @property
    def router(self) -> Router:
        """The router with this node's viewset and its children's registered (built once)."""
        if self._router is None:
            root = self
            while root.parent is not None:
                root = root.parent
            root._router = Router()
            root._register(root._router)
            self._router = root._router
        return self._router

    def _register(self, router: Router) -> None:
        parent = self.parent.viewset if self.parent is not None else None
        basename = "-".join(node.name for node in self._chain())
        router.register(self.name, self.viewset, parent=parent, basename=basename)
        for child in self.children:
            child._register(router)

    def _chain(self) -> list[DjangoRouterSchema]:
        return [*(self.parent._chain() if self.parent else []), self]

    def _effective_security(self) -> JWTBearer | None:
        return self.security or (self.parent._effective_security() if self.parent else None)

    @property
    def viewset(self) -> type[GenericViewSet]:
        """The generated viewset of this node (made once)."""
        if "_viewset" not in self.__dict__:
            self.__dict__["_viewset"] = build_viewset(self)
        return cast(type[GenericViewSet], self.__dict__["_viewset"])

    def endpoint(self, method: Method | str, signature: Sequence[inspect.Parameter] = ()
                 ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Decorate a hand-written endpoint with this node's signature: its path ids (the
        node's own unless ``method`` is list, aggregate or post), the token with the method's
        scopes as ``access``, the ``signature`` given and the function's own parameters. The
        function runs in the request's one signalled threadpool hop; its result is JSON."""
        return lambda func: hand_written_endpoint(self, Method(method), tuple(signature), func)


# -- the generated viewset ---------------------------------------------------------------------

class LegacyPagination(BasePagination):
    """0.0.x's ``?limit=&offset=`` answering ``{"items": [...]}`` (limit defaults to ``max_limit``)."""

    max_limit = 1000
    list_schema: type[BaseModel] | None = None

    def __init__(self, limit: int | None = None, offset: int = 0) -> None:
        self.limit, self.offset = limit or self.max_limit, offset

    @classmethod
    def dependency(cls) -> Callable[..., Any]:
        async def pagination(limit: int | None = Query(None, ge=1, le=cls.max_limit),
                             offset: int = Query(0, ge=0, le=MAX_OFFSET)) -> BasePagination:
            return cls(limit, offset)
        return pagination

    def paginate_queryset(self, queryset: QuerySet[Any]) -> Sequence[Any]:
        return list(queryset[self.offset : self.offset + self.limit])

    @classmethod
    def response_schema(cls, item: type[BaseModel]) -> type[BaseModel]:
        return cls.list_schema or super().response_schema(item)


class CreateMultiMixin(mixins.CreateModelMixin):
    """``create_multi``: a list body creates several rows in one transaction."""

    @classmethod
    def declared_schema(cls, action: str) -> Any:
        schema = super().declared_schema(action)
        return schema | list[schema] if action == "create" and schema is not None else schema  # type: ignore[valid-type]

    @classmethod
    def declared_response_schema(cls, action: str) -> Any:
        schema = super().declared_response_schema(action)
        return schema | list[schema] if action == "create" and schema is not None else schema  # type: ignore[valid-type]

    def create(self, data: Any) -> Any:
        if not isinstance(data, list):
            return super().create(data)
        with self.atomic():
            return [super(CreateMultiMixin, self).create(item) for item in data]


class ObjectsFilterMixin(GenericViewSet):
    """Applies a 0.0.x ``objects_filter(access) -> Q`` to every queryset of the viewset."""

    objects_filter: Any = None

    def get_queryset(self) -> QuerySet[Any]:
        queryset = super().get_queryset()
        if self.objects_filter is None or self.access is None:
            return queryset
        return queryset.filter(type(self).objects_filter(self.access)).distinct()


def build_viewset(node: DjangoRouterSchema) -> type[GenericViewSet]:
    """A viewset class with the actions and options ``node`` asks for."""
    viewset = cast(type[GenericViewSet],
                   type(f"{node.model.__name__}ViewSet", _action_mixins(node), _options(node)))
    # Tenancy, not the client, decides the tenant field, so a client neither filters nor
    # orders by it. Which field that is only the built class can say (``tenant_field`` is
    # inherited, from GenericViewSet or from ObjectsFilterMixin when one is set there), so
    # the two lists are set on it here, once, before it is registered.
    # Nor by a field the get schema shows only to some scopes: filtering by it would tell
    # the others what it holds.
    scoped = {orm_name(name, info) for name, info in node.get.model_fields.items() if field_scopes(info)}
    own_fields = [f.name for f in node.model._meta.concrete_fields
                  if not f.is_relation and f.name != viewset.tenant_field and f.name not in scoped]
    parent_model = node.parent.model if node.parent else None
    foreign_keys = [f.name for f in node.model._meta.concrete_fields
                    if f.many_to_one and f.related_model is not parent_model]
    viewset.filter_fields = [*own_fields, *foreign_keys]
    viewset.ordering_fields = own_fields
    return viewset


def _action_mixins(node: DjangoRouterSchema) -> tuple[type, ...]:
    """The mixins of the actions ``node`` has, then :class:`ObjectsFilterMixin`."""
    bases: list[type] = []
    if node.list is not False:
        bases.append(mixins.ListModelMixin)
    if node.create is not None:
        bases.append(CreateMultiMixin if node.create_multi else mixins.CreateModelMixin)
    if node.get_endpoint:
        bases.append(mixins.RetrieveModelMixin)
    if node.update is not None:
        bases.append(mixins.UpdateModelMixin)
    if node.delete:
        bases.append(mixins.DestroyModelMixin)
    if node.aggregate_fields is not False:
        bases.append(mixins.AggregateModelMixin)
    return (*bases, ObjectsFilterMixin)


def _options(node: DjangoRouterSchema) -> dict[str, Any]:
    """The class attributes of ``node``'s viewset but its filter and ordering fields."""
    pagination = type(f"{node.model.__name__}Pagination", (LegacyPagination,), {
        "max_limit": node.pagination_options.get("max_limit", LegacyPagination.max_limit),
        "list_schema": node.list if isinstance(node.list, type) else None,
    })
    parent_model = node.parent.model if node.parent else None
    has_own_scopes = node.security_scopes is not None
    return {
        "__module__": __name__,
        "model": node.model,
        "schemas": Schemas(get=node.get, create=node.create, update=node.update),
        "lookup_url_kwarg": node.id_field,
        "security": node.security or (node._effective_security() if has_own_scopes else None),
        "scopes": node.security_scopes,
        "objects_filter": staticmethod(node.objects_filter) if node.objects_filter else None,
        "pagination_class": pagination,
        "ordering": list(node.pagination_options.get("default_order_by", [])),
        "delete_status": node.delete_status,
        "cache_control": node.cache_control,
        "aggregate_fields": _names(node.aggregate_fields) or _numeric_fields(node.model),
        "aggregate_group_by": _names(node.aggregate_group_by) or _group_fields(node.model, parent_model),
    }


def _names(value: Any) -> list[str]:
    """Field names from a list or from 0.0.x's Enum of them (``'*'`` counts rows: the pk)."""
    if isinstance(value, type) and issubclass(value, Enum):
        return [("pk" if member.value == "*" else str(member.value)) for member in value]
    return list(value) if isinstance(value, (list, tuple)) else []


def _numeric_fields(model: type[models.Model]) -> list[str]:
    numeric = (models.IntegerField, models.FloatField, models.DecimalField)
    return [f.name for f in model._meta.concrete_fields if isinstance(f, numeric) and not f.is_relation]


def _group_fields(model: type[models.Model], parent_model: Any) -> list[str]:
    fields: list[str] = []
    for field in model._meta.concrete_fields:
        if field.choices or (field.many_to_one and field.related_model is not parent_model):
            fields.append(field.name)
        elif isinstance(field, (models.DateField, models.DateTimeField)):
            fields += [f"{field.name}__year", f"{field.name}__month"]
    return fields


# -- hand-written endpoints --------------------------------------------------------------------

def hand_written_endpoint(node: DjangoRouterSchema, method: Method, signature: tuple[inspect.Parameter, ...],
                          func: Callable[..., Any]) -> Callable[..., Any]:
    """``func`` as an async endpoint with ``node``'s path ids and security, run in one hop."""
    registration = next(r for r in node.router.registrations if r.viewset is node.viewset)
    keyword = inspect.Parameter.KEYWORD_ONLY
    parameters = [inspect.Parameter("request", keyword, annotation=Request),
                  *path_parameters(registration, detail=method.detail), *signature]
    security = registration.security
    if security is not None:
        scopes = registration.scopes.for_action(method.action, methods=(method.http_method,),
                                                detail=method.detail) if registration.scopes else None
        parameters.append(inspect.Parameter("access", keyword, annotation=Any,
                                            default=Security(security, scopes=list(scopes or ()))))
    own = [p.replace(kind=keyword) for p in inspect.signature(func).parameters.values()
           if p.name not in {q.name for q in parameters}]
    parameters.extend(own)
    accepted = set(inspect.signature(func).parameters)

    def run(values: dict[str, Any]) -> bytes:
        with request_signalling():
            return pydantic_core.to_json(func(**{k: v for k, v in values.items() if k in accepted}))

    async def endpoint(**values: Any) -> Response:
        return Response(await in_hop(run, values), media_type="application/json")

    endpoint.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    endpoint.__name__ = func.__name__
    endpoint.__doc__ = func.__doc__
    return endpoint
