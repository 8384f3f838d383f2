"""``Router``: registers viewsets under prefixes, nested to any depth, and binds their routes.

::

    router = Router()
    router.register("companies", CompanyViewSet)
    router.register("departments", DepartmentViewSet, parent=CompanyViewSet)
    app.include_router(router, prefix="/api")

``register`` records a :class:`~djfapi.routes.Registration` (checked then and there),
:func:`~djfapi.routes.build_routes` binds its routes, and each is added as a FastAPI route
built by :mod:`djfapi.endpoints`, documented by :mod:`djfapi.openapi`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

from fastapi import APIRouter, Request

from djfapi.conf import api_setting
from djfapi.endpoints import build_endpoint
from djfapi.exceptions import ImproperlyConfigured
from djfapi.filters import resolve_field
from djfapi.hosts import checked_url
from djfapi.openapi import description, error_responses, form_openapi, route_form
from djfapi.permissions.base import check_permission_classes
from djfapi.permissions.users import loader_of
from djfapi.routes import MODEL_ROUTES, Ancestor, BoundRoute, ModelRoute, Registration, build_routes
from djfapi.schemas import check_write_schema
from djfapi.tenancy import TENANT_DEPTH, farther_tenant_path
from djfapi.throttling import check_throttle_classes
from djfapi.viewset_route import ViewSetRoute
from djfapi.viewsets.actions import extra_actions
from djfapi.viewsets.declared import check_hooks
from djfapi.viewsets.drf import check_drf_attributes
from djfapi.viewsets.generic import GenericViewSet
from djfapi.viewsets.lifecycle import declared_throttles
from djfapi.viewsets.plain import hand_written_actions, is_model_less

# Kept importable from here, where they lived before djfapi.routes.
__all__ = ["MODEL_ROUTES", "Ancestor", "BoundRoute", "ModelRoute", "Registration", "Router", "build_routes"]


class Router(APIRouter):
    """A FastAPI ``APIRouter`` that viewsets are registered on.

    ``trailing_slash=True`` ends every path in ``/`` (``/companies/``, ``/companies/{id}/``),
    as DRF's routers do; ``root_view=True`` answers ``GET /`` (relative to the router) with the
    absolute URL of each top-level registration, as DRF's ``DefaultRouter`` does.
    """

    def __init__(self, *args: Any, trailing_slash: bool = False, root_view: bool = False,
                 **kwargs: Any) -> None:
        kwargs.setdefault("route_class", ViewSetRoute)
        super().__init__(*args, **kwargs)
        self.registrations: list[Registration] = []
        self.trailing_slash = trailing_slash
        self._options_paths: set[str] = set()
        if root_view:
            self._add_route("/", api_root_endpoint(self), methods=["GET"], name="api-root",
                            operation_id="api_root", summary="API root",
                            response_model=dict[str, str], tags=["api-root"],
                            description="The absolute URL of each resource registered at the top level.")

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
        routes = build_routes(registration)
        self._check(registration, routes)
        self.registrations.append(registration)
        if registration.parent is not None:
            registration.parent.children.append(registration)
        for route in routes:
            self._add(route)
        return registration

    def _add(self, route: BoundRoute) -> None:
        registration = route.registration
        form = route_form(route)
        added = self._add_route(
            route.path + ("/" if self.trailing_slash else ""),
            build_endpoint(route, form),
            methods=list(route.methods),
            status_code=route.status_code,
            response_model=route.answer.schema,
            responses=error_responses(route),
            name=route.name,
            operation_id=route.operation_id,
            summary=route.summary,
            description=description(route),
            tags=list(registration.tags),
            openapi_extra=form_openapi(route, form),
            **({"response_class": route.answer.response_class} if route.answer.response_class else {}),
        )
        for each in added:
            each.max_items = registration.viewset.max_nested_items
            each.security = registration.security

    def _add_route(self, path: str, endpoint: Callable[..., Any], *, methods: list[str],
                   **options: Any) -> list[ViewSetRoute]:
        """Add ``endpoint`` at ``path``, with a hidden ``HEAD`` twin when it answers ``GET``
        and a hidden ``OPTIONS`` route once a path; the ViewSetRoutes added."""
        added = [self._add_one(path, endpoint, methods=methods, **options)]
        if "GET" in methods:
            hidden = {**options, "operation_id": None, "name": f"{options['name']}-head"}
            added.append(self._add_one(path, endpoint, methods=["HEAD"], include_in_schema=False, **hidden))
        if path not in self._options_paths:
            self._options_paths.add(path)
            answers = self._add_one(path, _options_endpoint, methods=["OPTIONS"], include_in_schema=False)
            answers.options_route = True
        return added

    def _add_one(self, path: str, endpoint: Callable[..., Any], **options: Any) -> ViewSetRoute:
        self.add_api_route(path, endpoint, **options)
        route = self.routes[-1]
        if not isinstance(route, ViewSetRoute):
            raise ImproperlyConfigured(
                f"{type(self).__name__}(route_class={type(route).__name__}): a djfapi Router "
                "needs its route_class to be djfapi.viewset_route.ViewSetRoute or a subclass.")
        return route

    def _record(
        self,
        prefix: str,
        viewset: type[GenericViewSet],
        parent: type[GenericViewSet] | str | None,
        basename: str | None,
        tags: Sequence[str] | None,
        check_parent_scopes: bool,
    ) -> Registration:
        prefix = _checked(prefix, viewset)
        if parent is None:
            if not check_parent_scopes:
                raise ImproperlyConfigured(
                    f"router.register({prefix!r}, {viewset.__name__}, check_parent_scopes=False): "
                    "only a nested registration (parent=...) has parents' scopes to waive."
                )
            security, scopes = viewset.declared_security(), viewset.declared_scopes()
            registration = Registration(prefix, viewset, basename or prefix, security=security, scopes=scopes)
        else:
            registration = _nested(prefix, viewset, self._find_parent(viewset, parent), basename)
        check_model_less(registration)
        if registration.scopes is not None and registration.security is None:
            raise ImproperlyConfigured(
                f"{viewset.__name__} sets scopes but no security: set "
                f"{viewset.__name__}.security = JWTBearer(...) so there is a token to read them from."
            )
        if any(existing.basename == registration.basename for existing in self.registrations):
            raise ImproperlyConfigured(
                f"router.register({prefix!r}, {viewset.__name__}): basename {registration.basename!r} "
                "is registered already; pass basename='...' to tell the two apart."
            )
        loader = loader_of(viewset.user_from_token or api_setting("USER_FROM_TOKEN"))  # request.user
        return dataclasses.replace(registration, tags=tuple(tags) if tags is not None else (prefix,),
                                   check_parent_scopes=check_parent_scopes, user_loader=loader)

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

    def _check(self, registration: Registration, routes: list[BoundRoute]) -> None:
        viewset_name = registration.viewset.__name__
        check_throttle_classes(registration.viewset, declared_throttles(registration.viewset))
        check_permission_classes(viewset_name, registration.viewset.permission_classes)
        for route in routes:  # an @action's own throttle_classes=[...], permission_classes=[...]
            overrides = route.extra.overrides if route.extra is not None else {}
            if overrides.get("throttle_classes"):
                check_throttle_classes(registration.viewset, overrides["throttle_classes"])
            if overrides.get("permission_classes"):
                check_permission_classes(f"{viewset_name}.{route.action}", overrides["permission_classes"])
        if is_model_less(registration.viewset):
            return
        viewset, model = registration.viewset, registration.viewset.get_model()
        kwargs = [r.viewset.get_lookup_url_kwarg() for r in registration.chain]
        if len(set(kwargs)) != len(kwargs):
            raise ImproperlyConfigured(
                f"{viewset.__name__}: the path {registration.detail_path} names "
                f"{kwargs[-1]!r} twice; set {viewset.__name__}.lookup_url_kwarg to another name."
            )
        viewset.get_lookup_model_field()
        check_tenant_is_found(registration)
        viewset.declared_filterset(), viewset.declared_search(), viewset.declared_ordering()  # names checked
        for path in (*viewset.aggregate_fields, *viewset.aggregate_group_by):
            resolve_field(model, path)
        parent = registration.parent
        if parent is not None and any(
            extra.detail and extra.path == registration.prefix for extra in extra_actions(parent.viewset)
        ):
            raise ImproperlyConfigured(
                f"{parent.viewset.__name__} has a detail @action at path {registration.prefix!r}, "
                f"which the nested {viewset.__name__} would hide or be hidden by; rename one."
            )
        self._check_write_schemas(registration)
        if not routes:
            raise ImproperlyConfigured(
                f"{viewset.__name__} has no routes: give its schemas a get=, create= or "
                "update=, or add an @action."
            )

    @staticmethod
    def _check_write_schemas(registration: Registration) -> None:
        viewset, model = registration.viewset, registration.viewset.get_model()
        for action in ("create", "update"):
            schema = getattr(viewset.schemas, action)
            if schema is None or not callable(getattr(viewset, action, None)):
                continue
            check_write_schema(model, schema, f"{viewset.__name__}.schemas.{action}")
            if viewset.declared_response_schema(action) is None:
                raise ImproperlyConfigured(
                    f"{viewset.__name__}.schemas has {action}= but no get=; the {action} "
                    "response is answered with the get schema, so set Schemas(get=...)."
                )
        if viewset.schemas.create is not None and callable(getattr(viewset, "create", None)):
            check_tenant_is_set(registration)


def api_root_endpoint(router: Router) -> Callable[[Request], dict[str, str]]:
    """The endpoint of ``Router(root_view=True)``: each top-level registration's prefix mapped
    to its absolute URL, built from the request (host, scheme, root path and prefixes)."""

    def api_root(request: Request) -> dict[str, str]:
        base = str(checked_url(request).replace(query="", fragment=""))
        base = base if base.endswith("/") else base + "/"
        slash = "/" if router.trailing_slash else ""
        return {r.prefix: f"{base}{r.prefix}{slash}" for r in router.registrations if r.parent is None}

    return api_root


async def _options_endpoint() -> None:
    """Never called: ViewSetRoute answers OPTIONS before any dependency runs."""


def _checked(prefix: str, viewset: type[GenericViewSet]) -> str:
    """``prefix`` without slashes; ImproperlyConfigured for a viewset or a prefix that cannot be
    registered."""
    if not (isinstance(viewset, type) and issubclass(viewset, GenericViewSet)):
        raise ImproperlyConfigured(
            f"router.register({prefix!r}, {viewset!r}): the second argument must be a "
            "GenericViewSet subclass such as a ModelViewSet."
        )
    check_drf_attributes(viewset)
    check_hooks(viewset)
    if viewset.read_rows != "auto":  # "values" must be possible; "auto" finds out per request
        viewset.declared_read_path()
    prefix = prefix.strip("/")
    if not prefix or "{" in prefix:
        raise ImproperlyConfigured(
            f"router.register({prefix!r}, {viewset.__name__}): the prefix must be a plain "
            "path such as 'companies'; nesting is declared with parent=."
        )
    return prefix


def check_model_less(registration: Registration) -> None:
    """ImproperlyConfigured for a :class:`ViewSet` (no model) with nothing to route."""
    viewset = registration.viewset
    if not is_model_less(viewset):
        return
    if not hand_written_actions(viewset) and not extra_actions(viewset):  # type: ignore[arg-type]
        raise ImproperlyConfigured(f"{viewset.__name__} has no routes: define list(), retrieve(), ... "
                                   "or add an @action.")


def _nested(prefix: str, viewset: type[GenericViewSet], parent: Registration,
            basename: str | None) -> Registration:
    """The registration of ``viewset`` below ``parent``: its security (or the parent's) and its
    scopes (or, without security and scopes of its own, the parent's as a child sees them)."""
    security, scopes = viewset.declared_security(), viewset.declared_scopes()
    scopes_from: Registration | None = None
    if security is None and scopes is None and parent.scopes is not None:
        scopes = parent.scopes.for_child()
        scopes_from = parent.scopes_from or parent
    if is_model_less(viewset):
        raise ImproperlyConfigured(
            f"{viewset.__name__} is a ViewSet without a model and cannot be nested (parent=...): "
            "a nested route filters its rows by the parent; register it at the top level.")
    if is_model_less(parent.viewset):
        raise ImproperlyConfigured(
            f"{viewset.__name__} cannot be nested below {parent.viewset.__name__}, a ViewSet without "
            "a model: there is no row to look up as the parent. Register it at the top level.")
    return Registration(prefix, viewset, basename or f"{parent.basename}-{prefix}", parent,
                        viewset.find_parent_lookup_field(parent.viewset.get_model()),
                        security=security or parent.security, scopes=scopes, scopes_from=scopes_from)


def check_tenant_is_found(registration: Registration) -> None:
    """ImproperlyConfigured for a secured viewset whose model keeps its tenant farther than
    tenancy looks: its rows would be every tenant's."""
    viewset = registration.viewset
    path = farther_tenant_path(viewset.get_model(), viewset.tenant_field)
    if registration.security is not None and path is not None:
        raise ImproperlyConfigured(
            f"{viewset.__name__}: {viewset.get_model().__name__} reaches {viewset.tenant_field} only "
            f"through more than {TENANT_DEPTH} ForeignKeys, where tenancy does not look; name the "
            f"path: tenant_field = {path!r} (or tenant_field = None if every tenant shares its rows).")


def check_tenant_is_set(registration: Registration) -> None:
    """ImproperlyConfigured for a create that would leave the tenant field blank: no body sets
    it, tenancy sets it only with ``security``, and no hook of the viewset's own does."""
    viewset = registration.viewset
    model = viewset.get_model()
    field = next((f for f in model._meta.concrete_fields
                  if viewset.tenant_field in (f.name, f.attname)), None)
    if registration.tenancy_applies or field is None or field.blank or field.null or field.has_default():
        return
    if any(not (getattr(viewset, hook).__module__ or "").startswith("djfapi.") for hook in _CREATE_HOOKS):
        return
    raise ImproperlyConfigured(
        f"{viewset.__name__} creates {model.__name__} rows without {field.name}: no body sets the "
        f"tenant field, and tenancy sets it only with `security`. Set it in perform_create(), "
        f"give the viewset a security, or set tenant_field = None and write it from the body.")


_CREATE_HOOKS = ("perform_create", "build_instance", "create", "set_tenant", "set_server_owned_fields")
