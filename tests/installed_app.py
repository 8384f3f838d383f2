"""A first API as a user writes it, run by tests/test_packaging.py with the python of a fresh
virtual environment that has only the built wheel and its dependencies, from a directory away
from this checkout: Django set up in the script, a ModelViewSet over ``auth.Group`` behind a
JWTBearer, djfapi's test client. Prints what it saw as JSON."""

import json
import sys

import django
from django.conf import settings

import djfapi
from djfapi.keys import generate_key_pair

pair = generate_key_pair("ES256")
settings.configure(
    INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth", "djfapi"],
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": "db.sqlite3"}},
    ALLOWED_HOSTS=["testserver"],
    JWT_PRIVATE_KEY=pair.private_pem.decode(),
    JWT_PUBLIC_KEY=pair.public_pem.decode(),
    JWT_ALGORITHMS=["ES256"],
)
django.setup()

from django.contrib.auth.models import Group  # noqa: E402
from django.core.management import call_command  # noqa: E402
from fastapi import FastAPI  # noqa: E402
from pydantic import BaseModel  # noqa: E402

from djfapi import ModelViewSet, Router, Schemas  # noqa: E402
from djfapi.permissions import JWTBearer, Scopes  # noqa: E402
from djfapi.testing import Client  # noqa: E402


class GroupOut(BaseModel):
    id: int
    name: str


class GroupIn(BaseModel):
    name: str


class GroupViewSet(ModelViewSet):
    model = Group
    schemas = Schemas(get=GroupOut, create=GroupIn, update=GroupIn)
    security = JWTBearer()
    scopes = Scopes(get=["auth.groups.read"], post=["auth.groups.create"])
    tenant_field = None


call_command("migrate", verbosity=0)
router = Router()
router.register("groups", GroupViewSet)
app = FastAPI()
djfapi.install(app)
app.include_router(router, prefix="/api")
client = Client(app)
anonymous = client.get("/api/groups").status_code
client.authenticate(scopes=["auth.groups.read", "auth.groups.create"], tenant=None)
created = client.post("/api/groups", json={"name": "editors"})
listed = client.get("/api/groups")
print(json.dumps({
    "file": djfapi.__file__, "version": djfapi.__version__, "path": sys.path, "anonymous": anonymous,
    "created": [created.status_code, created.json()], "listed": [listed.status_code, listed.json()],
}))
