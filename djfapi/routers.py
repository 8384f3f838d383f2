"""``Router``: registers viewsets under prefixes, nested to any depth, and binds their routes.

::

    router = Router()
    router.register("companies", CompanyViewSet)
    router.register("departments", DepartmentViewSet, parent=CompanyViewSet)
    app.include_router(router, prefix="/api")

``register`` records a :class:`Registration` (checked then and there), :func:`build_routes`
turns it into :class:`BoundRoute` s from the table :data:`MODEL_ROUTES` plus the viewset's
``@action`` s, and each is added as a FastAPI route built by :mod:`djfapi.endpoints`.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter

from djfapi import endpoints
from djfapi.exceptions import ImproperlyConfigured
from djfapi.filters import resolve_field
from djfapi.permissions.access import Scopes
from djfapi.permissions.classes import supplies_scopes
from djfapi.permissions.jwt import JWTBearer
from djfapi.schemas import check_write_schema
from djfapi.viewset_route import ViewSetRoute
from djfapi.viewsets.actions import ExtraAction, extra_actions
from djfapi.viewsets.drf import check_drf_attributes
from djfapi.viewsets.generic import GenericViewSet, declared_tenant_path

__all__ = ["MODEL_ROUTES", "Ancestor", "BoundRoute", "ModelRoute", "Registration", "Router", "build_routes"]


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

    def required_scopes(self, action: str, *, methods: Sequence[str] = ("GET",), detail: bool = True,
                        declared: tuple[str, ...] | None = None) -> tuple[str, ...] | None:
        """The scopes that grant ``action``: None when nothing grants it (with ``scopes``) or
        when no scope is asked for (without); ``()`` when any valid token does."""
        if self.scopes is None:
            return declared
        return self.scopes.for_action(action, methods=methods, detail=detail, declared=declared)

    @property
    def checks_scopes_itself(self) -> bool:
        """Whether a permission of the viewset looks the caller's scopes up (DjangoModelPermissions)."""
        return supplies_scopes(self.viewset.permission_classes)

    @property
    def tenancy_applies(self) -> bool:
        """Whether the viewset's rows are limited to the caller's tenant."""
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


@dataclass(frozen=True)
class Ancestor:
    """How one ancestor of a nested route is looked up: as a ``retrieve`` through its own
    registration, with its own security, scopes, permissions and tenancy."""

    registration: Registration
    scopes: tuple[str, ...] | None  # what grants retrieving it: None nothing, () any valid token
    checks_scopes: bool  # False: the child opted out, a permission supplies scopes, or none declared
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
class BoundRoute:
    """A route of one registration: a model action from the table, or an ``@action``."""

    registration: Registration
    action: str
    methods: tuple[str, ...]
    detail: bool
    status_code: int
    extra: ExtraAction | None = None
    suffix: str = ""

    @functools.cached_property
    def required_scopes(self) -> tuple[str, ...] | None:
        """The scopes that grant this route (see :meth:`Registration.required_scopes`)."""
        return self.registration.required_scopes(
            self.action, methods=self.methods, detail=self.detail,
            declared=self.extra.scopes if self.extra else None)

    @functools.cached_property
    def ancestors(self) -> tuple[Ancestor, ...]:
        """The registrations above this one, root first, each checked as a retrieve of its own."""
        opted_out = not self.registration.check_parent_scopes
        origin, granting = self.registration.scopes_from, self.required_scopes
        ancestors = []
        for link in self.registration.chain[:-1]:
            scopes = link.required_scopes("retrieve")
            inherited = granting if link is origin and granting and granting != scopes else None
            ancestors.append(Ancestor(link, scopes, checks_scopes=not opted_out and link.scopes is not None
                                      and link.security is not None and not link.checks_scopes_itself,
                                      inherited_scopes=inherited))
        return tuple(ancestors)

    @property
    def writes(self) -> bool:
        """Whether the route changes data (any method but GET, HEAD and OPTIONS): it runs in a
        transaction, rendering included."""
        return any(method not in ("GET", "HEAD", "OPTIONS") for method in self.methods)

    @functools.cached_property
    def requires_tenant(self) -> bool:
        """Whether a token must name a tenant here: tenancy applies to a registration on the path."""
        return any(link.tenancy_applies for link in self.registration.chain)

    @property
    def path(self) -> str:
        registration = self.registration
        base = registration.detail_path if self.detail else registration.collection_path
        return f"{base}/{self.extra.path}" if self.extra else base + self.suffix

    @property
    def name(self) -> str:
        return f"{self.registration.basename}-{self.action}"

    @property
    def operation_id(self) -> str:
        suffix = f"_{self.methods[0].lower()}" if self.extra and len(self.extra.methods) > 1 else ""
        return f"{self.registration.basename}_{self.action}{suffix}".replace("-", "_")

    @property
    def summary(self) -> str:
        meta = self.registration.viewset.get_model()._meta
        noun = meta.verbose_name if self.detail or self.action == "create" else meta.verbose_name_plural
        doc = inspect.getdoc(self.extra.func) if self.extra else None
        if doc:
            return doc.splitlines()[0]
        return f"{self.action.replace('_', ' ').capitalize()} {noun}"


