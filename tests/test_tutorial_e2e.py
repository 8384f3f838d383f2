"""The tutorial (docs/tutorial.md) followed as a reader would, from top to bottom: an empty
Django project made with `django-admin startproject`, the page's files written from its blocks
when the page shows them, its `$` commands run as printed (`python` is this interpreter;
`uvicorn --reload` is served without the reloader, and restarted when a file changes), and every
`curl` answer compared with the one the page shows."""

import json
import os
import re
import shlex
import stat
import subprocess
import sys
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest

from tests.serving import serve

pytestmark = pytest.mark.once

ROOT = Path(__file__).resolve().parent.parent
TUTORIAL = ROOT / "docs" / "tutorial.md"
STEP = re.compile(r"```(python|console)\n(.*?)```", flags=re.S)
PROJECT_FILES = ("myproject/asgi.py", "myapp/models.py", "myapp/api.py")


def events() -> list[tuple[str, str, str]]:
    """The page in order: ("file", path, text) for a block naming a project file (the first
    line ``# myapp/api.py, step 6: ...`` names a class to replace in it), ("run", command,
    the output shown after it) for each ``$`` line."""
    found: list[tuple[str, str, str]] = []
    for kind, block in STEP.findall(TUTORIAL.read_text()):
        first = block.split("\n", 1)[0]
        if kind == "python" and first[2:].split(" ")[0].rstrip(",") in PROJECT_FILES:
            found.append(("file", first[2:], block))
        elif kind == "console":
            for line in block.splitlines():
                if line.startswith("$ "):
                    found.append(("run", line[2:].split("  #")[0].strip(), ""))
                elif found and found[-1][0] == "run":
                    found[-1] = ("run", found[-1][1], (found[-1][2] + "\n" + line).strip())
    return found


def reader_env(project: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DJFAPI_TEST"))}
    env["PYTHONPATH"] = str(project)
    return env


def run(command: str, project: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    argv = shlex.split(command)
    if argv[0] == "python":
        argv[0] = sys.executable
    elif argv[0] == "django-admin":
        argv[:1] = [sys.executable, "-m", "django"]
    result = subprocess.run(argv, cwd=project, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, (command, result.stdout, result.stderr)
    return result


def write_file(project: Path, name: str, block: str) -> None:
    """A project file as the page shows it; a ``step N`` block replaces the class it defines."""
    path = project / name.split(" ")[0].rstrip(",")
    if "step" not in name:
        path.write_text(block)
        return
    defined = re.search(r"^class (\w+)", block, flags=re.M).group(1)
    old = re.search(rf"^class {defined}\b.*?(?=^\S)", path.read_text(), flags=re.M | re.S)
    assert old is not None, (name, defined)
    path.write_text(path.read_text().replace(old.group(0), block.split("\n", 1)[1] + "\n\n"))


class Reader:
    """Follows the page: runs its commands, keeps its files and one server."""

    def __init__(self, project: Path, log: Path):
        self.project, self.log = project, log
        self.env = reader_env(project)
        self.stack = ExitStack()
        self.app: str | None = None
        self.server = None
        self.answers = 0

    def step(self, kind: str, what: str, shown: str) -> None:
        if kind == "file":
            write_file(self.project, what, shown)
            self.restart()
        elif what.startswith("pip install"):
            pass  # this interpreter has djfapi installed
        elif what.startswith("uvicorn "):
            self.app = what.split()[1]
            self.restart()
        elif what.startswith("curl "):
            self.request(what, shown)
        elif what.startswith("export "):
            name, command = re.fullmatch(r"export (\w+)=\$\((.*)\)", what).groups()
            self.env[name] = run(command, self.project, self.env).stdout.strip()
        else:
            self.command(what)

    def command(self, what: str) -> None:
        result = run(what, self.project, self.env)
        if what.startswith("python manage.py startapp"):
            settings = self.project / "myproject" / "settings.py"  # step 1: "myapp", "djfapi"
            settings.write_text(settings.read_text().replace(
                "INSTALLED_APPS = [", 'INSTALLED_APPS = [\n    "myapp",\n    "djfapi",', 1))
        if " djfapi keys " in f" {what} ":  # step 5: the printed lines pasted into the settings
            with (self.project / "myproject" / "settings.py").open("a") as settings:
                settings.write("\n" + result.stdout)
            private = self.project / "keys" / "jwt-private.pem"
            assert stat.S_IMODE(private.stat().st_mode) == 0o600

    def restart(self) -> None:
        if self.app is None:
            return
        self.stack.close()
        self.server = self.stack.enter_context(
            serve(self.app, env=self.env, cwd=self.project, log_path=self.log))

    def request(self, command: str, shown: str) -> None:
        command = command.replace("http://127.0.0.1:8000", self.server.base_url)
        answer = subprocess.run(["bash", "-c", command], env=self.env, capture_output=True,
                                text=True, timeout=30).stdout
        assert json.loads(answer) == json.loads(shown), (command, answer, self.server.log())
        self.answers += 1


def test_the_tutorial_runs_from_an_empty_project(tmp_path):
    steps = events()
    assert [what for kind, what, _ in steps if kind == "run"][:2] == [
        "pip install -e '/path/to/djfapi[standard]'", "django-admin startproject myproject ."]
    project = tmp_path / "mysite"
    project.mkdir()
    reader = Reader(project, tmp_path / "server.log")
    with reader.stack:
        for step in steps:
            reader.step(*step)
        admin_css = httpx.get(reader.server.base_url + "/static/admin/css/base.css")
        assert admin_css.status_code == 200  # step 2's mount: the admin is styled
    assert reader.answers >= 6
    assert "TOKEN" in reader.env
