"""Route data: what ``router.register(...)`` recorded, and the routes bound from it.

:class:`Registration` is one ``register`` call, its parent resolved. :func:`build_routes` binds
its routes from the table :data:`MODEL_ROUTES` and the viewset's ``@action`` s, and each
:class:`BoundRoute` carries what is fixed for that route, worked out once when it is bound:
the scopes that grant it, its ancestors' lookups, what it answers (:class:`Answer`, read by
both OpenAPI and the renderer) and an ``@action``'s signature. The router above builds
endpoints from these; the code that serves a request reads them.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from starlette.responses import Response

from djfapi.exceptions import ImproperlyConfigured
from djfapi.inputs import BodyShape, body_shape
from djfapi.pagination import BasePagination, NoPagination, check_pagination
from djfapi.permissions.access import SAFE_METHODS, Scopes
from djfapi.permissions.base import ScopeSource
from djfapi.permissions.jwt import JWTBearer
from djfapi.permissions.users import UserLoader
from djfapi.schemas.fields import check_hideable, one_or_many
from djfapi.schemas.types import nested_model
from djfapi.viewsets.actions import (
    INSTANCE,
    RESERVED_PARAMETERS,
    ActionSignature,
    ExtraAction,
    extra_actions,
    read_signature,
)
from djfapi.viewsets.generic import GenericViewSet, declared_tenant_path
from djfapi.viewsets.plain import hand_written_actions, is_model_less

__all__ = ["MODEL_ROUTES", "AggregateResult", "Ancestor", "Answer", "BoundRoute", "ModelRoute",
           "Registration", "build_routes"]


@dataclass(frozen=True)
class ModelRoute:
    """One row of the route table: an action, its HTTP method, where it lives, what it answers."""

    action: str
    method: str
    detail: bool
    status_code: int
    suffix: str = ""  # after the collection or detail path


MODEL_ROUTES: tuple[ModelRoute, ...] = (
    ModelRoute("aggregate", "GET", detail=False, status_code=200, suffix="/aggregate/{function}/{field}"),
    ModelRoute("list", "GET", detail=False, status_code=200),
    ModelRoute("create", "POST", detail=False, status_code=201),
    ModelRoute("retrieve", "GET", detail=True, status_code=200),
    ModelRoute("update", "PUT", detail=True, status_code=200),
    ModelRoute("partial_update", "PATCH", detail=True, status_code=200),
    ModelRoute("destroy", "DELETE", detail=True, status_code=204),
)

# The model actions a nested body or a parent lookup runs as, with the method and kind of
# route that grants each: their scopes are worked out once per registration.
_GRANTED_ACTIONS = {"list": ("GET", False), "retrieve": ("GET", True), "create": ("POST", False),
                    "update": ("PUT", True), "destroy": ("DELETE", True)}


class AggregateResult(BaseModel):
    """The body of an aggregate: ``{"values": [{"value": ..., "<group>": ...}]}``."""

    values: list[dict[str, Any]]


@dataclass(frozen=True)
class Registration:
    """One ``router.register(...)`` call, its parent resolved."""

    prefix: str
    viewset: type[GenericViewSet]
    basename: str
    parent: Registration | None = field(default=None, repr=False)
    parent_lookup_field: str | None = None
    tags: tuple[str, ...] = ()
    security: JWTBearer | None = field(default=None, repr=False)  # the viewset's or inherited
    scopes: Scopes | None = None  # the viewset's, or the parent's as a child sees them
    check_parent_scopes: bool = True  # False: the documented opt-out of ancestors' scopes
    # Where ``scopes`` were declared when inherited (the nearest ancestor with Scopes of its
    # own): a selector of an inherited scope (`update.own`) is about that ancestor's rows.
    scopes_from: Registration | None = field(default=None, repr=False, compare=False)
    # Registrations nested directly below this one; the router appends them as they register.
    children: list[Registration] = field(default_factory=list, repr=False, compare=False, hash=False)
    user_loader: UserLoader | None = field(default=None, repr=False, compare=False)  # request.user

    def required_scopes(self, action: str, *, methods: Sequence[str] = ("GET",), detail: bool = True,
                        declared: tuple[str, ...] | None = None) -> tuple[str, ...] | None:
        """The scopes that grant ``action``: None when nothing grants it (with ``scopes``) or
        when no scope is asked for (without); ``()`` when any valid token does."""
        if self.scopes is None:
            return declared
        return self.scopes.for_action(action, methods=methods, detail=detail, declared=declared)

    @functools.cached_property
    def granting(self) -> dict[str, tuple[str, ...] | None]:
        """The scopes that grant each model action a request may run on this registration's
        rows without its own route (a parent lookup, a nested body, a nested list)."""
        return {action: self.required_scopes(action, methods=(method,), detail=detail)
                for action, (method, detail) in _GRANTED_ACTIONS.items()}

    @functools.cached_property
    def scope_source(self) -> ScopeSource | None:
        """Where the caller's scopes come from when not from the token (``DjangoModelPermissions``
        looks them up in Django); see :meth:`GenericViewSet.declared_scope_source`. Scopes
        inherited from a parent come from where the parent's do."""
        own = self.viewset.declared_scope_source()
        if own is None and self.scopes_from is not None:
            return self.scopes_from.scope_source
        return own

    @property
    def checks_scopes(self) -> bool:
        """Whether a caller must hold one of an action's scopes: scopes are declared and there
        is a token. Its own scopes are checked on the event loop; what a scope source grants,
        in the request's hop."""
        return self.scopes is not None and self.security is not None

    @functools.cached_property
    def tenancy_applies(self) -> bool:
        """Whether the viewset's rows are limited to the caller's tenant."""
        if is_model_less(self.viewset):
            return False
        return self.security is not None and declared_tenant_path(self.viewset) is not None

    def child_for(self, model: type, foreign_key: str) -> Registration | None:
        """The registration nested below this one for ``model`` by ``foreign_key``, if any."""
        return next((child for child in self.children if child.viewset.get_model() is model
                     and child.parent_lookup_field == foreign_key), None)

    @property
    def chain(self) -> tuple[Registration, ...]:
        """The registrations from the root down to this one."""
        return (*self.parent.chain, self) if self.parent else (self,)

    @property
    def collection_path(self) -> str:
        """``/companies/{company_id}/departments`` for a department under a company."""
        base = self.parent.detail_path if self.parent else ""
        return f"{base}/{self.prefix}"

    @property
    def detail_path(self) -> str:
        return f"{self.collection_path}/{{{self.viewset.get_lookup_url_kwarg()}}}"

    def path_names(self, *, detail: bool) -> tuple[str, ...]:
        """The path values of a route: each ancestor's, and on a detail route the row's own."""
        chain = self.chain if detail else self.chain[:-1]
        return tuple(link.viewset.get_lookup_url_kwarg() for link in chain)


