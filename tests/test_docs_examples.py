"""The Python blocks of the documentation (docs/*.md, in the site's navigation order) run, in
order, in one namespace, against the test app's models; so do the README's, in a namespace of
their own."""

import re
import sys
import types
from pathlib import Path

import pytest
import yaml
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.testapp import models

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
MODEL_NAMES = ("Company", "Department", "Team", "Employee", "Country", "Costcenter", "Tag")
# A reader's project files, not runnable here (tests/test_tutorial_e2e.py runs them).
PROJECT_FILES = ("# myapp/models.py", "# myproject/", "# myapp/api.py, step")


def doc_pages() -> list[Path]:
    """The pages of mkdocs.yml's nav, in order."""
    nav = yaml.safe_load((ROOT / "mkdocs.yml").read_text())["nav"]
    return [ROOT / "docs" / next(iter(entry.values())) for entry in nav]


def blocks_of(page: Path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", page.read_text(), flags=re.DOTALL)


def python_blocks(pages) -> list[tuple[Path, str]]:
    return [(page, block) for page in pages for block in blocks_of(page)
            if not block.startswith(PROJECT_FILES)]


def run_blocks(monkeypatch, pages) -> dict:
    monkeypatch.setitem(sys.modules, "myapp", types.ModuleType("myapp"))
    monkeypatch.setitem(sys.modules, "myapp.models", models)  # the docs' models are the test app's
    namespace = {name: getattr(models, name) for name in MODEL_NAMES}
    for page, block in python_blocks(pages):
        exec(compile(block, str(page), "exec"), namespace)
    return namespace


@pytest.fixture
def docs(monkeypatch):
    return run_blocks(monkeypatch, doc_pages())


@pytest.fixture
def readme(monkeypatch):
    return run_blocks(monkeypatch, [README])


def test_every_page_is_in_the_navigation():
    assert sorted(doc_pages()) == sorted((ROOT / "docs").glob("*.md"))


def test_the_docs_have_python_blocks():
    assert len(python_blocks(doc_pages())) >= 20
    assert len(python_blocks([README])) == 2


def test_the_first_api_works(docs):
    with TestClient(docs["app"]) as client:
        company = client.post("/api/companies", json={"name": "Acme"})
        assert company.status_code == 201
        company_id = company.json()["id"]
        department = client.post(f"/api/companies/{company_id}/departments", json={"name": "Sales"})
        assert department.status_code == 201
        assert department.json()["company_id"] == company_id
        assert client.post(f"/api/companies/{company_id}/archive").json()["archived"] is True
        assert client.get(f"/api/companies/{company_id}").status_code == 404  # get_queryset hides it
        assert client.get("/stats").json() == {"companies": 1}


def mounted(router) -> TestClient:
    app = FastAPI()
    app.include_router(router)
    return TestClient(app)


def test_the_other_examples_work(docs):
    from djfapi import Router

    models.Company.objects.create(name="Acme Archived", archived=True)
    models.Company.objects.create(name="Beta")
    router = Router()
    router.register("companies", docs["ReportingCompanyViewSet"])
    router.register("guarded", docs["GuardedCompanyViewSet"])
    client = mounted(router)
    assert client.get("/companies/summary", params={"name": "acme"}).json() == {
        "count": 0, "archived": 0,  # the README's get_queryset leaves archived companies out
    }
    assert client.get("/companies/summary").json() == {"count": 1, "archived": 0}
    beta = models.Company.objects.get(name="Beta")
    assert client.get(f"/guarded/{beta.id}").status_code == 200
    router.register("staff-aware", docs["StaffAwareCompanyViewSet"])
    client = mounted(router)
    beta.tenant_id = "tenant-a"
    beta.save()
    shown = client.get(f"/staff-aware/{beta.id}")
    assert shown.json() == {"id": beta.id, "name": "Beta"}
    assert set(client.get(f"/staff-aware/{beta.id}", headers={"X-Role": "staff"}).json()) > {"id", "name"}
    refused = client.put(f"/staff-aware/{beta.id}", json={"name": "Admin"})
    assert refused.status_code == 422
    assert "'Admin' is reserved" in refused.json()["detail"][0]["msg"]
    renamed = client.put(f"/staff-aware/{beta.id}", json={"name": "Beta 2"})
    assert renamed.json() == {"id": beta.id, "name": "Beta 2"}
    assert [r.path for r in docs["nested"].routes][-1] == (
        "/companies/{company_id}/departments/{department_id}/teams/{team_id}"
    )


def test_the_schemas_examples_work(docs):
    from djfapi import Router

    models.Country.objects.create(code="DE", name="Germany")
    router = Router()
    router.register("companies", docs["CompanyDetailViewSet"])
    client = mounted(router)
    created = client.post("/companies", json={
        "name": "Acme", "country_id": "DE", "departments": [{"name": "Sales"}, {"name": "Ops"}]})
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["display_name"], body["country"]) == ("Acme (demo)", {"code": "DE", "name": "Germany"})
    sales = body["departments"][0]
    replaced = client.put(f"/companies/{body['id']}", json={
        "name": "Acme", "departments": [{"id": sales["id"], "name": "Sales EU"}]})
    assert [d["name"] for d in replaced.json()["departments"]] == ["Sales EU"]
    code = docs["CountryIn"].model_fields["code"]
    assert [m.max_length for m in code.metadata if hasattr(m, "max_length")] == [2]
    assert docs["CostcenterPatch"]().model_dump()["code"] is None
    from djfapi.schemas import transfer_from_orm, transfer_to_orm

    company = models.Company.objects.get()
    assert transfer_from_orm(docs["CompanyAudit"], company).title == "Acme"
    transfer_to_orm(docs["CompanyRename"](title="  Beta "), company)
    assert company.name == "Beta"


