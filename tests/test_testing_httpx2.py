"""djfapi.testing runs on httpx2, the client Starlette's TestClient is built on: importing it and
sending a request raises no warning, so ``pytest -W error`` passes for a project's tests."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Warnings are errors from the interpreter's start: an import-time warning fails the script too.
SCRIPT = """
import os
os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"
import django
django.setup()
import httpx2
from fastapi import FastAPI
from djfapi.testing import Client

app = FastAPI()

@app.get("/hello")
def hello() -> dict:
    return {"hello": "world"}

client = Client(app).authenticate(["business.companies.read.any"], tenant="t1")
assert isinstance(client, httpx2.Client), type(client).__mro__
assert client.get("/hello").json() == {"hello": "world"}
"""


def test_a_client_request_raises_no_warning():
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-W", "error", "-c", SCRIPT], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "httpx" not in result.stderr.lower(), result.stderr
