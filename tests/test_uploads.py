"""Form bodies: multipart/form-data with file parts and application/x-www-form-urlencoded, on
create, update and partial update. Files are saved through Django's storage inside the write's
transaction (and deleted when it rolls back), images are checked with Pillow, names are made
safe by the storage, and what a form cannot say is a 4xx naming it."""

import io
import os
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.test import override_settings
from fastapi import FastAPI
from fastapi.testclient import TestClient
from PIL import Image
from pydantic import BaseModel

from djfapi import ModelViewSet, Router, Schemas
from djfapi.exceptions import ImproperlyConfigured
from djfapi.schemas import schema_for
from tests.testapp import models

DocumentOut = schema_for(models.Document, name="DocumentOut")
DocumentIn = schema_for(models.Document, exclude=["id"], name="DocumentIn")


class CostcenterIn(BaseModel):
    code: str
    kind: str = "opex"
    budget: float = 0
    starts_on: str | None = None


class CostcenterOut(CostcenterIn):
    id: int


class DepartmentIn(BaseModel):
    name: str


class CompanyIn(BaseModel):
    tenant_id: str = "t"
    name: str
    archived: bool = False
    tags: list[int] = []
    departments: list[DepartmentIn] = []


class CompanyOut(BaseModel):
    id: int
    name: str
    archived: bool
    departments: list[DepartmentIn]


class DocumentViewSet(ModelViewSet):
    model = models.Document
    schemas = Schemas(get=DocumentOut, create=DocumentIn, update=DocumentIn)
    tenant_field = None


class CompanyViewSet(ModelViewSet):
    model = models.Company
    schemas = Schemas(get=CompanyOut, create=CompanyIn, update=CompanyIn)
    tenant_field = None


def client_for(*viewsets: tuple[str, type]) -> TestClient:
    router = Router()
    for prefix, viewset in viewsets:
        router.register(prefix, viewset)
    app = FastAPI()
    app.include_router(router)
    return TestClient(app)


@pytest.fixture
def api():
    with client_for(("documents", DocumentViewSet), ("companies", CompanyViewSet)) as client:
        yield client


def media(name: str) -> Path:
    return Path(settings.MEDIA_ROOT) / name


def png(width: int = 3, height: int = 2) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), "red").save(buffer, "PNG")
    return buffer.getvalue()


def stored_files() -> set[str]:
    root = Path(settings.MEDIA_ROOT)
    return {str(path.relative_to(root)) for path in root.rglob("*") if path.is_file()}


def test_a_multipart_create_saves_the_file_and_reads_it_back_as_its_url(api):
    response = api.post("/documents", data={"title": "report"},
                        files={"attachment": ("report.txt", b"hello", "text/plain")})
    assert response.status_code == 201, response.text
    document = models.Document.objects.get()
    assert document.title == "report"
    assert document.attachment.name.startswith("documents/report")
    assert media(document.attachment.name).read_bytes() == b"hello"
    assert response.json()["attachment"] == f"/media/{document.attachment.name}"
    assert api.get(f"/documents/{document.pk}").json()["attachment"] == f"/media/{document.attachment.name}"


def test_put_and_patch_replace_the_file_and_patch_keeps_what_it_does_not_send(api):
    created = api.post("/documents", data={"title": "v1"}, files={"attachment": ("a.txt", b"one")}).json()
    response = api.patch(f"/documents/{created['id']}", files={"attachment": ("a.txt", b"two")})
    assert response.status_code == 200, response.text
    document = models.Document.objects.get()
    assert document.title == "v1"  # not sent: kept
    assert media(document.attachment.name).read_bytes() == b"two"
    assert response.json()["attachment"] == f"/media/{document.attachment.name}" != created["attachment"]
    response = api.put(f"/documents/{created['id']}", data={"title": "v3"},
                       files={"attachment": ("b.txt", b"three")})
    assert response.status_code == 200, response.text
    document.refresh_from_db()
    assert (document.title, media(document.attachment.name).read_bytes()) == ("v3", b"three")
    response = api.patch(f"/documents/{created['id']}", data={"title": "v4"})  # multipart, no file
    assert response.status_code == 200, response.text
    document.refresh_from_db()
    assert (document.title, media(document.attachment.name).read_bytes()) == ("v4", b"three")


