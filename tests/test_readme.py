"""The README's Python blocks run, in order, in one namespace, against the test app's models."""

import re
import sys
import types
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.testapp import models

README = Path(__file__).resolve().parent.parent / "README.md"


PROJECT_FILES = ("# myapp/models.py", "# myproject/")  # a reader's files, not runnable here


def python_blocks() -> list[str]:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL)
    return [block for block in blocks if not block.startswith(PROJECT_FILES)]


@pytest.fixture
def readme(monkeypatch):
    monkeypatch.setitem(sys.modules, "myapp", types.ModuleType("myapp"))
    monkeypatch.setitem(sys.modules, "myapp.models", models)  # the README's models are the test app's
    namespace = {name: getattr(models, name) for name in (
        "Company", "Department", "Team", "Employee", "Country", "Costcenter", "Tag")}
    for block in python_blocks():
        exec(compile(block, str(README), "exec"), namespace)
    return namespace


def test_readme_has_python_blocks():
    assert len(python_blocks()) >= 5


def test_the_first_api_works(readme):
    with TestClient(readme["app"]) as client:
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


def test_the_other_examples_work(readme):
    from djfapi import Router

    models.Company.objects.create(name="Acme Archived", archived=True)
    models.Company.objects.create(name="Beta")
    router = Router()
    router.register("companies", readme["ReportingCompanyViewSet"])
    router.register("guarded", readme["GuardedCompanyViewSet"])
    client = mounted(router)
    assert client.get("/companies/summary", params={"name": "acme"}).json() == {
        "count": 0, "archived": 0,  # the README's get_queryset leaves archived companies out
    }
    assert client.get("/companies/summary").json() == {"count": 1, "archived": 0}
    beta = models.Company.objects.get(name="Beta")
    assert client.get(f"/guarded/{beta.id}").status_code == 200
    router.register("staff-aware", readme["StaffAwareCompanyViewSet"])
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
    assert [r.path for r in readme["nested"].routes][-1] == (
        "/companies/{company_id}/departments/{department_id}/teams/{team_id}"
    )


def test_the_schemas_examples_work(readme):
    from djfapi import Router

    models.Country.objects.create(code="DE", name="Germany")
    router = Router()
    router.register("companies", readme["CompanyDetailViewSet"])
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
    code = readme["CountryIn"].model_fields["code"]
    assert [m.max_length for m in code.metadata if hasattr(m, "max_length")] == [2]
    assert readme["CostcenterPatch"]().model_dump()["code"] is None
    from djfapi.schemas import transfer_from_orm, transfer_to_orm

    company = models.Company.objects.get()
    assert transfer_from_orm(readme["CompanyAudit"], company).title == "Acme"
    transfer_to_orm(readme["CompanyRename"](title="  Beta "), company)
    assert company.name == "Beta"


def test_the_security_example_works(readme):
    from djfapi.testing import Client

    owned = models.Company.objects.create(tenant_id="t1", name="Owned")
    models.Company.objects.create(tenant_id="t1", name="Other")
    models.Company.objects.create(tenant_id="t2", name="Elsewhere")
    models.Employee.objects.create(company=owned, user_id="u1", type="owner")
    client = Client(mounted(readme["secure"]).app)
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


def test_the_testing_example_runs(readme):
    readme["test_list_companies"](None)


def test_the_querying_example_works(readme):
    from djfapi import Router

    company = models.Company.objects.create(tenant_id="t1", name="Acme")
    for code, kind in (("CC1", "opex"), ("CC2", "capex"), ("DD3", "opex")):
        models.Costcenter.objects.create(company=company, code=code, kind=kind)
    router = Router()
    router.register("costcenters", readme["CostcenterViewSet"])
    router.register("log", readme["CostcenterLogViewSet"])
    client = mounted(router)
    listed = client.get("/costcenters", params={"kind": "opex", "code__not": "DD3", "search": "acme"})
    assert [c["code"] for c in listed.json()["items"]] == ["CC1"]
    assert client.get("/costcenters/aggregate/count/id", params={"group_by": "kind"}).json() == {
        "values": [{"kind": "capex", "value": 1}, {"kind": "opex", "value": 2}]}
    assert client.get("/log", params={"page_size": 2}).json()["next"] is not None


def test_the_django_filter_example_works(readme):
    from djfapi import Router

    company = models.Company.objects.create(tenant_id="t1", name="Acme")
    for code, budget in (("CC1", "10"), ("CC2", "300"), ("DD3", "200")):
        models.Costcenter.objects.create(company=company, code=code, budget=budget)
    router = Router()
    router.register("costcenters", readme["FilteredCostcenterViewSet"])
    client = mounted(router)
    listed = client.get("/costcenters", params={"min_budget": "100", "ordering": "-budget"})
    assert [c["code"] for c in listed.json()["items"]] == ["CC2", "DD3"]


def project_block(first_line: str) -> str:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL)
    return next(block for block in blocks if block.startswith(first_line))


def test_the_readme_models_are_the_test_apps():
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


def test_the_readme_asgi_module_is_the_demos():
    """Every line of the README's asgi.py stands in example/demo/asgi.py (the demo's names for
    the project and the app)."""
    demo = [line.split("  #")[0].strip()
            for line in (README.parent / "example" / "demo" / "asgi.py").read_text().splitlines()]
    block = project_block("# myproject/asgi.py").replace("myproject.", "demo.").replace("myapp.", "demo.")
    for line in block.splitlines():
        code = line.split("  #")[0].strip()
        if not code or code.startswith("#"):
            continue
        assert code in demo or (code.endswith("()") and any(d.startswith(code[:-1]) for d in demo)), code


def test_the_throttling_example_works(readme, settings):
    from djfapi import Router

    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                                   "LOCATION": "readme-throttling"}}
    settings.DJFAPI = {"DEFAULT_THROTTLE_RATES": {"user": "100/hour", "exports": "1/hour"}}
    router = Router()
    router.register("companies", readme["ThrottledCompanyViewSet"])
    client = mounted(router)
    assert [client.get("/companies/export").status_code for _ in range(2)] == [200, 429]
    assert client.get("/companies").status_code == 200


def test_the_files_example_uploads(readme):
    import shutil
    from pathlib import Path

    from django.conf import settings

    with mounted(readme["documents"]) as client:
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


def test_the_testcase_example_passes(readme, django_db_blocker):
    import unittest

    suite = unittest.defaultTestLoader.loadTestsFromTestCase(readme["CompanyListTests"])
    with django_db_blocker.unblock():
        result = unittest.TestResult()
        suite.run(result)
    assert (result.testsRun, result.errors, result.failures) == (1, [], [])
