"""Django settings of the benchmark: one database, one set of models, every competitor.

``BENCH_DATABASE_URL``: ``postgres://user@host:port/name`` (default
``postgres://postgres@127.0.0.1:5432/djfapi_bench``) or ``sqlite:///path/to/file.sqlite3``
(the CI smoke test). ``ROOT_URLCONF`` is DRF's or django-ninja's urls (``BENCH_URLCONF``).
"""

import os
from urllib.parse import unquote, urlsplit

SECRET_KEY = "djfapi-bench-only"
DEBUG = False
USE_TZ = True
TIME_ZONE = "UTC"
ALLOWED_HOSTS = ["*"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "rest_framework", "bench.shop"]
MIDDLEWARE: list[str] = []  # no competitor runs middleware: none of them needs sessions or CSRF here
ROOT_URLCONF = os.environ.get("BENCH_URLCONF", "bench.apps.drf_app")

# Every competitor keeps its connection for 60 s (persistent connections, Django's
# CONN_MAX_AGE): gunicorn's one sync thread and the ASGI apps' threadpool threads alike.
CONN_MAX_AGE = 60
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/djfapi_bench"


def database(url: str) -> dict:
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": parts.path,
            "CONN_MAX_AGE": CONN_MAX_AGE,
            "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
        }
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": parts.path.lstrip("/") or "djfapi_bench",
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": parts.hostname or "",
        "PORT": str(parts.port or ""),
        "CONN_MAX_AGE": CONN_MAX_AGE,
    }


DATABASES = {"default": database(os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL))}

# DRF as a JSON API with no authentication (none of the competitors has any).
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
}
# django-ninja's LimitOffsetPagination: the same default page (50) and cap (1000) as djfapi's.
NINJA_PAGINATION_PER_PAGE = 50
NINJA_PAGINATION_MAX_LIMIT = 1000