def test_the_security_example_works(docs):
    from djfapi.testing import Client

    owned = models.Company.objects.create(tenant_id="t1", name="Owned")
    models.Company.objects.create(tenant_id="t1", name="Other")
    models.Company.objects.create(tenant_id="t2", name="Elsewhere")
    models.Employee.objects.create(company=owned, user_id="u1", type="owner")
    client = Client(mounted(docs["secure"]).app)
    assert client.get("/companies").status_code == 401
    client.authenticate(["business.companies.read.any"], tenant="t1")
    assert [c["name"] for c in client.get("/companies").json()["items"]] == ["Owned", "Other"]
    client.authenticate(["business.companies.read.own"], tenant="t1", user="u1")
    assert [c["name"] for c in client.get("/companies").json()["items"]] == ["Owned"]
    client.authenticate(["business.companies.update.own"], tenant="t1", user="u1")
    assert client.post(f"/companies/{owned.id}/departments", json={"name": "x"}).status_code == 403
    client.authenticate(["business.companies.update.own", "business.companies.read.own"], tenant="t1",
                        user="u1")
    assert client.post(f"/companies/{owned.id}/departments", json={"name": "x"}).status_code == 201


def test_the_testing_example_runs(docs):
    docs["test_list_companies"](None)


def test_the_querying_example_works(docs):
    from djfapi import Router

    company = models.Company.objects.create(tenant_id="t1", name="Acme")
    for code, kind in (("CC1", "opex"), ("CC2", "capex"), ("DD3", "opex")):
        models.Costcenter.objects.create(company=company, code=code, kind=kind)
    router = Router()
    router.register("costcenters", docs["CostcenterViewSet"])
    router.register("log", docs["CostcenterLogViewSet"])
    client = mounted(router)
    listed = client.get("/costcenters", params={"kind": "opex", "code__not": "DD3", "search": "acme"})
    assert [c["code"] for c in listed.json()["items"]] == ["CC1"]
    assert client.get("/costcenters/aggregate/count/id", params={"group_by": "kind"}).json() == {
        "values": [{"kind": "capex", "value": 1}, {"kind": "opex", "value": 2}]}
    assert client.get("/log", params={"page_size": 2}).json()["next"] is not None


def test_the_django_filter_example_works(docs):
    from djfapi import Router

    company = models.Company.objects.create(tenant_id="t1", name="Acme")
    for code, budget in (("CC1", "10"), ("CC2", "300"), ("DD3", "200")):
        models.Costcenter.objects.create(company=company, code=code, budget=budget)
    router = Router()
    router.register("costcenters", docs["FilteredCostcenterViewSet"])
    client = mounted(router)
    listed = client.get("/costcenters", params={"min_budget": "100", "ordering": "-budget"})
    assert [c["code"] for c in listed.json()["items"]] == ["CC2", "DD3"]


def project_block(first_line: str) -> str:
    blocks = [block for page in doc_pages() for block in blocks_of(page)]
    return next(block for block in blocks if block.startswith(first_line))


def test_the_tutorial_models_are_the_test_apps():
    """The models block is not run (it would define the models twice); it must not drift from
    the test app's models the other blocks run against."""
    import ast

    tree = ast.parse(project_block("# myapp/models.py"))
    classes = [node for node in tree.body if isinstance(node, ast.ClassDef)]
    assert len(classes) == 7
    for node in classes:
        model = getattr(models, node.name)
        for statement in node.body:
            if isinstance(statement, ast.Assign) and isinstance(statement.value, ast.Call):
                name = statement.targets[0].id
                field_class = statement.value.func.attr
                assert type(model._meta.get_field(name)).__name__ == field_class, (node.name, name)


