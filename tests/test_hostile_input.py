"""What a client sends is never a 500: text no database stores, dates and offsets outside what
databases take, integers beyond 64 bits, values too long for their column; each is a 4xx
naming what was wrong (404 for a path id), with nothing stored, on SQLite and PostgreSQL."""

from datetime import datetime

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel, Field

from djfapi import ModelViewSet, Router, Schemas
from tests.testapp import models
from tests.testapp.factories import CompanyFactory, TagFactory


class CompanyOut(BaseModel):
    id: int
    name: str
    created_at: datetime
    meta: dict = {}


class CompanyIn(BaseModel):
    name: str
    tags: list[int] = []


class CompanyViewSet(ModelViewSet):
    model = models.Company
    schemas = Schemas(get=CompanyOut, create=CompanyIn, update=CompanyIn)
    filter_fields = ["id", "name", "created_at"]
    search_fields = ["name", "departments__name"]
    tenant_field = None

    def perform_create(self, instance):
        instance.tenant_id = "tenant-a"
        super().perform_create(instance)


class DepartmentIn(BaseModel):
    name: str


class CompanyWithDepartmentsIn(CompanyIn):
    departments: list[DepartmentIn] = []


class ConstrainedIn(BaseModel):
    name: str = Field(max_length=100)
    tags: list[int] = []


class ConstrainedViewSet(CompanyViewSet):
    schemas = Schemas(get=CompanyOut, create=ConstrainedIn)


class SmallListsViewSet(CompanyViewSet):
    schemas = Schemas(get=CompanyOut, create=CompanyWithDepartmentsIn)
    max_nested_items = 3


@pytest.fixture(scope="module")
def app():
    router = Router()
    router.register("companies", CompanyViewSet)
    router.register("small", SmallListsViewSet)
    router.register("constrained", ConstrainedViewSet)
    app = FastAPI()
    app.include_router(router)
    return app


@pytest.fixture
def client(app):
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


@pytest.mark.parametrize("query", [
    "name=a%00b", "search=a%00b", "name__in=a,b%00",
    "created_at__year=0", "created_at__year=-1", "created_at__year=10000", "created_at__year=99999999999",
    "created_at__year=9223372036854775808", "created_at__month=13", "created_at__day=0",
    "created_at=2020-01-01T00:00:00%2B16:00", "created_at__gt=2020-01-01T00:00:00-22:50",
    "created_at__gt=0001-01-01T00:00:00%2B05:00", "created_at__in=2020-01-01T00:00:00%2B16:00",
    "offset=9223372036854775808", "id=99999999999999999999", "id__in=1,99999999999999999999",
])
def test_hostile_query_values_are_422_naming_the_parameter(client, query):
    CompanyFactory()
    response = client.get(f"/companies?{query}")
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"][:2] == ["query", query.split("=")[0]]


@pytest.mark.parametrize(("body", "loc"), [
    ({"name": "nul\u0000byte"}, ["body", "name"]),
    ({"name": "lone \ud800 surrogate"}, ["body", "name"]),
    ({"name": "ok", "tags": [2**70]}, ["body", "tags"]),
])
def test_hostile_bodies_are_422_and_store_nothing(client, body, loc):
    import json

    TagFactory()
    content = json.dumps(body)  # json.dumps writes the lone surrogate as \\ud800, as a client would
    response = client.post("/companies", content=content, headers={"Content-Type": "application/json"})
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == loc
    assert not models.Company.objects.exists()


@pytest.mark.parametrize("content", [b'{"name": "caf\xe9"}', b"\xff\xff", b"\x0c\xc3"])
def test_a_body_that_is_not_utf8_is_the_422_of_invalid_json_and_stores_nothing(client, content):
    response = client.post("/companies", content=content, headers={"Content-Type": "application/json"})
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["type"] == "json_invalid"
    assert response.json()["detail"][0]["loc"][0] == "body"
    assert not models.Company.objects.exists()


def test_a_path_id_beyond_64_bits_is_404(client):
    assert client.get(f"/companies/{2**64}").status_code == 404
    assert client.patch(f"/companies/{2**64}", json={"name": "x"}).status_code == 404