@dataclass(frozen=True)
class Ancestor:
    """How one ancestor of a nested route is looked up: as a ``retrieve`` through its own
    registration, with its own security, scopes, permissions and tenancy."""

    registration: Registration
    scopes: tuple[str, ...] | None  # what grants retrieving it: None nothing, () any valid token
    checks_scopes: bool  # False: the child opted out, a scope source supplies scopes, or none declared
    # The route's own scopes, when they are this ancestor's, inherited (a department's writes
    # granted by `companies.update.own`): the row must be visible under them too.
    inherited_scopes: tuple[str, ...] | None = None

    def denial(self) -> str:
        """What a caller who may not read this ancestor is told (403)."""
        meta = self.registration.viewset.get_model()._meta
        if not self.scopes:
            return f"No scope grants reading the parent {meta.verbose_name} of this route."
        return (f"The token holds none of the scopes needed to read the parent {meta.verbose_name}: "
                f"{', '.join(self.scopes)}.")


@dataclass(frozen=True)
class Answer:
    """What a route answers, for OpenAPI and for the renderer alike.

    ``rows``: the schema a row is shown with (``get_response_schema()`` may narrow it), in a
    ``page`` on a list. An ``@action`` declaring no response shows a model instance as a row,
    anything else as plain JSON (``rows_only=False``); without ``rows`` the body is ``schema``
    or plain JSON."""

    status_code: int
    schema: Any = None  # the 2xx body as OpenAPI shows it; None: no body (204) or free JSON
    rows: Any = None
    page: type[BasePagination] | None = None
    rows_only: bool = True
    response_class: Any = None  # the Response class an @action returns (not JSON of a schema)