def test_a_form_clears_a_file_with_an_empty_value_and_keeps_it_with_its_url(api):
    created = api.post("/documents", data={"title": "x"}, files={"attachment": ("a.txt", b"one")}).json()
    kept = api.patch(f"/documents/{created['id']}", data={"attachment": created["attachment"]})
    assert kept.status_code == 200 and kept.json()["attachment"] == created["attachment"]
    refused = api.patch(f"/documents/{created['id']}", data={"attachment": "../../etc/passwd"})
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"] == ["body", "attachment"]
    cleared = api.patch(f"/documents/{created['id']}", data={"attachment": ""})
    assert cleared.status_code == 200 and cleared.json()["attachment"] is None
    assert models.Document.objects.get().attachment.name == ""


def test_an_empty_file_input_sends_no_file(api):
    # What a browser sends for a file input left empty: a part with no file name and no bytes.
    response = api.post("/documents", data={"title": "no file"}, files={"attachment": ("", b"")})
    assert response.status_code == 201, response.text
    assert response.json()["attachment"] is None


@pytest.mark.parametrize("filename", ["../../etc/passwd", "/etc/passwd", "..\\..\\win.ini", "a/../../b.txt",
                                      "x" * 300 + ".txt", "rép ort (1).txt", "a\x00b.txt", "a\nb.txt"])
def test_a_file_name_never_leaves_the_upload_directory(api, filename):
    response = api.post("/documents", data={"title": "t"}, files={"attachment": (filename, b"data")})
    assert response.status_code == 201, response.text
    name = models.Document.objects.get().attachment.name
    assert name.startswith("documents/") and name.isprintable()
    assert ".." not in Path(name).parts and "\\" not in name
    assert len(name) <= models.Document._meta.get_field("attachment").max_length
    assert media(name).resolve().is_relative_to(Path(settings.MEDIA_ROOT).resolve())
    assert media(name).read_bytes() == b"data"
    assert not Path("/etc/passwd").read_bytes().startswith(b"data")


@pytest.mark.parametrize("filename", [".", "..", "a/.."])
def test_a_file_name_that_cannot_be_stored_is_a_422(api, filename):
    response = api.post("/documents", data={"title": "t"}, files={"attachment": (filename, b"data")})
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["body", "attachment"]
    assert not models.Document.objects.exists()
    assert not stored_files()


def test_an_image_field_takes_images_only(api):
    response = api.post("/documents", data={"title": "pic"}, files={"picture": ("p.png", png(), "image/png")})
    assert response.status_code == 201, response.text
    document = models.Document.objects.get()
    with Image.open(media(document.picture.name)) as image:
        assert image.size == (3, 2)
    for name, content in [("fake.png", b"not an image"), ("empty.png", b"\x89PNG\r\n")]:
        response = api.post("/documents", data={"title": "bad"},
                            files={"picture": (name, content, "image/png")})
        assert response.status_code == 422, response.text
        assert response.json()["detail"][0]["loc"] == ["body", "picture"]
        assert "must be an image" in response.json()["detail"][0]["msg"]
    assert models.Document.objects.count() == 1
    assert stored_files() == {document.picture.name}


def test_a_write_that_rolls_back_deletes_the_files_it_saved():
    class Refusing(DocumentViewSet):
        def perform_create(self, instance):
            super().perform_create(instance)
            raise ValidationError({"title": "Refused after saving."})

    with client_for(("documents", Refusing)) as client:
        response = client.post("/documents", data={"title": "x"},
                               files={"attachment": ("a.txt", b"one"), "picture": ("p.png", png())})
    assert response.status_code == 422, response.text
    assert not models.Document.objects.exists()
    assert stored_files() == set()


def test_a_body_over_the_upload_limit_is_a_413(api):
    with override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000):
        response = api.post("/documents", data={"title": "big"},
                            files={"attachment": ("big.bin", b"x" * 2000)})
    assert response.status_code == 413
    assert "DATA_UPLOAD_MAX_MEMORY_SIZE" in response.json()["detail"]
    assert not models.Document.objects.exists() and not stored_files()