def test_the_tutorial_asgi_module_is_the_demos():
    """Every line of the tutorial's asgi.py stands in example/demo/asgi.py (the demo's names for
    the project and the app)."""
    demo = [line.split("  #")[0].strip()
            for line in (ROOT / "example" / "demo" / "asgi.py").read_text().splitlines()]
    block = project_block("# myproject/asgi.py").replace("myproject.", "demo.").replace("myapp.", "demo.")
    for line in block.splitlines():
        code = line.split("  #")[0].strip()
        if not code or code.startswith("#"):
            continue
        assert code in demo or (code.endswith("()") and any(d.startswith(code[:-1]) for d in demo)), code


def test_the_throttling_example_works(docs, settings):
    from djfapi import Router

    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                                   "LOCATION": "readme-throttling"}}
    settings.DJFAPI = {"DEFAULT_THROTTLE_RATES": {"user": "100/hour", "exports": "1/hour"}}
    router = Router()
    router.register("companies", docs["ThrottledCompanyViewSet"])
    client = mounted(router)
    assert [client.get("/companies/export").status_code for _ in range(2)] == [200, 429]
    assert client.get("/companies").status_code == 200


def test_the_files_example_uploads(docs):
    import shutil
    from pathlib import Path

    from django.conf import settings

    with mounted(docs["documents"]) as client:
        created = client.post("/documents", data={"title": "Report"},
                              files={"attachment": ("report.pdf", b"%PDF-1.4 x", "application/pdf")})
        assert created.status_code == 201, created.text
        assert created.json()["attachment"].startswith("/media/documents/report")
        renamed = client.patch(f"/documents/{created.json()['id']}", data={"title": "Renamed"})
        assert renamed.json()["title"] == "Renamed"
        assert renamed.json()["attachment"] == created.json()["attachment"]
        evil = client.post("/documents", json={"title": "x", "attachment": "../../etc/passwd"})
        assert evil.status_code == 422
    shutil.rmtree(Path(settings.MEDIA_ROOT) / "documents")


def test_the_testcase_example_passes(docs, django_db_blocker):
    import unittest

    suite = unittest.defaultTestLoader.loadTestsFromTestCase(docs["CompanyListTests"])
    with django_db_blocker.unblock():
        result = unittest.TestResult()
        suite.run(result)
    assert (result.testsRun, result.errors, result.failures) == (1, [], [])


def test_the_readme_example_is_secure_and_per_tenant(readme):
    from djfapi.testing import Client

    acme = models.Company.objects.create(tenant_id="t1", name="Acme")
    models.Company.objects.create(tenant_id="t2", name="Umbrella")
    client = Client(readme["app"])
    assert client.get("/api/companies").status_code == 401
    client.authenticate(["business.companies.read.any"], tenant="t1")
    assert [c["name"] for c in client.get("/api/companies").json()["items"]] == ["Acme"]
    assert client.post("/api/companies", json={"name": "Stark"}).status_code == 403
    client.authenticate(["business.companies.create", "business.companies.update.any"], tenant="t1")
    assert client.get("/api/companies").status_code == 403
    created = client.post("/api/companies", json={"name": "Stark"})
    assert created.status_code == 201, created.text
    assert models.Company.objects.get(name="Stark").tenant_id == "t1"
    departments = f"/api/companies/{acme.id}/departments"
    assert client.post(departments, json={"name": "Sales"}).status_code == 403  # no read scope
    client.authenticate(["business.companies.read.any", "business.companies.update.any"], tenant="t1")
    assert client.post(departments, json={"name": "Sales"}).status_code == 201
    assert client.put(f"/api/companies/{acme.id}", json={"name": "Acme 2"}).status_code == 200
    assert client.delete(f"/api/companies/{acme.id}").status_code == 403
    client.authenticate(["business.companies.read.any", "business.companies.update.any"], tenant="t2")
    assert client.post(departments, json={"name": "Intruder"}).status_code == 404


def test_the_readme_testing_example_runs(readme):
    readme["test_companies_are_per_tenant"](None)


def test_the_project_blocks_compile_and_their_settings_are_djfapis(settings):
    """The blocks naming a project file are not run with the others; each compiles, and a
    settings block's DJFAPI holds only keys and classes djfapi reads (an unknown key, or a class
    path that does not import, is an ImproperlyConfigured)."""
    from djfapi.conf import DEFAULTS, api_setting

    blocks = [(page, block) for page in doc_pages() for block in blocks_of(page)
              if block.startswith(PROJECT_FILES)]
    assert len(blocks) >= 5
    for page, block in blocks:
        code = compile(block, str(page), "exec")
        if block.startswith("# myproject/settings.py"):
            namespace: dict = {}
            exec(code, namespace)
            settings.DJFAPI = namespace["DJFAPI"]
            for name in namespace["DJFAPI"]:
                assert name in DEFAULTS, (page, name)
                api_setting(name)
