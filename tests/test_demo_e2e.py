"""The demo over real HTTP: its server started as a process (uvicorn on a free loopback port,
on SQLite in a temp dir, or on a PostgreSQL database of its own in the PostgreSQL run), driven
with httpx; the tenancy matrix over every route it serves; its /docs rendered by headless
Chromium with the network closed to everything but loopback."""

import os
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.serving import postgres_database, serve

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "example"
README = ROOT / "README.md"

ON_POSTGRES = os.environ.get("DJFAPI_TEST_DATABASE") == "postgres"
TABLES = ("companies_company", "companies_department", "companies_team", "companies_costcenter",
          "companies_employee")


@pytest.fixture(scope="module")
def demo_database(tmp_path_factory):
    """The DATABASE_URL of the demo's own database (a SQLite file, or a PostgreSQL database
    made for the module and dropped after it), and a function that reads every row of it."""
    if not ON_POSTGRES:
        path = tmp_path_factory.mktemp("demo-db") / "db.sqlite3"

        def rows(table):
            with sqlite3.connect(path) as connection:
                return connection.execute(f"SELECT * FROM {table} ORDER BY id").fetchall()

        yield f"sqlite:///{path}", rows
        return
    import psycopg

    with postgres_database(f"djfapi_demo_e2e_{os.getpid()}") as url:
        def rows(table):
            with psycopg.connect(url) as connection:
                return connection.execute(f"SELECT * FROM {table} ORDER BY id").fetchall()

        yield url, rows


@pytest.fixture(scope="module")
def demo(tmp_path_factory, demo_database):
    """(base URL, tokens) of a running demo server; stopped after the module."""
    state = tmp_path_factory.mktemp("demo")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DJFAPI_TEST"))}
    env.update(DEMO_STATE_DIR=str(state), DATABASE_URL=demo_database[0], PYTHONPATH=str(ROOT))
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "--noinput", "-v0"], cwd=EXAMPLE, env=env, check=True)
    loaded = subprocess.run([*manage, "demo_data"], cwd=EXAMPLE, env=env, check=True,
                            capture_output=True, text=True).stdout
    tokens = dict(re.findall(r"^export (TOKEN_\w+)=(\S+)$", loaded, flags=re.M))
    assert set(tokens) == {"TOKEN_A_ADMIN", "TOKEN_A_OWNER", "TOKEN_B_ADMIN"}
    assert "DEVELOPMENT-ONLY" in loaded
    with serve("demo.asgi:app", env=env, cwd=EXAMPLE, log_path=state / "server.log") as server:
        yield server.base_url, tokens


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


def walkthrough_curl_lines() -> list[tuple[str, int]]:
    """Every `curl ... # NNN ...` line of the shell blocks of the README and of docs/*.md, with
    the status it promises."""
    pages = [README, *sorted((ROOT / "docs").glob("*.md"))]
    blocks = [block for page in pages
              for block in re.findall(r"```sh\n(.*?)```", page.read_text(), flags=re.S)]
    lines = [line for block in blocks for line in block.splitlines() if line.startswith("curl ")]
    return [(line.split("  # ")[0], int(line.split("  # ")[1][:3])) for line in lines]


def test_the_walkthrough_runs_against_the_demo(demo):
    base, tokens = demo
    lines = walkthrough_curl_lines()
    assert len(lines) >= 16
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


# -- the tenancy matrix over every route the demo serves ---------------------------------------

def example_value(schema, components):
    """A small valid value of an OpenAPI ``schema`` (required properties only)."""
    if "$ref" in schema:
        return example_value(components[schema["$ref"].rsplit("/", 1)[1]], components)
    if "anyOf" in schema:
        return example_value(next(s for s in schema["anyOf"] if s.get("type") != "null"), components)
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object":
        return {name: example_value(schema["properties"][name], components)
                for name in schema.get("required", [])}
    if kind == "array":
        return []
    return {"string": "intruder", "integer": 1, "number": 1, "boolean": False}.get(kind)


def demo_operations(base):
    """(method, path template, body) for every operation of the demo's OpenAPI under /api."""
    schema = httpx.get(f"{base}/openapi.json").json()
    components = schema["components"]["schemas"]
    operations = []
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            body_schema = (operation.get("requestBody", {}).get("content", {})
                           .get("application/json", {}).get("schema"))
            body = example_value(body_schema, components) if body_schema else None
            operations.append((method.upper(), path, body))
    return operations


def ids_under(http, headers, company_id):
    """Path values naming tenant A's rows at every depth below ``company_id``."""
    base = f"/api/companies/{company_id}"

    def first(path):
        return http.get(f"{base}/{path}", headers=headers).json()["items"][0]["id"]

    department = first("departments")
    return {"company_id": company_id, "department_id": department,
            "team_id": first(f"departments/{department}/teams"), "costcenter_id": first("costcenters"),
            "employee_id": first("employees"), "function": "sum", "field": "budget"}


def snapshot(rows):
    return {table: rows(table) for table in TABLES}


def test_no_route_of_the_demo_crosses_tenants_or_reaches_past_an_own_selector(demo, demo_database):
    base, tokens = demo
    rows = demo_database[1]
    admin_a, owner_a, admin_b = (as_(tokens, who)
                                 for who in ("TOKEN_A_ADMIN", "TOKEN_A_OWNER", "TOKEN_B_ADMIN"))
    operations = demo_operations(base)
    assert len(operations) >= 30  # companies, departments, teams, costcenters, employees, actions
    with httpx.Client(base_url=base, timeout=10) as http:
        companies = {c["name"]: c["id"] for c in http.get("/api/companies", headers=admin_a,
                                                          params={"limit": 100}).json()["items"]}
        acme = ids_under(http, admin_a, companies["Acme"])
        globex = ids_under(http, admin_a, companies["Globex"])
        checked = 0
        for method, template, body in operations:
            if "{" not in template:
                continue
            for who, headers, values in (("tenant B", admin_b, acme), ("Alice on Globex", owner_a, globex)):
                before = snapshot(rows)
                path = template.format(**values)
                response = http.request(method, path, headers=headers, json=body)
                assert response.status_code in (403, 404, 422), (who, method, path, response.text)
                assert snapshot(rows) == before, (who, method, path)
                checked += 1
            if method == "GET":  # Alice reaches what she owns, at every depth
                response = http.get(template.format(**acme), headers=owner_a)
                assert response.status_code == 200, (method, template, response.text)
        assert checked >= 50
        # Tenant A's names in B's lists and filters, and A's ids in B's bodies: none of them count.
        for template in {t for m, t, _ in operations if m == "GET" and "{" not in t and "aggregate" not in t}:
            listed = http.get(template, headers=admin_b, params={"limit": 100}).json()["items"]
            assert not {c.get("name") for c in listed} & set(companies), template
        assert http.get("/api/companies", headers=admin_b, params={"name": "Acme"}).json()["items"] == []
        before = snapshot(rows)
        created = http.post("/api/companies", headers=admin_b, json={
            "name": "Intruder", "departments": [{"id": acme["department_id"], "name": "hijacked"}]})
        assert created.status_code == 201, created.text
        after = snapshot(rows)
        added = {table: [r[0] for r in after[table] if r not in before[table]] for table in TABLES}
        company, department = created.json()["id"], created.json()["departments"][0]["id"]
        assert added == {"companies_company": [company], "companies_department": [department],
                         "companies_team": [], "companies_costcenter": [], "companies_employee": []}
        assert department != acme["department_id"]  # a new department, not A's moved over
        assert "tenant-b" in next(r for r in after["companies_company"] if r[0] == company)