def available_model_routes(viewset: type[GenericViewSet]) -> list[ModelRoute]:
    """The rows of :data:`MODEL_ROUTES` whose action ``viewset`` has, with the schemas it needs."""
    routes = []
    for route in MODEL_ROUTES:
        if not callable(getattr(viewset, route.action, None)):
            continue
        if route.action in ("list", "retrieve"):
            has_schema = viewset.get_response_schema(route.action) is not None
        elif route.action == "destroy":
            has_schema = True
        elif route.action == "aggregate":
            has_schema = bool(viewset.aggregate_fields)
        else:
            has_schema = viewset.get_schema(route.action) is not None
        if has_schema:
            routes.append(route)
    return routes


def build_routes(registration: Registration) -> list[BoundRoute]:
    """Every route of ``registration``; list-level ``@action`` s first, so ``/summary`` wins
    over ``/{id}``."""
    viewset = registration.viewset
    model_routes = available_model_routes(viewset)
    actions = extra_actions(viewset)

    def bind(route: ModelRoute) -> BoundRoute:
        return BoundRoute(registration, route.action, (route.method,), route.detail, route.status_code,
                          suffix=route.suffix)

    def bind_extra(extra: ExtraAction) -> list[BoundRoute]:  # one route a method: one operation each
        routes = [BoundRoute(registration, extra.name, (method,), extra.detail, 200, extra)
                  for method in extra.methods]
        return [dataclasses.replace(r, status_code=endpoints.action_status_code(r)) for r in routes]

    return [
        *(route for extra in actions if not extra.detail for route in bind_extra(extra)),
        *(bind(route) for route in model_routes if not route.detail),
        *(bind(route) for route in model_routes if route.detail),
        *(route for extra in actions if extra.detail for route in bind_extra(extra)),
    ]