def _answer(viewset: type[GenericViewSet], action: str, status_code: int,
            signature: ActionSignature | None = None) -> Answer:
    if signature is not None:
        if isinstance(signature.response, type) and issubclass(signature.response, Response):
            return Answer(status_code, response_class=signature.response)
        if signature.response is INSTANCE:
            rows = viewset.declared_response_schema(action)
            return Answer(status_code, rows, rows=rows, rows_only=False)
        return Answer(status_code, signature.response)
    if action == "destroy":
        return Answer(status_code)
    if action == "aggregate":
        return Answer(status_code, AggregateResult)
    rows = viewset.declared_response_schema(action)
    if action == "list":
        page = check_pagination(viewset.declared_pagination_class(), viewset.__name__)
        return Answer(status_code, page.response_schema(rows), rows=rows, page=page)
    return Answer(status_code, rows, rows=rows)


def _checked(viewset: type[GenericViewSet], action: str, answer: Answer) -> Answer:
    """``answer``, once its schema can leave out the fields a caller may not see."""
    for schema in (answer.schema, answer.rows):
        if schema is not None:
            check_hideable(schema, f"{viewset.__name__}.{action}'s response")
    return answer


@dataclass(frozen=True)
class BoundRoute:
    """A route of one registration: a model action from the table, or an ``@action``; what is
    fixed for it is worked out by :func:`bind` when the router binds it."""

    registration: Registration
    action: str
    methods: tuple[str, ...]
    detail: bool
    answer: Answer
    required_scopes: tuple[str, ...] | None  # what grants it (see Registration.required_scopes)
    extra: ExtraAction | None = None
    signature: ActionSignature | None = None  # an @action's parameters and response
    suffix: str = ""

    @property
    def status_code(self) -> int:
        return self.answer.status_code

    @functools.cached_property
    def ancestors(self) -> tuple[Ancestor, ...]:
        """The registrations above this one, root first, each checked as a retrieve of its own."""
        opted_out = not self.registration.check_parent_scopes
        origin, granting = self.registration.scopes_from, self.required_scopes
        ancestors = []
        for link in self.registration.chain[:-1]:
            scopes = link.granting["retrieve"]
            inherited = granting if link is origin and granting and granting != scopes else None
            ancestors.append(Ancestor(link, scopes, checks_scopes=not opted_out and link.checks_scopes,
                                      inherited_scopes=inherited))
        return tuple(ancestors)

    @functools.cached_property
    def body_schema(self) -> Any:
        """The declared schema of a model action's body; None without one (``@action`` s
        declare their bodies as parameters)."""
        return self.registration.viewset.declared_schema(self.action) if self.extra is None else None

    @functools.cached_property
    def body_shape(self) -> BodyShape | None:
        """What a body of this route may hold (its write schema's fields, and the read schema's,
        ignored), or None when it takes no JSON object checked this way."""
        viewset = self.registration.viewset
        if self.signature is not None:
            bodies = [p.annotation for p in self.signature.parameters
                      if isinstance(p.annotation, type) and issubclass(p.annotation, BaseModel)]
            return body_shape(bodies[0], max_items=viewset.max_nested_items) if len(bodies) == 1 else None
        schema = nested_model(one_or_many(self.body_schema) or self.body_schema)  # create_multi: X | list[X]
        read = viewset.declared_response_schema("retrieve")
        return body_shape(schema[0], read, max_items=viewset.max_nested_items) if schema else None

    @functools.cached_property
    def writes(self) -> bool:
        """Whether the route changes data (any method but GET, HEAD and OPTIONS): it runs in a
        transaction, rendering included."""
        return any(method not in SAFE_METHODS for method in self.methods)

    @functools.cached_property
    def requires_tenant(self) -> bool:
        """Whether a token must name a tenant here: tenancy applies to a registration on the path."""
        return any(link.tenancy_applies for link in self.registration.chain)

    @property
    def path(self) -> str:
        registration = self.registration
        base = registration.detail_path if self.detail else registration.collection_path
        return f"{base}/{self.extra.path}" if self.extra and self.extra.path else base + self.suffix

    @property
    def name(self) -> str:
        return f"{self.registration.basename}-{self.extra.url_name if self.extra else self.action}"

    @property
    def operation_id(self) -> str:
        suffix = f"_{self.methods[0].lower()}" if self.extra and len(self.extra.methods) > 1 else ""
        return f"{self.registration.basename}_{self.action}{suffix}".replace("-", "_")

    @property
    def summary(self) -> str:
        doc = inspect.getdoc(self.extra.func) if self.extra else None
        if doc:
            return doc.splitlines()[0]
        if is_model_less(self.registration.viewset):
            return f"{self.action.replace('_', ' ').capitalize()} {self.registration.prefix}"
        meta = self.registration.viewset.get_model()._meta
        noun = meta.verbose_name if self.detail or self.action == "create" else meta.verbose_name_plural
        return f"{self.action.replace('_', ' ').capitalize()} {noun}"


