"""djfapi 0.0.x's import path of :mod:`djfapi.compat.router_schema`, kept so old code runs."""

from djfapi.compat.router_schema import (
    CreateMultiMixin,
    DjangoRouterSchema,
    LegacyPagination,
    Method,
    ObjectsFilterMixin,
    SecurityScopes,
    build_viewset,
    hand_written_endpoint,
)

__all__ = [
    "CreateMultiMixin",
    "DjangoRouterSchema",
    "LegacyPagination",
    "Method",
    "ObjectsFilterMixin",
    "SecurityScopes",
    "build_viewset",
    "hand_written_endpoint",
]
