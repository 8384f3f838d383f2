"""``Method`` and ``SecurityScopes``: the endpoints and scopes of 0.0.x's ``DjangoRouterSchema``
(:mod:`djfapi.compat.router_schema`), once at ``djfapi.routing``."""

from enum import Enum

from djfapi.permissions import Scopes

__all__ = ["Method", "SecurityScopes"]


class Method(Enum):
    """The endpoints of a 0.0.x ``DjangoRouterSchema``; the values are ``SecurityScopes`` keys."""

    GET_LIST = "list"
    GET_AGGREGATE = "aggregate"
    GET = "get"
    POST = "post"
    PATCH = "patch"
    PUT = "put"
    DELETE = "delete"

    @property
    def action(self) -> str:
        """The viewset action of this endpoint."""
        return _ACTIONS[self]

    @property
    def http_method(self) -> str:
        return "GET" if self.value in ("list", "aggregate", "get") else self.value.upper()

    @property
    def detail(self) -> bool:
        return self.value not in ("list", "aggregate", "post")


_ACTIONS = {Method.GET_LIST: "list", Method.GET_AGGREGATE: "aggregate", Method.GET: "retrieve",
            Method.POST: "create", Method.PATCH: "partial_update", Method.PUT: "update",
            Method.DELETE: "destroy"}


class SecurityScopes(Scopes):
    """0.0.x's name for :class:`djfapi.permissions.Scopes` (``get`` also covers list and aggregate)."""
