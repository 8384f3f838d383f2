"""The package's shape: every module imports on its own, imports run one way (no cycle, those
under ``TYPE_CHECKING`` included, and no module imports one of a higher layer), and modules and
functions stay small enough to read."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "djfapi"

# Low to high: a module may import from its own layer or lower ones only. The request path runs
# router -> endpoints -> dispatch -> viewsets -> schemas/permissions/filters -> ORM helpers.
LAYERS = [
    ["djfapi.exceptions", "djfapi.signalling", "djfapi.conditional", "djfapi.meta", "djfapi.keyset",
     "djfapi.conf", "djfapi.hosts", "djfapi.keys", "djfapi.tokens", "djfapi.apps",
     "djfapi.permissions.fetching"],
    ["djfapi.schemas", "djfapi.permissions.access", "djfapi.permissions.jwks", "djfapi.filters",
     "djfapi.lookups", "djfapi.django_filter", "djfapi.pagination", "djfapi.inputs", "djfapi.tenancy"],
    ["djfapi.permissions", "djfapi.throttling"],
    ["djfapi.viewsets"],
    ["djfapi.routes"],
    ["djfapi.call", "djfapi.rendering"],
    ["djfapi.nesting"],
    ["djfapi.dispatch"],
    ["djfapi.endpoints", "djfapi.openapi", "djfapi.viewset_route"],
    ["djfapi.routers"],
    ["djfapi"],  # the package's public names; it imports nothing above
    ["djfapi.testing", "djfapi.integrations", "djfapi.compat", "djfapi.management", "djfapi.__main__"],
    ["djfapi.routing", "djfapi.security", "djfapi.utils"],  # djfapi 0.0.x import paths: re-exports
]


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def imports_of(name: str) -> set[str]:
    """The djfapi modules ``name`` imports anywhere in its source (TYPE_CHECKING blocks and
    function bodies included). ``from djfapi import x`` imports the module ``djfapi.x`` when
    there is one, else the package itself."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, *([base] if base else [])])
            for alias in node.names:
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base)
    return {module for module in found if module in MODULES and module != name}


def rank(name: str) -> int:
    for index, layer in enumerate(LAYERS):
        if any(name == prefix or (prefix != "djfapi" and name.startswith(prefix + ".")) for prefix in layer):
            return index
    return len(LAYERS)


def test_every_module_imports_on_its_own():
    script = (
        "import importlib, sys\n"
        f"for name in {sorted(MODULES)!r}:\n"
        "    for loaded in [m for m in sys.modules if m == 'djfapi' or m.startswith('djfapi.')]:\n"
        "        del sys.modules[loaded]\n"
        "    importlib.import_module(name)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=PACKAGE.parent, capture_output=True,
                            text=True, check=False)
    assert result.returncode == 0, result.stderr


def test_no_module_imports_one_that_imports_it_back():
    graph = {name: imports_of(name) for name in MODULES}
    cycles = []

    def visit(name, path):
        for imported in graph[name]:
            if imported in path:
                cycles.append([*path[path.index(imported):], imported])
            elif imported not in done:
                visit(imported, [*path, imported])
        done.add(name)

    done: set[str] = set()
    for name in graph:
        if name not in done:
            visit(name, [name])
    assert cycles == []


@pytest.mark.parametrize("name", sorted(MODULES))
def test_imports_run_down_the_layers(name):
    upward = sorted(imported for imported in imports_of(name)
                    if rank(imported) > rank(name) and not imported.startswith(name + "."))
    assert upward == [], f"{name} (layer {rank(name)}) imports higher layers"


def test_every_module_has_a_layer():
    assert [name for name in MODULES if rank(name) == len(LAYERS)] == []


def test_modules_and_functions_stay_small():
    too_long = []
    for name, path in MODULES.items():
        source = path.read_text()
        if len(source.splitlines()) > 400:
            too_long.append(f"module {name}: {len(source.splitlines())} lines")
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                size = node.end_lineno - node.lineno + 1
                if size > 40:
                    too_long.append(f"{name}.{node.name}: {size} lines")
    assert too_long == []
