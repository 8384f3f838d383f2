"""DRF attributes that djfapi has no counterpart for: set on a viewset they would be ignored
silently, so registering such a viewset is refused with the equivalent to use instead."""

from __future__ import annotations

from djfapi.exceptions import ImproperlyConfigured

__all__ = ["DRF_ATTRIBUTES", "check_drf_attributes"]

DRF_ATTRIBUTES = {
    "serializer_class": "schemas = Schemas(get=..., create=..., update=...)",
    "get_serializer_class": "schemas = Schemas(...) (get_schema()/get_response_schema() to vary them)",
    "get_serializer": "schemas = Schemas(...)",
    "get_serializer_context": "get_schema_context() (pydantic validators read it as info.context)",
    "filter_backends": "filter_fields, search_fields, ordering_fields or filterset_class",
    "filterset_fields": "filter_fields = [...]",
    "versioning_class": "one Router per version, included under its own prefix (/v1, /v2)",
    "lookup_value_regex": "lookup_field: the path value is typed from that model field",
    "authentication_classes": "security = JWTBearer(...)",
    "get_authenticators": "security = JWTBearer(...)",
    "renderer_classes": "responses are JSON from the schemas; an @action may return any JSON or a Response",
    "get_renderers": "responses are JSON from the schemas; an @action may return any JSON or a Response",
    "parser_classes": "nothing: creates and updates take JSON, forms and multipart; @action bodies JSON",
    "get_parsers": "nothing: creates and updates take JSON, forms and multipart; @action bodies JSON",
    "metadata_class": "OpenAPI (/openapi.json); OPTIONS answers 204 with Allow",
    "content_negotiation_class": "responses are JSON",
}


def check_drf_attributes(viewset: type) -> None:
    """Raise ImproperlyConfigured for a DRF attribute that djfapi would otherwise ignore."""
    for name, instead in DRF_ATTRIBUTES.items():
        if hasattr(viewset, name):
            raise ImproperlyConfigured(
                f"{viewset.__name__}.{name} is a DRF attribute djfapi does not read; use {instead}."
            )