def bind(registration: Registration, route: ModelRoute) -> BoundRoute:
    """The route of a model action of ``registration``."""
    viewset = registration.viewset
    methods = (route.method,)
    return BoundRoute(registration, route.action, methods, route.detail,
                      _checked(viewset, route.action, _answer(viewset, route.action, route.status_code)),
                      registration.required_scopes(route.action, methods=methods, detail=route.detail),
                      suffix=route.suffix)


def bind_extra(registration: Registration, extra: ExtraAction, status_code: int = 200) -> list[BoundRoute]:
    """The routes of an ``@action``: one a method, so each is one operation in OpenAPI;
    ``status_code`` what it answers when it returns something (201 for a ViewSet's create)."""
    viewset = registration.viewset
    taken = RESERVED_PARAMETERS | set(registration.path_names(detail=extra.detail))
    signature = read_signature(viewset, extra, taken)
    status = signature.status_code if signature.status_code != 200 else status_code
    answer = _checked(viewset, extra.name, _paged_answer(viewset, extra, signature) if extra.paginated
                      else _answer(viewset, extra.name, status, signature))
    return [BoundRoute(registration, extra.name, (method,), extra.detail, answer,
                       registration.required_scopes(extra.name, methods=(method,), detail=extra.detail,
                                                    declared=extra.scopes),
                       extra, signature)
            for method in extra.methods]


def _paged_answer(viewset: type[GenericViewSet], extra: ExtraAction, signature: ActionSignature) -> Answer:
    """A paginated action's answer: a page of its ``response_model`` (the list's rows by
    default), of its ``pagination_class`` override or the viewset's."""
    rows = signature.response
    if rows is INSTANCE or rows is None:
        rows = viewset.declared_response_schema("list")
    if not (isinstance(rows, type) and issubclass(rows, BaseModel)):
        raise ImproperlyConfigured(f"{viewset.__name__}.{extra.name} is paginated: give it "
                                   "response_model=<the pydantic schema of one row>.")
    page = check_pagination(extra_pagination(viewset, extra), f"{viewset.__name__}.{extra.name}")
    return Answer(200, page.response_schema(rows), rows=rows, page=page)


def extra_pagination(viewset: type[GenericViewSet], extra: ExtraAction) -> type[BasePagination]:
    """The pagination of a paginated ``@action``: its ``pagination_class`` override or the viewset's."""
    if "pagination_class" in extra.overrides:
        return extra.overrides["pagination_class"] or NoPagination
    return viewset.declared_pagination_class()


def available_model_routes(viewset: type[GenericViewSet]) -> list[ModelRoute]:
    """The rows of :data:`MODEL_ROUTES` whose action ``viewset`` has, with the schemas it needs."""
    routes = []
    for route in MODEL_ROUTES:
        if not callable(getattr(viewset, route.action, None)):
            continue
        if route.action in ("list", "retrieve"):
            has_schema = viewset.declared_response_schema(route.action) is not None
        elif route.action == "destroy":
            has_schema = True
        elif route.action == "aggregate":
            has_schema = bool(viewset.aggregate_fields)
        else:
            has_schema = viewset.declared_schema(route.action) is not None
        if has_schema:
            routes.append(route)
    return routes


def build_routes(registration: Registration) -> list[BoundRoute]:
    """Every route of ``registration``; list-level ``@action`` s first, so ``/summary`` wins
    over ``/{id}``."""
    actions = extra_actions(registration.viewset)
    if is_model_less(registration.viewset):
        written = hand_written_actions(registration.viewset)  # type: ignore[arg-type]
        bind_all = functools.partial(bind_extra, registration)
        return [*(bound for extra in actions if not extra.detail for bound in bind_all(extra)),
                *(bound for extra, status in written for bound in bind_all(extra, status)),
                *(bound for extra in actions if extra.detail for bound in bind_all(extra))]
    model_routes = available_model_routes(registration.viewset)
    return [
        *(route for extra in actions if not extra.detail for route in bind_extra(registration, extra)),
        *(bind(registration, route) for route in model_routes if not route.detail),
        *(bind(registration, route) for route in model_routes if route.detail),
        *(route for extra in actions if extra.detail for route in bind_extra(registration, extra)),
    ]