def test_an_urlencoded_body_is_read_like_its_json(api):
    tags = [models.Tag.objects.create(tenant_id="t", label=label).pk for label in ("a", "b")]
    response = api.post("/companies",
                        data={"name": "Acme", "archived": "true", "tags": [str(t) for t in tags]},
                        headers={"content-type": "application/x-www-form-urlencoded"})
    assert response.status_code == 201, response.text
    company = models.Company.objects.get()
    assert (company.name, company.archived) == ("Acme", True)
    assert sorted(company.tags.values_list("pk", flat=True)) == tags
    response = api.patch(f"/companies/{company.pk}", data={"archived": "false"})
    assert response.status_code == 200, response.text
    company.refresh_from_db()
    assert (company.name, company.archived) == ("Acme", False)


def test_a_nested_list_in_a_form_is_json_text(api):
    response = api.post("/companies", data={"name": "Acme", "departments": '[{"name": "Sales"}]'})
    assert response.status_code == 201, response.text
    assert response.json()["departments"] == [{"name": "Sales"}]
    assert list(models.Department.objects.values_list("name", flat=True)) == ["Sales"]
    response = api.post("/companies", data={"name": "Beta", "departments": "[{name: Sales}"})
    assert response.status_code == 422
    assert response.json()["detail"] == [{"loc": ["body", "departments"], "type": "json_invalid",
                                          "msg": "departments holds objects, sent as JSON text: "
                                                 "JSON decode error"}]
    # why, when the JSON text itself is the problem
    nul = api.post("/companies", data={"name": "Gamma", "departments": '[{"name": "a\\u0000b"}]'})
    assert nul.status_code == 422
    assert "NUL" in nul.json()["detail"][0]["msg"], nul.text


@pytest.mark.parametrize(("send", "loc", "kind"), [
    ({"data": {"title": "t", "colour": "red"}}, ["body", "colour"], "unknown_field"),
    ({"data": {"title": ["a", "b"]}}, ["body", "title"], "repeated"),
    ({"data": {"title": "t"}, "files": {"title": ("t.txt", b"x")}}, ["body", "title"], "not_a_file"),
    ({"data": {"title": "t"}, "files": [("attachment", ("a.txt", b"1")), ("attachment", ("b.txt", b"2"))]},
     None, None),
    ({"data": {"title": "bad\x00title"}}, ["body", "title"], None),
])
def test_what_a_form_cannot_say_is_a_4xx_naming_it(api, send, loc, kind):
    response = api.post("/documents", **send)
    assert 400 <= response.status_code < 500, response.text
    assert "detail" in response.json()
    if loc is not None:
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == loc
    if kind is not None:
        assert response.json()["detail"][0]["type"] == kind
    assert not models.Document.objects.exists() and not stored_files()


def test_other_media_types_are_a_415_naming_what_is_accepted(api):
    response = api.post("/documents", content=b"title=x", headers={"content-type": "text/plain"})
    assert response.status_code == 415
    assert "multipart/form-data" in response.json()["detail"]


def test_a_file_the_callers_schema_leaves_out_is_refused():
    class NoPictures(DocumentViewSet):
        def get_schema(self):
            return schema_for(models.Document, exclude=["id", "picture"], name="DocumentWithoutPicture")

    with client_for(("documents", NoPictures)) as client:
        response = client.post("/documents", data={"title": "x"}, files={"picture": ("p.png", png())})
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["body", "picture"]
    assert not models.Document.objects.exists() and not stored_files()


def test_openapi_shows_the_multipart_body_of_a_schema_with_files(api):
    operations = api.get("/openapi.json").json()["paths"]
    detail = next(path for path in operations if path.startswith("/documents/{"))
    for path, method in [("/documents", "post"), (detail, "put"), (detail, "patch")]:
        create = operations[path][method]["requestBody"]["content"]
        assert set(create) == {"application/json", "multipart/form-data"}
        form = create["multipart/form-data"]["schema"]
        assert form["properties"]["attachment"]["format"] == "binary"
        assert form["properties"]["picture"]["format"] == "binary"
        assert form.get("required", []) == (["title"] if method != "patch" else [])
    # Forms without files are taken, not listed: JSON says the same, and clients stay simple.
    assert set(operations["/companies"]["post"]["requestBody"]["content"]) == {"application/json"}


def test_an_image_field_needs_pillow_at_registration(monkeypatch):
    import importlib.util

    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "PIL" else find_spec(name, *a))
    with pytest.raises(ImproperlyConfigured, match=r"picture is an ImageField.*djfapi\[images\]"):
        Router().register("documents", DocumentViewSet)


