"""File fields through a JSON API: a file reads as its storage's URL (list and retrieve, on
both read paths), and a JSON body can never point a row at a stored path: null or "" clears
the file, the URL it reads as keeps it, any other string is a 422 naming the field."""

import os

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from fastapi import FastAPI
from fastapi.testclient import TestClient

from djfapi import ModelViewSet, Router, Schemas
from djfapi.schemas import schema_for
from tests.testapp import models

DocumentOut = schema_for(models.Document, name="DocumentOut")
DocumentIn = schema_for(models.Document, exclude=["id"], name="DocumentIn")


@pytest.fixture(params=["auto", "instances"])
def files(request):
    class DocumentViewSet(ModelViewSet):
        model = models.Document
        schemas = Schemas(get=DocumentOut, create=DocumentIn, update=DocumentIn)
        tenant_field = None
        read_rows = request.param

    router = Router()
    router.register("documents", DocumentViewSet)
    app = FastAPI()
    app.include_router(router)
    with TestClient(app) as client:
        yield client


def stored(title: str = "report") -> models.Document:
    document = models.Document(title=title)
    document.attachment.save("report.txt", ContentFile(b"hello"), save=True)
    return document


def test_a_file_reads_as_its_url_in_list_and_retrieve(files):
    document = stored()
    empty = models.Document.objects.create(title="no file")
    assert document.attachment.name.startswith("documents/report")
    assert os.path.isfile(os.path.join(settings.MEDIA_ROOT, document.attachment.name))
    url = f"/media/{document.attachment.name}"
    assert files.get(f"/documents/{document.pk}").json()["attachment"] == url
    rows = {row["id"]: row["attachment"] for row in files.get("/documents").json()["items"]}
    assert rows == {document.pk: url, empty.pk: None}


@pytest.mark.parametrize("path", ["../../etc/passwd", "/etc/passwd", "documents/other.txt",
                                  "http://example.com/x.txt"])
def test_a_json_body_never_sets_a_file_path(files, path):
    response = files.post("/documents", json={"title": "evil", "attachment": path})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "attachment"]
    assert "attachment is a file" in response.json()["detail"][0]["msg"]
    assert not models.Document.objects.exists()


def test_updating_cannot_repoint_a_stored_file(files):
    document = stored()
    name = document.attachment.name
    for method in ("put", "patch"):
        response = files.request(method, f"/documents/{document.pk}",
                                 json={"title": "x", "attachment": "../../etc/passwd"})
        assert response.status_code == 422, method
        assert response.json()["detail"][0]["loc"] == ["body", "attachment"]
    document.refresh_from_db()
    assert document.attachment.name == name


def test_the_url_a_read_gave_keeps_the_file_and_null_clears_it(files):
    document = stored()
    name = document.attachment.name
    read = files.get(f"/documents/{document.pk}").json()
    response = files.put(f"/documents/{document.pk}", json={**read, "title": "renamed"})
    assert response.status_code == 200, response.text
    assert response.json()["attachment"] == read["attachment"]
    document.refresh_from_db()
    assert (document.title, document.attachment.name) == ("renamed", name)
    kept = files.patch(f"/documents/{document.pk}", json={"title": "kept"})
    assert kept.json()["attachment"] == read["attachment"]
    response = files.patch(f"/documents/{document.pk}", json={"attachment": None})
    assert response.status_code == 200, response.text
    assert response.json()["attachment"] is None
    document.refresh_from_db()
    assert document.attachment.name == ""


def test_creating_without_a_file(files):
    response = files.post("/documents", json={"title": "plain"})
    assert response.status_code == 201, response.text
    assert response.json()["attachment"] is None
