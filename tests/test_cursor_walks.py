"""Cursor pages never lose or repeat a row: walks forwards through ``next`` and back through
``previous``, ordered by a field of every type (ties, NULLs, values a microsecond or one
unit in the last place apart), while rows are inserted and deleted between the pages.

Each case is generated from a seeded random generator named after it, so a failure repeats.
"""

import datetime
import decimal
import math
import random
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from django.core import signing
from django.db.models import F
from fastapi import FastAPI
from pydantic import BaseModel

from djfapi import ReadOnlyModelViewSet, Router, Schemas
from djfapi.keyset import Position
from djfapi.pagination import CursorPagination
from djfapi.testing import Client
from tests.testapp.ordered import Ordered

pytestmark = pytest.mark.django_db  # Client runs each request on the test's connection

ZONES = [datetime.UTC, datetime.timezone(datetime.timedelta(hours=5, minutes=30)),
         datetime.timezone(datetime.timedelta(hours=-8))]


def moment(rng: random.Random) -> datetime.datetime:
    start = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)
    value = start + datetime.timedelta(microseconds=rng.randrange(10**15))
    return value.astimezone(rng.choice(ZONES))  # one moment, written in several zones


def clock(rng: random.Random) -> datetime.time:
    return datetime.time(rng.randrange(24), rng.randrange(60), rng.randrange(60), rng.randrange(10**6))


def text(rng: random.Random) -> str:
    return "".join(rng.choices(["a", "A", "ä", "é", "z", "日本", "😀", " ", "-", "ß"], k=rng.randrange(4)))


# One non-null value of each field; ``near`` gives a value right next to one (a microsecond,
# a unit in the last place, one more), as a lossy cursor would merge the two.
FIELDS: dict[str, tuple[Callable[[random.Random], Any], Callable[[Any], Any]]] = {
    "moment": (moment, lambda v: v + datetime.timedelta(microseconds=1)),
    "day": (lambda rng: datetime.date(1990, 1, 1) + datetime.timedelta(days=rng.randrange(20000)),
            lambda v: v + datetime.timedelta(days=1)),
    "clock": (clock, lambda v: v.replace(microsecond=(v.microsecond + 1) % 10**6)),
    "amount": (lambda rng: decimal.Decimal(rng.randrange(-(10**11), 10**11)) / 10**4,
               lambda v: v + decimal.Decimal("0.0001")),
    "ref": (lambda rng: uuid.UUID(int=rng.getrandbits(128)), lambda v: uuid.UUID(int=(v.int + 1) % 2**128)),
    "ratio": (lambda rng: rng.uniform(-1e6, 1e6), lambda v: math.nextafter(v, math.inf)),
    "big": (lambda rng: rng.choice([2**63 - 1, -(2**63), rng.randrange(-(2**63), 2**63 - 1)]),
            lambda v: v - 1 if v == 2**63 - 1 else v + 1),
    "text": (text, lambda v: v + "a"),
    "span": (lambda rng: datetime.timedelta(microseconds=rng.randrange(-(10**12), 10**12)),
             lambda v: v + datetime.timedelta(microseconds=1)),
    "flag": (lambda rng: rng.random() < 0.5, lambda v: not v),
    "label": (text, lambda v: v + "b"),  # not nullable
}

# What the tests order by: each field, and two fields in opposite directions.
ORDERINGS = [*([name] for name in FIELDS), ["text", "-moment"]]


class OrderedOut(BaseModel):
    id: int


class OrderedViewSet(ReadOnlyModelViewSet):
    model = Ordered
    schemas = Schemas(get=OrderedOut)
    pagination_class = CursorPagination
    ordering_fields = list(FIELDS)


def make_app() -> FastAPI:
    router = Router()
    router.register("ordered", OrderedViewSet)
    app = FastAPI()
    app.include_router(router)
    return app


APP = make_app()


@pytest.fixture
def client():
    with Client(APP) as client:  # one event loop for all the test's requests
        yield client


class Table:
    """The rows of a case: values drawn from a small pool per field, so ties and NULLs abound."""

    def __init__(self, seed: str, rows: int = 10) -> None:
        self.rng = random.Random(seed)
        self.pools = {name: self.pool(name) for name in FIELDS}
        self.deleted: set[int] = set()
        for _ in range(rows):
            self.insert()

    def pool(self, name: str) -> list[Any]:
        make, near = FIELDS[name]
        values = [make(self.rng) for _ in range(3)]
        values.append(near(values[0]))
        return [*values, *([] if name == "label" else [None, None])]

    def insert(self) -> None:
        Ordered.objects.create(**{name: self.rng.choice(pool) for name, pool in self.pools.items()})

    def change(self, page: list[int]) -> None:
        """Insert and delete a few rows, often one where ``page`` ended."""
        for _ in range(self.rng.randrange(3)):
            self.insert()
        existing = list(Ordered.objects.values_list("id", flat=True))
        doomed = set(self.rng.sample(existing, min(len(existing), self.rng.randrange(3))))
        if page and self.rng.random() < 0.5:
            doomed.add(self.rng.choice([page[0], page[-1]]))  # a row a cursor was made at
        Ordered.objects.filter(id__in=doomed).delete()
        self.deleted |= doomed


def order_by(ordering: list[str], descending: bool) -> list[str]:
    """``ordering``, or each of its fields the other way round."""
    if not descending:
        return ordering
    return [name[1:] if name.startswith("-") else f"-{name}" for name in ordering]


def documented_order(order: list[str]) -> list[int]:
    """The ids in the order CursorPagination documents: NULL as the largest value, pk last."""
    keys = [F(name[1:]).desc(nulls_first=True) if name.startswith("-") else F(name).asc(nulls_last=True)
            for name in order]
    pk = "-pk" if order[-1].startswith("-") else "pk"
    return list(Ordered.objects.order_by(*keys, pk).values_list("id", flat=True))