@pytest.fixture(autouse=True)
def empty_media():
    for name in stored_files():
        os.remove(media(name))
    yield
    for name in stored_files():
        os.remove(media(name))


def test_a_suspicious_file_name_in_an_action_is_a_400_as_in_django(caplog):
    from django.core.files.base import ContentFile
    from fastapi import UploadFile

    from djfapi import action

    class WithLogo(DocumentViewSet):
        @action(detail=True, methods=["post"])
        def logo(self, instance, file: UploadFile):
            instance.attachment.save(file.filename, ContentFile(file.file.read()), save=True)
            return instance

    document = models.Document.objects.create(title="d")
    with client_for(("documents", WithLogo)) as client:
        response = client.post(f"/documents/{document.pk}/logo",
                               files={"file": ("../../etc/evil.png", b"x", "image/png")})
    assert response.status_code == 400, response.text
    assert "SuspiciousFileOperation" in response.json()["detail"]
    assert "etc" not in response.json()["detail"]
    assert [record.name for record in caplog.records] == ["django.security.SuspiciousFileOperation"]
    assert models.Document.objects.get().attachment.name == "" and not stored_files()


def test_isnull_on_a_file_field_matches_what_reads_as_null():
    class Filtered(DocumentViewSet):
        filter_fields = ["attachment", "picture"]

    with client_for(("documents", Filtered)) as client:
        with_file = client.post("/documents", data={"title": "with"},
                                files={"attachment": ("a.txt", b"1")}).json()
        without = client.post("/documents", json={"title": "without"}).json()
        cleared = client.post("/documents", data={"title": "cleared"},
                              files={"attachment": ("b.txt", b"2")}).json()
        client.patch(f"/documents/{cleared['id']}", json={"attachment": None})

        def listed(**params):
            rows = client.get("/documents", params=params).json()["items"]
            return sorted((row["title"], row["attachment"] is None) for row in rows)

        assert listed(attachment__isnull="true") == [("cleared", True), ("without", True)]
        assert listed(attachment__isnull="false") == [("with", False)]
        assert listed(picture__isnull="true") == [("cleared", True), ("with", False), ("without", True)]
        assert listed(picture__isnull="false") == []
    assert with_file["attachment"] and without["attachment"] is None


@pytest.mark.parametrize("body", [b"title=%FF%FE", b"title=F%ED%A0%80", b"ti%FFtle=x"])
def test_an_urlencoded_body_that_is_not_utf8_is_a_422_not_replaced_text(api, body):
    response = api.post("/documents", content=body,
                        headers={"content-type": "application/x-www-form-urlencoded"})
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["type"] == "unicode"
    assert not models.Document.objects.exists()


@pytest.mark.parametrize(("content_type", "body"), [
    ("multipart/form-data", b'--x\r\nContent-Disposition: form-data; name="title"\r\n\r\nA\r\n--x--\r\n'),
    ("multipart/form-data; boundary=x", b"garbage"),
])
def test_a_multipart_body_that_cannot_be_read_is_a_400(api, content_type, body):
    response = api.post("/documents", content=body, headers={"content-type": content_type})
    assert response.status_code == 400, response.text
    assert "multipart" in response.json()["detail"]
    assert not models.Document.objects.exists()


@pytest.mark.parametrize("field", ["attachment", "picture"])
def test_a_name_long_in_bytes_is_cut_to_fit_any_file_system(api, field):
    name = "\U00020000" * 90 + ".png"  # 90 characters, 360 bytes of UTF-8: more than a name may hold
    response = api.post("/documents", data={"title": "t"}, files={field: (name, png(), "image/png")})
    assert response.status_code == 201, response.text
    stored = getattr(models.Document.objects.get(), field).name
    assert stored.endswith(".png") and len(stored.rsplit("/", 1)[-1].encode()) <= 255
    assert media(stored).read_bytes() == png()


@pytest.mark.parametrize("name", ["evil.html", "x.php", "evil.svg", ".htaccess", "noextension"])
def test_an_image_must_be_named_as_one(api, name):
    response = api.post("/documents", data={"title": "t"}, files={"picture": (name, png(), "image/png")})
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["body", "picture"]
    assert "image file extension" in response.json()["detail"][0]["msg"]
    assert not models.Document.objects.exists() and not stored_files()