def test_a_value_too_long_for_its_column_is_422_without_the_databases_words(client):
    response = client.post("/companies", json={"name": "x" * 300})  # max_length 100
    assert response.status_code == 422
    assert "varying" not in response.text and "value too long" not in response.text


def test_search_across_a_to_many_relation_is_one_exists_a_word_with_no_repeated_rows(client, query_log):
    from tests.testapp.factories import DepartmentFactory

    company = CompanyFactory(name="Acme")
    DepartmentFactory(company=company, name="Sales East")
    DepartmentFactory(company=company, name="Sales West")
    listed = client.get("/companies", params={"search": "sales"}).json()
    assert ([c["name"] for c in listed["items"]], listed["total"]) == (["Acme"], 1)
    query_log.clear()
    words = ["sales", "east", "acme", "s", "e", "a", "l", "w"]
    listed = client.get("/companies", params={"search": " ".join(words)}).json()
    assert listed["total"] == 1
    select = next(sql for _, sql in query_log if sql.startswith('SELECT "testapp_company"'))
    assert select.upper().count("EXISTS") == len(words)  # one subquery a word: linear, no join blow-up
    assert "DISTINCT" not in select.upper()


@pytest.mark.parametrize("search", [" ".join(["w"] * 11), "x" * 201])
def test_search_past_its_limits_is_422(client, search):
    response = client.get("/companies", params={"search": search})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "search"]


def nested(depth):
    return "[" * depth + "]" * depth


@pytest.mark.parametrize("content", [
    b'{"name": "deep", "tags": ' + nested(10_000).encode() + b"}",  # deeper than the parser goes
    b'{"name": "deep", "tags": ' + nested(500).encode() + b"}",  # deeper than MAX_DEPTH
])
def test_a_body_nested_too_deeply_is_422_like_any_invalid_json(client, content):
    response = client.post("/companies", content=content, headers={"Content-Type": "application/json"})
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["type"] == "json_invalid"
    assert not models.Company.objects.exists()


def test_a_body_in_another_charset_is_422_but_utf_16_and_32_are_read(client):
    response = client.post("/companies", content='{"name": "Caf\u00e9"}'.encode("utf-16"),
                           headers={"Content-Type": "application/json; charset=utf-16"})
    assert response.status_code == 201, response.text  # Python's JSON parser detects UTF-16 and -32
    assert response.json()["name"] == "Caf\u00e9"
    latin = client.post("/companies", content='{"name": "Caf\u00e9"}'.encode("latin-1"),
                        headers={"Content-Type": "application/json; charset=latin-1"})
    assert latin.status_code == 422
    assert latin.json()["detail"][0]["type"] == "json_invalid"