class Router(APIRouter):
    """A FastAPI ``APIRouter`` that viewsets are registered on."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("route_class", ViewSetRoute)
        super().__init__(*args, **kwargs)
        self.registrations: list[Registration] = []

    def register(
        self,
        prefix: str,
        viewset: type[GenericViewSet],
        *,
        parent: type[GenericViewSet] | str | None = None,
        basename: str | None = None,
        tags: Sequence[str] | None = None,
        check_parent_scopes: bool = True,
    ) -> Registration:
        """Record ``viewset`` under ``prefix`` (below ``parent``'s detail path) and add its routes.

        ``parent`` is a viewset class registered on this router before, or its basename. Each
        ancestor is looked up as a ``retrieve`` of its own, so a caller needs its read scopes;
        ``check_parent_scopes=False`` waives the ancestors' scopes (their querysets, tenancy and
        permissions still apply) for a child meant to be readable without them.
        """
        registration = self._record(prefix, viewset, parent, basename, tags, check_parent_scopes)
        for route in build_routes(registration):
            self.add_api_route(
                route.path,
                endpoints.build_endpoint(route),
                methods=list(route.methods),
                status_code=route.status_code,
                response_model=endpoints.documented_response_model(route),
                responses=endpoints.error_responses(route),
                name=route.name,
                operation_id=route.operation_id,
                summary=route.summary,
                description=endpoints.description(route),
                tags=list(registration.tags),
            )
            added = self.routes[-1]
            if isinstance(added, ViewSetRoute):
                added.max_items = registration.viewset.max_nested_items
                added.security = registration.security
        self._record_path_methods()
        return registration

    def _record_path_methods(self) -> None:
        """Tell each route every method served at its path, for the ``Allow`` header of a 405."""
        served: dict[str, set[str]] = {}
        for route in self.routes:
            if isinstance(route, ViewSetRoute):
                served.setdefault(route.path, set()).update(route.methods or ())
        for route in self.routes:
            if isinstance(route, ViewSetRoute):
                route.path_methods = frozenset(served[route.path])

    def _record(
        self,
        prefix: str,
        viewset: type[GenericViewSet],
        parent: type[GenericViewSet] | str | None,
        basename: str | None,
        tags: Sequence[str] | None,
        check_parent_scopes: bool,
    ) -> Registration:
        if not (isinstance(viewset, type) and issubclass(viewset, GenericViewSet)):
            raise ImproperlyConfigured(
                f"router.register({prefix!r}, {viewset!r}): the second argument must be a "
                "GenericViewSet subclass such as a ModelViewSet."
            )
        check_drf_attributes(viewset)
        model = viewset.get_model()
        prefix = prefix.strip("/")
        if not prefix or "{" in prefix:
            raise ImproperlyConfigured(
                f"router.register({prefix!r}, {viewset.__name__}): the prefix must be a plain "
                "path such as 'companies'; nesting is declared with parent=."
            )
        parent_registration = self._find_parent(viewset, parent) if parent is not None else None
        security, scopes = viewset.get_security(), viewset.get_scopes()
        scopes_from: Registration | None = None
        if parent_registration is not None:
            basename = basename or f"{parent_registration.basename}-{prefix}"
            parent_lookup_field = viewset.find_parent_lookup_field(
                parent_registration.viewset.get_model()
            )
            if security is None and scopes is None and parent_registration.scopes is not None:
                scopes = parent_registration.scopes.for_child()
                scopes_from = parent_registration.scopes_from or parent_registration
            security = security or parent_registration.security
        else:
            basename = basename or prefix
            parent_lookup_field = None
            if not check_parent_scopes:
                raise ImproperlyConfigured(
                    f"router.register({prefix!r}, {viewset.__name__}, check_parent_scopes=False): "
                    "only a nested registration (parent=...) has parents' scopes to waive."
                )
        if scopes is not None and security is None:
            raise ImproperlyConfigured(
                f"{viewset.__name__} sets scopes but no security: set "
                f"{viewset.__name__}.security = JWTBearer(...) so there is a token to read them from."
            )
        if any(existing.basename == basename for existing in self.registrations):
            raise ImproperlyConfigured(
                f"router.register({prefix!r}, {viewset.__name__}): basename {basename!r} is "
                f"registered already; pass basename='...' to tell the two apart."
            )
        registration = Registration(
            prefix, viewset, basename, parent_registration, parent_lookup_field,
            tuple(tags) if tags is not None else (prefix,), security, scopes, check_parent_scopes,
            scopes_from,
        )
        self._check(registration, model)
        self.registrations.append(registration)
        if parent_registration is not None:
            parent_registration.children.append(registration)
        return registration

    def _find_parent(
        self, viewset: type[GenericViewSet], parent: type[GenericViewSet] | str
    ) -> Registration:
        found = [
            registration
            for registration in self.registrations
            if parent in (registration.viewset, registration.basename)
        ]
        name = parent if isinstance(parent, str) else parent.__name__
        if not found:
            raise ImproperlyConfigured(
                f"{viewset.__name__} is registered with parent={name}, which is not registered "
                f"on this router yet; register {name} first."
            )
        if len(found) > 1:
            raise ImproperlyConfigured(
                f"{viewset.__name__} is registered with parent={name}, which is registered "
                f"{len(found)} times ({[r.basename for r in found]}); pass the basename as parent."
            )
        return found[0]

    def _check(self, registration: Registration, model: type) -> None:
        viewset = registration.viewset
        kwargs = [r.viewset.get_lookup_url_kwarg() for r in registration.chain]
        if len(set(kwargs)) != len(kwargs):
            raise ImproperlyConfigured(
                f"{viewset.__name__}: the path {registration.detail_path} names "
                f"{kwargs[-1]!r} twice; set {viewset.__name__}.lookup_url_kwarg to another name."
            )
        viewset.get_lookup_model_field()
        viewset.get_filterset(), viewset.get_search(), viewset.get_ordering()  # field names checked
        for path in (*viewset.aggregate_fields, *viewset.aggregate_group_by):
            resolve_field(model, path)
        for hook in ("get_schema", "get_response_schema", "get_lookup_url_kwarg", "get_pagination_class",
                     "get_security", "get_scopes", "get_model"):
            if not inspect.ismethod(getattr(viewset, hook)):
                raise ImproperlyConfigured(
                    f"{viewset.__name__}.{hook} must stay a classmethod: routes and OpenAPI are "
                    f"built from it once, at registration. Decorate it with @classmethod."
                )
        parent = registration.parent
        if parent is not None and any(
            extra.detail and extra.path == registration.prefix for extra in extra_actions(parent.viewset)
        ):
            raise ImproperlyConfigured(
                f"{parent.viewset.__name__} has a detail @action at path {registration.prefix!r}, "
                f"which the nested {viewset.__name__} would hide or be hidden by; rename one."
            )
        routes = build_routes(registration)
        for action in ("create", "update"):
            schema = getattr(viewset.schemas, action)
            if schema is None or not callable(getattr(viewset, action, None)):
                continue
            check_write_schema(model, schema, f"{viewset.__name__}.schemas.{action}")
            if viewset.get_response_schema(action) is None:
                raise ImproperlyConfigured(
                    f"{viewset.__name__}.schemas has {action}= but no get=; the {action} "
                    "response is answered with the get schema, so set Schemas(get=...)."
                )
        for route in routes:
            if route.extra is not None:
                endpoints.check_extra_action(route)
        if not routes:
            raise ImproperlyConfigured(
                f"{viewset.__name__} has no routes: give its schemas a get=, create= or "
                "update=, or add an @action."
            )
