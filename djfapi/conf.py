"""Project-wide defaults, read from the Django setting ``DJFAPI`` (a dict, as DRF reads
``REST_FRAMEWORK``)::

    DJFAPI = {
        "DEFAULT_PAGINATION_CLASS": "djfapi.pagination.PageNumberPagination",
        "PAGE_SIZE": 50,
    }

A viewset's own attribute wins over the project default. A key djfapi does not know is an
``ImproperlyConfigured`` the first time a setting is read, so a misspelt default is never
silently ignored. A value may be the object itself or a dotted path to it (``*_CLASS`` and
``*_CLASSES`` keys).
"""

from __future__ import annotations

from typing import Any, Final

from django.conf import settings
from django.utils.module_loading import import_string

from djfapi.exceptions import ImproperlyConfigured

__all__ = ["DEFAULTS", "api_setting"]

DEFAULTS: Final[dict[str, Any]] = {
    "DEFAULT_PAGINATION_CLASS": None,  # None: each viewset's own pagination_class
    "PAGE_SIZE": None,  # None: each pagination class's own default_limit/page_size
    "USER_FROM_TOKEN": None,  # None: token-only (djfapi.permissions.users); a loader or its dotted path
    "DEFAULT_THROTTLE_CLASSES": [],  # each viewset's own throttle_classes wins
    "DEFAULT_THROTTLE_RATES": {},  # scope -> "100/min"
    "NUM_PROXIES": None,  # None: the client address, X-Forwarded-For never trusted
}
"""Every key ``DJFAPI`` may set, with what applies when it does not."""


def api_setting(name: str) -> Any:
    """The project's value for ``name`` (dotted paths of ``*_CLASS``/``*_CLASSES`` imported),
    else its default."""
    if name not in DEFAULTS:
        raise KeyError(name)  # a typo in djfapi itself, not in a project
    configured = getattr(settings, "DJFAPI", None) or {}
    if not isinstance(configured, dict):
        raise ImproperlyConfigured(f"settings.DJFAPI must be a dict, not {type(configured).__name__}.")
    unknown = sorted(set(configured) - set(DEFAULTS))
    if unknown:
        raise ImproperlyConfigured(f"settings.DJFAPI has unknown keys {unknown}; known: {sorted(DEFAULTS)}.")
    value = configured.get(name, DEFAULTS[name])
    if name.endswith("_CLASS") and isinstance(value, str):
        return _imported(name, value)
    if name.endswith("_CLASSES") and value is not None:
        return [_imported(name, item) if isinstance(item, str) else item for item in value]
    return value


def _imported(name: str, path: str) -> Any:
    try:
        return import_string(path)
    except ImportError as error:
        message = f"settings.DJFAPI[{name!r}] = {path!r} cannot be imported: {error}"
        raise ImproperlyConfigured(message) from error
