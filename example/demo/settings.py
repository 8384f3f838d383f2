"""Settings of the djfapi demo. SQLite in example/.demo/ by default; DATABASE_URL
(postgres://user:password@host:port/name or sqlite:///path) switches the database. On
PostgreSQL, CONN_MAX_AGE=<seconds> keeps each thread's connection, or DATABASE_POOL=<size>
shares a pool of that many (psycopg[pool]) among the threads.

Development only: the SECRET_KEY and the JWT signing key (made on first use, kept in
example/.demo/) must never serve real traffic.
"""

import os
from pathlib import Path
from urllib.parse import unquote, urlsplit

BASE_DIR = Path(__file__).resolve().parent.parent
STATE_DIR = Path(os.environ.get("DEMO_STATE_DIR", BASE_DIR / ".demo"))
STATE_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)  # never wider: the signing key is in it

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "djfapi-demo-development-only")
DEBUG = os.environ.get("DJANGO_DEBUG") == "1"
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
USE_TZ = True
TIME_ZONE = "UTC"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "djfapi",  # only for its commands: manage.py djfapi_keys, djfapi_token
    "companies",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
ROOT_URLCONF = "demo.urls"
TEMPLATES = [{
    "BACKEND": "django.template.backends.django.DjangoTemplates",
    "APP_DIRS": True,
    "OPTIONS": {"context_processors": [
        "django.template.context_processors.request",
        "django.contrib.auth.context_processors.auth",
        "django.contrib.messages.context_processors.messages",
    ]},
}]
STATIC_URL = "/static/"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"


def database(url: str) -> dict:
    """Django's DATABASES entry for a sqlite:/// or postgres:// URL."""
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        # IMMEDIATE: a writing transaction takes SQLite's lock when it begins, so concurrent
        # writes wait their turn (up to the timeout) instead of failing with "database is locked".
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": unquote(parts.path) or ":memory:",
                "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"}}
    if parts.scheme in ("postgres", "postgresql"):
        conn_max_age = int(os.environ.get("CONN_MAX_AGE", "0"))
        pool_size = int(os.environ.get("DATABASE_POOL", "0"))
        if conn_max_age and pool_size:
            raise ValueError("Set CONN_MAX_AGE or DATABASE_POOL, not both: a pool's connections are kept "
                             "by the pool, not by the threads.")
        # A lost network drops the connection in about 10 s (libpq's TCP keepalives and
        # tcp_user_timeout); a frozen server is caught by none of these (see the README).
        options: dict = {"connect_timeout": 5, "options": "-c statement_timeout=15000",
                         "keepalives_idle": 5, "keepalives_interval": 2, "keepalives_count": 3,
                         "tcp_user_timeout": 10000}
        if pool_size:
            # timeout: a request waits that long for a connection, then is answered 503; with
            # CONN_HEALTH_CHECKS Django has the pool test a connection before handing it out.
            options["pool"] = {"min_size": 1, "max_size": pool_size, "timeout": 5}
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": parts.path.lstrip("/"),
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": str(parts.port or ""),
            "CONN_MAX_AGE": conn_max_age,
            "CONN_HEALTH_CHECKS": True,  # a connection kept across a database restart is tested first
            # A database that does not answer fails fast (answered 503) instead of holding requests.
            "OPTIONS": options,
        }
    raise ValueError(f"DATABASE_URL must start with sqlite:/// or postgres://, not {url!r}")


DATABASES = {"default": database(os.environ.get("DATABASE_URL", f"sqlite:///{STATE_DIR / 'db.sqlite3'}"))}


def _development_keys() -> tuple[str, str]:
    """A P-521 key pair for ES512 tokens, made once in STATE_DIR as `python -m djfapi keys`
    makes them (the private key 0600 from its first moment, never through a symlink).
    Development only."""
    from django.core.exceptions import ImproperlyConfigured

    from djfapi.keys import PRIVATE_KEY_FILE, PUBLIC_KEY_FILE, create_keys

    private, public = STATE_DIR / PRIVATE_KEY_FILE, STATE_DIR / PUBLIC_KEY_FILE
    if STATE_DIR.stat().st_mode & 0o002 or private.is_symlink() or public.is_symlink():
        raise ImproperlyConfigured(f"{STATE_DIR} is writable by every user, or its keys are symlinks: "
                                   "anyone could swap the demo's signing key. Use another DEMO_STATE_DIR.")
    if not (os.path.lexists(private) or os.path.lexists(public)):
        create_keys("ES512", STATE_DIR)
    return private.read_text(), public.read_text()


JWT_PRIVATE_KEY, JWT_PUBLIC_KEY = _development_keys()
JWT_ISSUER = "https://auth.djfapi.demo"
JWT_ALGORITHMS = ["ES512"]
