"""The demo's ``DJFAPI_THREADS``: the threadpool that runs requests' ORM work is sized at
startup (anyio's default, 40, without it), as the README's Deployment section recommends."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Served in a process of its own: the demo has its own settings. The probe route is async, so
# it reads the limiter of the event loop that serves the requests, as the ORM hop uses it.
PROBE = """
import json, anyio.to_thread
from fastapi.testclient import TestClient
from demo.asgi import app

@app.get("/probe/threads")
async def threads() -> int:
    return anyio.to_thread.current_default_thread_limiter().total_tokens

with TestClient(app) as client:
    print("THREADS=" + json.dumps(client.get("/probe/threads").json()))
"""


@pytest.mark.parametrize(("threads", "expected"), [(None, 40), ("4", 4), ("8", 8)])
def test_djfapi_threads_sizes_the_demo_threadpool(tmp_path, threads, expected):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DJFAPI_"))}
    env.update(DEMO_STATE_DIR=str(tmp_path), DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
               PYTHONPATH=str(ROOT), **({"DJFAPI_THREADS": threads} if threads else {}))
    printed = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT / "example", env=env,
                             check=True, capture_output=True, text=True).stdout
    assert json.loads(printed.rpartition("THREADS=")[2]) == expected
