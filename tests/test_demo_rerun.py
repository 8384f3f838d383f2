"""``make demo`` twice in a row on one database: each start resets the demo data, so every
``curl ... # NNN`` line of the walkthrough answers NNN both times, and the demo stops quietly when
its terminal sends Ctrl-C (SIGINT to the whole process group) or SIGTERM."""

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.serving import free_port
from tests.test_demo_e2e import demo_database, walkthrough_curl_lines  # noqa: F401  # a fixture

ROOT = Path(__file__).resolve().parent.parent
VENV = os.path.relpath(sys.prefix, ROOT)  # the Makefile wants it relative to the checkout

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


@dataclass(frozen=True)
class Demo:
    """A running ``make demo``: where it serves and the tokens it printed."""

    base_url: str
    tokens: dict[str, str]


def terminal_signals() -> None:
    """In the child: SIGINT as a terminal leaves it, even if the tests run with it ignored."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@contextmanager
def make_demo(env: dict[str, str], logs: Path, stop: signal.Signals) -> Iterator[Demo]:
    """``make demo`` in a process group of its own until the block ends, then ``stop`` sent to
    the group; asserts that it stopped quietly. ``-o install``: never rebuild the venv in use."""
    port = free_port()
    logs.mkdir()
    with (logs / "stdout").open("w") as stdout, (logs / "stderr").open("w") as stderr:
        make = subprocess.Popen(["make", "-o", "install", "demo", f"PORT={port}", f"VENV={VENV}"],
                                cwd=ROOT, env=env, stdout=stdout, stderr=stderr, process_group=0,
                                preexec_fn=terminal_signals)
    try:
        wait_until_served(f"http://127.0.0.1:{port}", make, logs)
        printed = (logs / "stdout").read_text()
        yield Demo(f"http://127.0.0.1:{port}", dict(re.findall(r"^export (TOKEN_\w+)=(\S+)$", printed, re.M)))
        os.killpg(make.pid, stop)
        make.wait(timeout=30)
    finally:
        if make.poll() is None:
            os.killpg(make.pid, signal.SIGKILL)
            make.wait()
    said = (logs / "stderr").read_text()
    assert make.returncode in (0, -stop), said  # make dies of the signal, as anything Ctrl-C stops
    assert "Finished server process" in said, said  # uvicorn shut down gracefully
    assert not re.search(r"make: \*\*\*|Error|Traceback", said), said


def wait_until_served(base_url: str, make: subprocess.Popen, logs: Path) -> None:
    deadline = time.monotonic() + 120
    while True:
        try:
            httpx.get(f"{base_url}/openapi.json", timeout=1)
            return
        except httpx.TransportError:
            pass
        output = "".join((logs / name).read_text() for name in ("stdout", "stderr"))
        assert make.poll() is None, output
        assert time.monotonic() < deadline, f"make demo did not serve in 120 s:\n{output}"
        time.sleep(0.2)


def walk(demo: Demo) -> list[tuple[str, int]]:
    """(command, status) of every curl line of the walkthrough, run in order against ``demo``."""
    env = {**os.environ, **demo.tokens}
    answered = []
    for command, _ in walkthrough_curl_lines():
        command = command.replace("http://127.0.0.1:8000", demo.base_url)
        result = subprocess.run(["bash", "-c", f"{command} -o /dev/null -w '%{{http_code}}'"],
                                env=env, capture_output=True, text=True, timeout=30)
        answered.append((command, int(result.stdout or 0)))
    return answered


def as_admin_a(demo: Demo) -> dict[str, str]:
    return {"Authorization": f"Bearer {demo.tokens['TOKEN_A_ADMIN']}"}


def test_make_demo_twice_walks_the_same_and_stops_quietly(tmp_path, demo_database):  # noqa: F811
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DJANGO_", "DJFAPI_TEST", "MAKE", "MFLAGS"))}
    env.update(DEMO_STATE_DIR=str(tmp_path / "state"), DATABASE_URL=demo_database[0], PYTHONPATH=str(ROOT))
    promised = [status for _, status in walkthrough_curl_lines()]
    assert len(promised) >= 16
    with make_demo(env, tmp_path / "first", signal.SIGINT) as first:
        assert set(first.tokens) == {"TOKEN_A_ADMIN", "TOKEN_A_OWNER", "TOKEN_B_ADMIN"}
        answered = walk(first)
        assert [status for _, status in answered] == promised, answered
        acme = httpx.get(f"{first.base_url}/api/companies/1", headers=as_admin_a(first)).json()
        assert acme["archived"] is True  # the walk archived Acme, and created Stark
    with make_demo(env, tmp_path / "second", signal.SIGTERM) as second:
        listed = httpx.get(f"{second.base_url}/api/companies", headers=as_admin_a(second)).json()
        assert [(c["id"], c["name"], c["archived"]) for c in listed["items"]] == [
            (1, "Acme", False), (2, "Globex", False), (3, "Initech", False)]
        # the signing key is kept in DEMO_STATE_DIR: the first start's tokens still work
        assert httpx.get(f"{second.base_url}/api/companies", headers=as_admin_a(first)).status_code == 200
        answered = walk(second)
        assert [status for _, status in answered] == promised, answered
