"""djfapi.install(app): Django's exceptions as JSON errors with a `detail`; documented errors."""

import logging

import pytest
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, SuspiciousOperation, ValidationError
from django.db import IntegrityError
from django.http import Http404
from fastapi import FastAPI
from fastapi.testclient import TestClient

import djfapi
from djfapi.exceptions import InvalidBody, InvalidInput
from tests.testapp.api import build_router

RAISED = {
    "missing": ObjectDoesNotExist("Company matching query does not exist."),
    "http404": Http404("No such page."),
    "denied": PermissionDenied("Only owners may do that."),
    "invalid": ValidationError({"name": ["Ensure this value has at most 100 characters."],
                                "__all__": ["Name and code clash."]}),
    "invalid-plain": ValidationError("Not a valid company."),
    "conflict": IntegrityError('duplicate key value violates unique constraint "secret_idx"'),
    "input": InvalidInput.at(("query", "near"), "Give a place.", "missing"),
    "input-by-its-old-name": InvalidBody([{"loc": ["body", "code"], "msg": "Taken.", "type": "unique"}],
                                         status_code=409),
    "suspicious": SuspiciousOperation("Looks forged."),
    "crash": RuntimeError("password=hunter2 in a stack frame"),
}


def _deadlock():
    import psycopg
    from django.db import OperationalError

    error = OperationalError("deadlock detected")
    error.__cause__ = psycopg.errors.DeadlockDetected("deadlock detected")  # as Django wraps it
    return error


RAISED["deadlock"] = _deadlock()


@pytest.fixture
def installed_client():
    app = FastAPI()
    djfapi.install(app)

    @app.get("/raise/{kind}")
    def raise_it(kind: str):
        raise RAISED[kind]

    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


@pytest.mark.parametrize(
    ("kind", "status", "detail"),
    [
        ("missing", 404, "Company matching query does not exist."),
        ("http404", 404, "No such page."),
        ("denied", 403, "Only owners may do that."),
        ("invalid", 422, [
            {"loc": ["body", "name"], "msg": "Ensure this value has at most 100 characters.",
             "type": "validation_error"},
            {"loc": ["body"], "msg": "Name and code clash.", "type": "validation_error"},
        ]),
        ("invalid-plain", 422, [
            {"loc": ["body"], "msg": "Not a valid company.", "type": "validation_error"},
        ]),
        ("conflict", 409, "The change conflicts with data already stored."),
        ("suspicious", 400, "The request was refused as suspicious (SuspiciousOperation)."),
        ("deadlock", 409, "The request conflicted with a concurrent one and was rolled back; send it again."),
        ("input", 422, [{"loc": ["query", "near"], "msg": "Give a place.", "type": "missing"}]),
        ("input-by-its-old-name", 409, [{"loc": ["body", "code"], "msg": "Taken.", "type": "unique"}]),
        ("crash", 500, "Internal server error."),
    ],
)
def test_installed_handlers_answer_json_with_detail(installed_client, kind, status, detail):
    response = installed_client.get(f"/raise/{kind}")
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"detail": detail}


def test_invalid_body_is_the_old_name_of_invalid_input():
    """Code that raises or catches InvalidBody keeps working, for the query's and path's errors too."""
    assert InvalidBody is InvalidInput


def test_server_errors_are_logged_but_not_sent(installed_client, caplog):
    with caplog.at_level(logging.ERROR, logger="djfapi"):
        response = installed_client.get("/raise/crash")
    assert "hunter2" not in response.text
    assert any("hunter2" in str(record.exc_info[1]) for record in caplog.records)


def test_generated_endpoints_answer_json_errors_without_install():
    app = FastAPI()
    app.include_router(build_router())
    with TestClient(app) as client:
        response = client.get("/companies/99")
    assert response.status_code == 404
    assert response.json() == {"detail": "No company with company_id 99."}


def test_operations_document_their_error_responses(app):
    paths = app.openapi()["paths"]
    codes = {
        (path, method): set(operation["responses"])
        for path, operations in paths.items()
        for method, operation in operations.items()
    }
    assert codes[("/api/companies", "get")] == {"200", "304", "422"}
    assert codes[("/api/companies", "post")] == {"201", "409", "413", "415", "422"}
    assert codes[("/api/companies/{company_id}", "get")] == {"200", "304", "404", "422"}
    assert codes[("/api/companies/{company_id}", "patch")] == {
        "200", "404", "409", "412", "413", "415", "422"}
    assert codes[("/api/companies/{company_id}", "delete")] == {"204", "404", "409", "412", "422"}
    assert codes[("/api/companies/{company_id}/departments", "get")] == {"200", "304", "404", "422"}
    error = paths["/api/companies/{company_id}"]["get"]["responses"]["404"]
    assert error["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorBody"}
