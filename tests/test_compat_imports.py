"""djfapi 0.0.x's import paths still work, and are only doors into :mod:`djfapi.compat`."""

import importlib
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

import djfapi

# Every 0.0.x import path, the compat module behind it, and the names it gives.
OLD_PATHS = [
    ("djfapi.routing", "djfapi.compat.routing", ["Method", "SecurityScopes"]),
    ("djfapi.routing.django", "djfapi.compat.router_schema", [
        "CreateMultiMixin", "DjangoRouterSchema", "LegacyPagination", "Method", "ObjectsFilterMixin",
        "SecurityScopes", "build_viewset", "hand_written_endpoint",
    ]),
    ("djfapi.security.jwt", "djfapi.compat.jwt", ["JWTToken"]),
    ("djfapi.utils.fastapi_django", "djfapi.compat.signalling", ["request_signalling"]),
]
COMPAT_MODULES = ["djfapi.compat", "djfapi.compat.routing", "djfapi.compat.router_schema",
                  "djfapi.compat.jwt", "djfapi.compat.signalling"]
PACKAGE = Path(djfapi.__file__).parent
IMPORTS_COMPAT = re.compile(r"^\s*(from|import)\s+djfapi\.compat\b", re.MULTILINE)
REEXPORTS = {"routing/__init__.py", "routing/django.py", "security/jwt.py", "utils/fastapi_django.py"}


@pytest.mark.parametrize(("old", "new", "names"), OLD_PATHS, ids=[old for old, _, _ in OLD_PATHS])
def test_the_0_0_x_paths_give_the_very_objects_of_djfapi_compat(old, new, names):
    old_module, new_module = importlib.import_module(old), importlib.import_module(new)
    assert sorted(old_module.__all__) == sorted(names)
    for name in names:
        assert getattr(old_module, name) is getattr(new_module, name), name


@pytest.mark.parametrize(("old", "new", "names"), OLD_PATHS, ids=[old for old, _, _ in OLD_PATHS])
def test_the_0_0_x_paths_define_nothing_of_their_own(old, new, names):
    public = {name for name, value in vars(importlib.import_module(old)).items()
              if not name.startswith("_") and not isinstance(value, ModuleType)}  # djfapi.routing.django
    assert public == set(names)


def test_request_signalling_is_djfapis_own():
    from djfapi.compat.signalling import request_signalling

    assert request_signalling is djfapi.request_signalling


@pytest.mark.parametrize("module", COMPAT_MODULES)
def test_each_compat_module_imports_on_its_own(module):
    env_settings = "import os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'tests.settings'); "
    code = env_settings + f"import {module}"
    result = subprocess.run([sys.executable, "-c", code], cwd=PACKAGE.parent, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_the_core_never_imports_djfapi_compat():
    importers = [str(path.relative_to(PACKAGE)) for path in PACKAGE.rglob("*.py")
                 if IMPORTS_COMPAT.search(path.read_text()) and path.parent.name != "compat"]
    assert set(importers) == REEXPORTS