def page(client, params: dict[str, Any], cursor: str | None = None) -> dict[str, Any]:
    response = client.get("/ordered", params={**params, "cursor": cursor} if cursor else params)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def walk(client, params: dict[str, Any], link: str, body: dict[str, Any] | None = None,
         between: Callable[[list[int]], Any] = lambda page: None) -> tuple[list[list[int]], dict[str, Any]]:
    """The ids of each page from ``body`` (the first page when None) on, following ``link``
    until it is null, calling ``between`` with each page's ids before asking for the next;
    and the page where the walk ended."""
    body = body or page(client, params)
    pages = [[item["id"] for item in body["items"]]]
    while body[link] is not None:
        assert len(pages) < 200, "the walk does not end"
        between(pages[-1])
        body = page(client, params, body[link])
        pages.append([item["id"] for item in body["items"]])
    return pages, body


def rows(pages: list[list[int]]) -> list[int]:
    return [row for page in pages for row in page]


CASES = [pytest.param(ordering, descending, size,
                      id=f"{','.join(order_by(ordering, descending))}-page{size}")
         for ordering in ORDERINGS for descending in (False, True) for size in (1, 2, 7)]


@pytest.mark.parametrize(("ordering", "descending", "size"), CASES)
def test_previous_returns_exactly_the_page_before(client, ordering, descending, size):
    Table(f"still {ordering} {descending} {size}")
    params = {"order_by": order_by(ordering, descending), "page_size": size}
    forwards, last = walk(client, params, "next")
    assert rows(forwards) == documented_order(params["order_by"])
    backwards, first = walk(client, params, "previous", last)
    assert backwards == forwards[::-1]  # each page before, in turn, up to the first
    assert first["next"] is not None or len(forwards) == 1


@pytest.mark.parametrize(("ordering", "descending", "size"), CASES)
def test_a_walk_sees_every_row_once_while_rows_come_and_go(client, ordering, descending, size):
    table = Table(f"changing {ordering} {descending} {size}")
    params = {"order_by": order_by(ordering, descending), "page_size": size}
    body = None
    for link in ("next", "previous"):  # forwards from the first page, then back from the last
        before = set(Ordered.objects.values_list("id", flat=True))
        pages, body = walk(client, params, link, body, table.change)
        seen = rows(pages)
        assert len(seen) == len(set(seen)), f"walking by {link}, a row came twice"
        assert before - table.deleted <= set(seen), f"walking by {link}, rows were lost"


def test_a_page_whose_rows_were_deleted_still_leads_back(client):
    ids = [Ordered.objects.create(big=value).pk for value in (1, 2, 3, 4, 5)]
    params = {"order_by": ["big"], "page_size": 2}
    first = page(client, params)
    second = page(client, params, first["next"])
    Ordered.objects.filter(id__in=ids[2:]).delete()  # the second page's rows, and the rest
    empty = page(client, params, second["next"])
    assert empty["items"] == [] and empty["next"] is None
    back = page(client, params, empty["previous"])
    assert [item["id"] for item in back["items"]] == ids[:2] and back["previous"] is None
    assert page(client, params, back["next"])["items"] == []


@pytest.mark.parametrize("data", [
    {"v": [["decimal", "not a number"], 1], "r": False, "i": False},  # no "k"
    {"v": [["decimal", "not a number"], 1], "r": False, "i": False, "k": []},
    {"v": [["no such type", "1"], 1], "r": False, "i": False, "k": []},
    {"v": [{"a": 1}, 1], "r": False, "i": False, "k": []},
])
def test_a_cursor_signed_here_but_not_made_here_is_422(client, data):
    cursor = signing.dumps(data, salt=CursorPagination.salt, compress=True)
    response = client.get("/ordered", params={"cursor": cursor})
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["query", "cursor"]


def test_a_cursor_of_the_old_format_or_another_list_is_422(client):
    Ordered.objects.create(big=1)
    old = signing.dumps({"v": [1, 1], "r": False, "k": [["big", False], ["pk", False]]},
                        salt="djfapi.pagination.cursor", compress=True)
    assert client.get("/ordered", params={"cursor": old, "order_by": "big"}).status_code == 422
    elsewhere = CursorPagination().encode(
        Position([1, 1], False, False, ["testapp.Company", ["big", False], ["pk", False]]))
    response = client.get("/ordered", params={"cursor": elsewhere, "order_by": "big"})
    assert response.status_code == 422 and "another list" in response.json()["detail"][0]["msg"]


def test_a_cursor_is_refused_by_another_list_of_the_same_model():
    class Filtered(OrderedViewSet):
        filter_fields = ["flag"]

    router = Router()
    router.register("ordered", Filtered)
    router.register("also", Filtered)
    app = FastAPI()
    app.include_router(router)
    for big in range(5):
        Ordered.objects.create(big=big, flag=big % 2 == 0)
    with Client(app) as client:
        first = client.get("/ordered", params={"page_size": 2, "order_by": "big"}).json()
        cursor = first["next"]
        same = client.get("/ordered", params={"page_size": 3, "order_by": "big", "cursor": cursor})
        assert same.status_code == 200, same.text
        for path, params in [("/ordered", {"order_by": "big", "flag": "true"}),  # other filters
                             ("/also", {"order_by": "big"})]:  # another list
            response = client.get(path, params={**params, "cursor": cursor})
            assert response.status_code == 422, (path, params)
            assert "another list" in response.json()["detail"][0]["msg"]
        back = client.get("/ordered", params={"order_by": "big", "cursor": same.json()["previous"]})
        assert [row["id"] for row in back.json()["items"]] == [row["id"] for row in first["items"]]
