"""The demo over real HTTP: its server started as a process (uvicorn on a free loopback port,
SQLite in a temp dir), driven with httpx, and its /docs rendered by headless Chromium with the
network closed to everything but loopback."""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "example"
README = ROOT / "README.md"

pytestmark = pytest.mark.skipif(
    os.environ.get("DJFAPI_TEST_DATABASE") == "postgres",
    reason="the demo runs on a SQLite database of its own: once per test run is enough",
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """(base URL, tokens) of a running demo server; stopped after the module."""
    state = tmp_path_factory.mktemp("demo")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DJFAPI_TEST"))}
    env.update(DEMO_STATE_DIR=str(state), DATABASE_URL=f"sqlite:///{state / 'db.sqlite3'}")
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "--noinput", "-v0"], cwd=EXAMPLE, env=env, check=True)
    loaded = subprocess.run([*manage, "demo_data"], cwd=EXAMPLE, env=env, check=True,
                            capture_output=True, text=True).stdout
    tokens = dict(re.findall(r"^export (TOKEN_\w+)=(\S+)$", loaded, flags=re.M))
    assert set(tokens) == {"TOKEN_A_ADMIN", "TOKEN_A_OWNER", "TOKEN_B_ADMIN"}
    assert "DEVELOPMENT-ONLY" in loaded
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "demo.asgi:app", "--host", "127.0.0.1", "--port", str(port)],
        cwd=EXAMPLE, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/docs", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None, server.stdout.read().decode()
            assert time.monotonic() < deadline, "the demo server did not come up in 30 s"
            time.sleep(0.2)
        yield base, tokens
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()


def as_(tokens, who):
    return {"Authorization": f"Bearer {tokens[who]}"}


def test_the_demo_api_over_http(demo):
    base, tokens = demo
    with httpx.Client(base_url=base, timeout=10) as http:
        admin_a, owner_a, admin_b = (as_(tokens, who) for who in
                                     ("TOKEN_A_ADMIN", "TOKEN_A_OWNER", "TOKEN_B_ADMIN"))
        listed = http.get("/api/companies", headers=admin_a).json()
        assert [c["name"] for c in listed["items"]] == ["Acme", "Globex", "Initech"]
        assert listed["total"] == 3
        assert [c["name"] for c in http.get("/api/companies", headers=owner_a).json()["items"]] == ["Acme"]
        # a filter and a page
        assert [c["name"] for c in http.get("/api/companies", headers=admin_a,
                                            params={"name__icontains": "glo"}).json()["items"]] == ["Globex"]
        page = http.get("/api/companies", headers=admin_a, params={"limit": 1, "offset": 1}).json()
        assert ([c["name"] for c in page["items"]], page["total"]) == (["Globex"], 3)
        # create, with a nested write, then a nested create and read
        created = http.post("/api/companies", headers=admin_a,
                            json={"name": "Wayne", "departments": [{"name": "R&D"}]})
        assert created.status_code == 201, created.text
        company = created.json()
        department_id = company["departments"][0]["id"]
        teams = f"/api/companies/{company['id']}/departments/{department_id}/teams"
        team = http.post(teams, headers=admin_a, json={"name": "Gadgets"})
        assert team.status_code == 201
        assert http.get(f"{teams}/{team.json()['id']}", headers=admin_a).json() == team.json()
        # 401, 403, 404
        assert http.get("/api/companies").status_code == 401
        assert http.delete(f"/api/companies/{company['id']}", headers=owner_a).status_code == 403
        assert http.get(f"/api/companies/{company['id']}", headers=admin_b).status_code == 404
        assert http.post(teams, headers=admin_b, json={"name": "intruder"}).status_code == 404


def readme_curl_lines() -> list[tuple[str, int]]:
    """Every `curl ... # NNN ...` line of the README's shell blocks, with the status it promises."""
    blocks = re.findall(r"```sh\n(.*?)```", README.read_text(), flags=re.S)
    lines = [line for block in blocks for line in block.splitlines() if line.startswith("curl ")]
    return [(line.split("  # ")[0], int(line.split("  # ")[1][:3])) for line in lines]


def test_the_readme_walkthrough_runs_against_the_demo(demo):
    base, tokens = demo
    lines = readme_curl_lines()
    assert len(lines) >= 8
    env = {**os.environ, **tokens}
    for command, expected in lines:
        command = command.replace("http://127.0.0.1:8000", base)
        result = subprocess.run(["bash", "-c", f"{command} -o /dev/null -w '%{{http_code}}'"],
                                env=env, capture_output=True, text=True, timeout=30)
        assert result.stdout == str(expected), (command, result.stdout, result.stderr)


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None and os.environ.get("DJFAPI_REQUIRE_BROWSER") != "1",
                    reason="headless Chromium is not installed (.ci/run installs it)")
def test_the_docs_render_in_a_browser_with_no_network_but_loopback(demo, tmp_path):
    base, _ = demo
    assert CHROMIUM is not None, "DJFAPI_REQUIRE_BROWSER=1 but no chromium on PATH"
    result = subprocess.run([
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",  # every other host: no such host
        "--virtual-time-budget=15000", "--dump-dom", f"{base}/docs",
    ], capture_output=True, text=True, timeout=120)
    dom = result.stdout
    assert 'class="swagger-ui"' in dom, result.stderr[-2000:]
    for summary in ("List companies", "Create company", "Archive a company.", "Aggregate costcenters"):
        assert summary in dom, summary
    for path in ("/api/companies/{company_id}/departments/{department_id}/teams", "/api/companies"):
        assert f'data-path="{path}"' in dom, path