def test_a_put_from_a_form_with_an_empty_file_input_keeps_the_file(api):
    created = api.post("/documents", data={"title": "x"}, files={"attachment": ("a.txt", b"one")}).json()
    browser = (b'--b\r\nContent-Disposition: form-data; name="title"\r\n\r\nrenamed\r\n'
               b'--b\r\nContent-Disposition: form-data; name="attachment"; filename=""\r\n'
               b"Content-Type: application/octet-stream\r\n\r\n\r\n--b--\r\n")  # as a browser sends it
    response = api.put(f"/documents/{created['id']}", content=browser,
                       headers={"content-type": "multipart/form-data; boundary=b"})
    assert response.status_code == 200, response.text
    assert response.json()["attachment"] == created["attachment"]
    document = models.Document.objects.get()
    assert (document.title, media(document.attachment.name).read_bytes()) == ("renamed", b"one")


def test_two_files_in_one_field_is_a_422_naming_it(api):
    response = api.post("/documents", data={"title": "t"},
                        files=[("attachment", ("a.txt", b"1")), ("attachment", ("b.txt", b"2"))])
    assert response.status_code == 422, response.text
    assert response.json()["detail"] == [{"loc": ["body", "attachment"], "type": "too_many_files",
                                          "msg": "Send one file for attachment."}]


def test_a_callable_upload_to_sees_the_whole_row(api, monkeypatch):
    field = models.Document._meta.get_field("attachment")
    monkeypatch.setattr(field, "upload_to",
                        lambda row, name: f"due/{row.due_at.year if row.due_at else 'none'}/{name}")
    created = api.post("/documents", data={"title": "t", "due_at": "2030-01-01T00:00:00Z"},
                       files={"attachment": ("a.txt", b"1")})
    assert created.status_code == 201, created.text
    assert models.Document.objects.get().attachment.name == "due/2030/a.txt"
    patched = api.patch(f"/documents/{created.json()['id']}", data={"due_at": "2031-01-01T00:00:00Z"},
                        files={"attachment": ("b.txt", b"2")})
    assert patched.status_code == 200, patched.text
    assert models.Document.objects.get().attachment.name == "due/2031/b.txt"


def test_a_storage_that_overwrites_neither_loses_nor_replaces_another_rows_file(monkeypatch):
    from django.core.files.storage import FileSystemStorage

    overwriting = FileSystemStorage(location=settings.MEDIA_ROOT, base_url="/media/", allow_overwrite=True)
    monkeypatch.setattr(models.Document._meta.get_field("attachment"), "storage", overwriting)

    class Refusing(DocumentViewSet):
        def perform_create(self, instance):
            super().perform_create(instance)
            if instance.title == "refused":
                raise ValidationError({"title": "Refused after saving."})

    with client_for(("documents", Refusing)) as client:
        first = client.post("/documents", data={"title": "a"}, files={"attachment": ("shared.txt", b"A's")})
        refused = client.post("/documents", data={"title": "refused"},
                              files={"attachment": ("shared.txt", b"B")})
        second = client.post("/documents", data={"title": "b"}, files={"attachment": ("shared.txt", b"B's")})
    assert (first.status_code, refused.status_code, second.status_code) == (201, 422, 201)
    a, b = models.Document.objects.order_by("id")
    assert a.attachment.name == "documents/shared.txt" and b.attachment.name != a.attachment.name
    assert media(a.attachment.name).read_bytes() == b"A's"
    assert media(b.attachment.name).read_bytes() == b"B's"
    assert stored_files() == {a.attachment.name, b.attachment.name}


def test_an_error_after_the_commit_leaves_the_stored_files():
    from django.db import transaction

    class Notifying(DocumentViewSet):
        def perform_create(self, instance):
            super().perform_create(instance)
            transaction.on_commit(lambda: 1 / 0)  # a service called after the commit is down

    with TestClient(_app(Notifying), raise_server_exceptions=False) as client:
        response = client.post("/documents", data={"title": "x"}, files={"attachment": ("kept.txt", b"1")})
    assert response.status_code == 500
    document = models.Document.objects.get()
    assert media(document.attachment.name).read_bytes() == b"1"


def _app(viewset):
    router = Router()
    router.register("documents", viewset)
    app = FastAPI()
    app.include_router(router)
    return app
