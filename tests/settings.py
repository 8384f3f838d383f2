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
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "tests.testapp"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

def _es512_keys() -> tuple[str, str]:
    """A fresh P-521 key pair per test run: tokens are signed with the private half."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    private = ec.generate_private_key(ec.SECP521R1())
    return (
        private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()).decode(),
        private.public_key().public_bytes(serialization.Encoding.PEM,
                                          serialization.PublicFormat.SubjectPublicKeyInfo).decode(),
    )


JWT_PRIVATE_KEY, JWT_PUBLIC_KEY = _es512_keys()
JWT_ISSUER = "https://auth.djfapi.test"
JWT_ALGORITHMS = ["ES512"]

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
        # One test database per run: two runs on one server (a developer's and CI's) never
        # flush each other's tables.
        "TEST": {"NAME": f"test_{parts.path.lstrip('/') or 'djfapi'}_{os.getpid()}"},
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
            # Writers take the lock when their transaction begins, so two racing writes queue
            # instead of one failing with "database is locked" (Django >= 5.1).
            "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
        }
    }

# Files the tests store land in a directory of their own, removed when the run ends.
import tempfile as _tempfile  # noqa: E402

MEDIA_ROOT = _tempfile.mkdtemp(prefix="djfapi-media-")
MEDIA_URL = "/media/"
