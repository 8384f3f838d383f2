"""Django settings of the test suite: SQLite by default, PostgreSQL when DJFAPI_TEST_DATABASE is set.

``DJFAPI_TEST_DATABASE=postgres`` uses ``DJFAPI_TEST_DATABASE_URL`` (default
``postgres://postgres@127.0.0.1:5432/djfapi``; pytest-django creates ``test_<name>`` from it).
"""

import os
import tempfile
from pathlib import Path
from urllib.parse import unquote, urlsplit

SECRET_KEY = "djfapi-tests-only"
DEBUG = False
USE_TZ = True
TIME_ZONE = "UTC"
INSTALLED_APPS = ["tests.testapp"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

DEFAULT_POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/djfapi"


def postgres_database(url: str) -> dict:
    parts = urlsplit(url)
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": parts.path.lstrip("/") or "djfapi",
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": parts.hostname or "",
        "PORT": str(parts.port or ""),
        "CONN_MAX_AGE": 0,
    }


if os.environ.get("DJFAPI_TEST_DATABASE", "sqlite") == "postgres":
    DATABASES = {
        "default": postgres_database(
            os.environ.get("DJFAPI_TEST_DATABASE_URL", DEFAULT_POSTGRES_URL)
        )
    }
else:
    # A file, not :memory:, so the threadpool's connections see the same database.
    _folder = Path(tempfile.mkdtemp(prefix="djfapi-tests-"))
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(_folder / "db.sqlite3"),
            "TEST": {"NAME": str(_folder / "test.sqlite3")},
            "CONN_MAX_AGE": 0,
            "OPTIONS": {"timeout": 20},
        }
    }
