"""The package as users get it: ``python -m build`` makes an sdist and a wheel twine passes; the
wheel holds djfapi (typed, licensed, its version the one of ``djfapi.__version__``) and nothing
else; installed with its dependencies into a fresh virtual environment, run away from this
checkout, it serves an API."""

import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
import zipfile
from email.parser import HeaderParser
from pathlib import Path

import pytest

import djfapi

pytestmark = pytest.mark.once

ROOT = Path(__file__).resolve().parent.parent
WHEEL_NAME = f"djfapi-{djfapi.__version__}-py3-none-any.whl"
SDIST_NAME = f"djfapi-{djfapi.__version__}.tar.gz"


def run(*command, **kwargs):
    """``command``, its output kept; a failure shows it."""
    result = subprocess.run(command, capture_output=True, text=True, check=False, **kwargs)
    assert result.returncode == 0, f"{command}:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def dist(tmp_path_factory):
    """The sdist and the wheel built from it, as ``make package`` builds them (without fetching
    setuptools again: the one in this environment)."""
    out = tmp_path_factory.mktemp("dist")
    run(sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(ROOT))
    assert {path.name for path in out.iterdir()} == {SDIST_NAME, WHEEL_NAME}
    return out


def test_twine_passes_the_sdist_and_the_wheel(dist):
    result = run(sys.executable, "-m", "twine", "check", "--strict", *map(str, sorted(dist.iterdir())))
    assert result.stdout.count("PASSED") == 2


def test_the_wheel_holds_djfapi_and_its_license_only(dist):
    with zipfile.ZipFile(dist / WHEEL_NAME) as wheel:
        names = wheel.namelist()
        metadata = HeaderParser().parsestr(
            wheel.read(f"djfapi-{djfapi.__version__}.dist-info/METADATA").decode())
    assert {name.split("/")[0] for name in names} == {"djfapi", f"djfapi-{djfapi.__version__}.dist-info"}
    assert {"djfapi/py.typed", "djfapi/__main__.py", "djfapi/management/commands/djfapi_token.py",
            f"djfapi-{djfapi.__version__}.dist-info/licenses/LICENSE"} <= set(names)
    assert metadata["Version"] == djfapi.__version__
    assert metadata["License-Expression"] == "MIT"
    assert metadata["License-File"] == "LICENSE"
    classifiers = metadata.get_all("Classifier")
    for covered in ("Framework :: Django :: 5.2", "Framework :: Django :: 6.0",
                    "Programming Language :: Python :: 3.11", "Programming Language :: Python :: 3.12"):
        assert covered in classifiers
    assert {"standard", "testing", "jwt", "postgres", "sentry", "redis", "images"} <= set(
        metadata.get_all("Provides-Extra"))


def test_the_sdist_holds_what_the_wheel_is_built_from(dist):
    with tarfile.open(dist / SDIST_NAME) as sdist:
        names = {name.split("/", 1)[1] for name in sdist.getnames() if "/" in name}
    assert {"LICENSE", "README.md", "pyproject.toml", "djfapi/py.typed", "djfapi/__init__.py"} <= names
    # what the README links to travels with it
    assert {"CHANGELOG.md", "SECURITY.md", "mkdocs.yml", "scripts/mkdocs_hooks.py", "docs/tutorial.md",
            "docs/index.md"} <= names
    assert {name.split("/")[0] for name in names} & {"tests", "example", "bench"} == set()
    assert [name for name in names if name.startswith("scripts/") and name.endswith(".py")] == [
        "scripts/mkdocs_hooks.py"]


def test_the_installed_wheel_serves_an_api(dist, tmp_path):
    """Installed with ``[jwt,testing]`` and what they pull in from the index, nothing of this
    checkout or its environment in reach: a missing dependency or file fails here."""
    started = time.monotonic()
    venv = tmp_path / "venv"
    python = venv / "bin" / "python"
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(("PYTHON", "DJANGO_", "VIRTUAL_ENV"))}
    run(sys.executable, "-m", "venv", str(venv), env=env)
    run(str(python), "-m", "pip", "install", "--quiet", f"{dist / WHEEL_NAME}[jwt,testing]",
        env=env, cwd=tmp_path)
    installed = time.monotonic() - started
    elsewhere = tmp_path / "app"
    elsewhere.mkdir()
    shutil.copy(ROOT / "tests" / "installed_app.py", elsewhere)

    assert run(str(python), "-m", "djfapi", "--version", env=env, cwd=elsewhere).stdout.strip() == \
        f"djfapi {djfapi.__version__}"
    seen = json.loads(run(str(python), "installed_app.py", env=env, cwd=elsewhere).stdout)
    assert Path(seen["file"]).is_relative_to(venv), seen["file"]
    assert not any(Path(entry).is_relative_to(ROOT) for entry in seen["path"] if entry)
    assert seen["version"] == djfapi.__version__
    assert seen["anonymous"] == 401
    assert seen["created"] == [201, {"id": 1, "name": "editors"}]
    assert seen["listed"][0] == 200
    assert seen["listed"][1]["items"] == [{"id": 1, "name": "editors"}]
    print(f"fresh venv and wheel installed in {installed:.1f} s, "
          f"all in {time.monotonic() - started:.1f} s")