def test_a_body_larger_than_data_upload_max_memory_size_is_413(client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    big = {"name": "x" * 2000}
    response = client.post("/companies", json=big)
    assert response.status_code == 413
    assert "1000 bytes" in response.json()["detail"]

    def chunks():  # no Content-Length: counted while read
        yield b'{"name": "'
        for _ in range(20):
            yield b"x" * 100
        yield b'"}'

    streamed = client.post("/companies", content=chunks(), headers={"Content-Type": "application/json"})
    assert streamed.status_code == 413
    assert not models.Company.objects.exists()
    assert client.post("/companies", json={"name": "small"}).status_code == 201
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = None  # no limit
    assert client.post("/companies", json={"name": "x" * 50}).status_code == 201


@pytest.mark.parametrize(("body", "loc"), [
    ({"name": "many", "departments": [{"name": str(i)} for i in range(4)]}, ["body", "departments"]),
    ({"name": "many", "tags": [1, 2, 3, 4]}, ["body", "tags"]),
])
def test_a_list_longer_than_max_nested_items_is_422(client, body, loc):
    response = client.post("/small", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["detail"] == [{"loc": loc, "type": "too_long",
                                          "msg": "At most 3 items may be sent in one list."}]
    assert not models.Company.objects.exists()
    body[loc[1]] = body[loc[1]][:3] if loc[1] == "departments" else []
    assert client.post("/small", json=body).status_code == 201, body


@pytest.mark.parametrize("path", ["/companies", "/constrained"])
@pytest.mark.parametrize("content", [
    b'{"name": NaN}', b'{"name": "x", "tags": [Infinity]}', b'{"name": -Infinity}',
    b'{"name": 1e999}', b'{"name": "x", "tags": [' + b"1" * 5000 + b"]}",
    b'{"name": "\\ud800"}', b'{"name": "a\\u0000b"}', b'{"\\udfff": 1, "name": "x"}',
])
def test_json_no_validation_error_can_echo_back_is_422_not_500(client, path, content):
    """FastAPI's 422 echoes the input it refused: NaN, an infinite float or a lone surrogate
    there made it a 500, wherever pydantic refused the value before djfapi's own checks."""
    response = client.post(path, content=content, headers={"Content-Type": "application/json"})
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"][0] == "body"
    assert not models.Company.objects.exists()


def test_a_large_body_is_parsed_off_the_event_loop(client, monkeypatch):
    import asyncio

    from djfapi import inputs

    parsed_on_loop = []
    original = inputs.parse_json

    def recording(body, max_items=None):
        try:
            asyncio.get_running_loop()
            parsed_on_loop.append(True)
        except RuntimeError:
            parsed_on_loop.append(False)
        return original(body, max_items)

    monkeypatch.setattr(inputs, "parse_json", recording)
    assert client.post("/companies", json={"name": "small"}).status_code == 201
    large = {"name": "large", "tags": [], "padding": "x" * (inputs.INLINE_BYTES + 1)}
    assert client.post("/companies", json=large).status_code == 422  # padding is not a field
    assert parsed_on_loop == [True, False]


def test_a_list_too_long_is_refused_before_its_items_are_validated(client):
    """873,800 invalid items took pydantic 46 s on the event loop, and a 15 MB list of errors."""
    response = client.post("/small", json={"name": "many", "departments": [[]] * 4})
    assert response.status_code == 422
    assert response.json()["detail"] == [{"loc": ["body", "departments"], "type": "too_long",
                                          "msg": "At most 3 items may be sent in one list."}]


def test_a_large_body_without_a_valid_token_is_401_before_it_is_parsed(library_app, monkeypatch):
    from djfapi import inputs
    from djfapi.testing import Client

    parsed = []
    original = inputs.parse_json
    monkeypatch.setattr(inputs, "parse_json", lambda *args: parsed.append(1) or original(*args))
    large = {"name": "x", "padding": "x" * (inputs.INLINE_BYTES + 1)}
    client = Client(library_app, raise_server_exceptions=False)
    for headers in ({}, {"Authorization": "Bearer not-a-token"}):
        assert client.post("/api/authors", json=large, headers=headers).status_code == 401
    assert parsed == []
    client.authenticate(["library.authors.create"], tenant="tenant-a")
    assert client.post("/api/authors", json={"name": "small"}).status_code == 201
    refused = client.post("/api/authors", json=large)  # with a valid token it is read
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"] == ["body", "padding"]
    assert parsed == [1, 1]


@pytest.mark.parametrize(("query", "shown"), [
    ("created_at__gte=2026-11-29", ["Later"]),  # a date alone: midnight in TIME_ZONE
    ("created_at__gte=2026-11-29T00:30:00", ["Later"]),  # no offset: in TIME_ZONE, as DRF reads it
    ("created_at__lt=2026-11-29T00:00:00%2B01:00", ["Earlier"]),  # 23:00 UTC the day before
    ("created_at__range=2026-11-28,2026-11-29", ["Earlier"]),
])
def test_a_moment_without_an_offset_is_read_in_the_time_zone_without_a_warning(client, settings, query,
                                                                                shown):
    import warnings

    settings.TIME_ZONE = "Europe/Oslo"  # UTC+1 in November
    earlier = CompanyFactory(name="Earlier")
    later = CompanyFactory(name="Later")
    models.Company.objects.filter(pk=earlier.pk).update(created_at=datetime.fromisoformat("2026-11-28T22:30:00+00:00"))
    models.Company.objects.filter(pk=later.pk).update(created_at=datetime.fromisoformat("2026-11-28T23:45:00+00:00"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Django's "received a naive datetime" would be a 500
        listed = client.get(f"/companies?{query}")
    assert listed.status_code == 200, listed.text
    assert [c["name"] for c in listed.json()["items"]] == shown
