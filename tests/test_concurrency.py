"""Writes under concurrency: two PATCHes of different fields both stand, and a PATCH racing a
DELETE never brings the row back (updates never insert). Requests race for real: each pair is
sent at once through the ASGI app, whose threadpool runs them on two connections."""

import asyncio
import threading

import httpx
import pytest
from django.db import connection, connections
from fastapi.testclient import TestClient

from djfapi.testing import make_token
from tests.testapp import library, models
from tests.testapp.factories import BookFactory, CompanyFactory, DepartmentFactory, ReviewFactory

PAIRS = 40


def race(app, pair, headers=None, count=PAIRS):
    """The responses of ``pair(index)`` (requests as (method, path, json)) sent at once, for
    each of ``count`` indexes in turn."""
    async def run():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test", timeout=30,
                                     headers=headers) as client:
            return [await asyncio.gather(*(client.request(method, path, json=body)
                                           for method, path, body in pair(index)))
                    for index in range(count)]

    return asyncio.run(run())


def test_patches_of_different_fields_both_stand(app):
    ids = [CompanyFactory(name=f"Company {i}").id for i in range(PAIRS)]
    rounds = race(app, lambda i: [("PATCH", f"/api/companies/{ids[i]}", {"name": f"Renamed {i}"}),
                                  ("PATCH", f"/api/companies/{ids[i]}", {"archived": True})])
    assert [[response.status_code for response in pair] for pair in rounds] == [[200, 200]] * PAIRS
    stored = {c.id: (c.name, c.archived) for c in models.Company.objects.all()}
    lost = [i for i in range(PAIRS) if stored[ids[i]] != (f"Renamed {i}", True)]
    assert lost == []


def test_a_patch_racing_a_delete_never_brings_the_row_back(app):
    company = CompanyFactory()
    paths = [f"/api/companies/{company.id}/departments/{DepartmentFactory(company=company).id}"
             for _ in range(PAIRS)]
    for patched, deleted in race(app, lambda i: [("PATCH", paths[i], {"name": "patched"}),
                                                 ("DELETE", paths[i], None)]):
        assert deleted.status_code == 204
        assert patched.status_code in (200, 404), patched.text
    assert list(models.Department.objects.filter(company=company)) == []


def deleted_by_another_connection(model):
    """A ``save`` that first deletes the row from another thread (its own connection, committed
    at once): a DELETE that wins the race by a hair."""
    original = model.save

    def save(self, *args, **kwargs):
        def delete():
            model.objects.filter(pk=self.pk).delete()
            connections.close_all()

        thread = threading.Thread(target=delete)
        thread.start()
        thread.join()
        return original(self, *args, **kwargs)

    return save


on_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite (IMMEDIATE transactions) lets no DELETE in while the update's transaction is open")


@on_postgres
def test_an_update_of_a_row_deleted_meanwhile_is_404_not_an_insert(app, monkeypatch):
    department = DepartmentFactory()
    monkeypatch.setattr(models.Department, "save", deleted_by_another_connection(models.Department))
    with TestClient(app) as client:
        response = client.patch(f"/api/companies/{department.company_id}/departments/{department.id}",
                                json={"name": "patched"})
    assert response.status_code == 404, response.text
    assert "deleted meanwhile" in response.json()["detail"]
    assert not models.Department.objects.filter(pk=department.pk).exists()


def test_a_nested_update_racing_the_childs_delete_never_brings_it_back(library_app):
    reviews = [ReviewFactory(text="old") for _ in range(PAIRS)]
    token = make_token(library.ALL_SCOPES, tenant="tenant-a")

    def pair(i):
        book = reviews[i].book
        base = f"/api/authors/{book.author_id}/books/{book.id}"
        return [("PUT", base, {"title": "Renamed", "reviews": [{"id": reviews[i].id, "text": "patched"}]}),
                ("DELETE", f"{base}/reviews/{reviews[i].id}", None)]

    for updated, deleted in race(library_app, pair, headers={"Authorization": f"Bearer {token}"}):
        assert deleted.status_code == 204, deleted.text
        assert updated.status_code in (200, 404, 422), updated.text  # 422: no such review here (gone)
    assert not models.Review.objects.exists()


def test_two_puts_synchronising_one_nested_list_take_turns(library_app):
    books = [ReviewFactory(text="old").book for _ in range(PAIRS)]
    token = make_token(library.ALL_SCOPES, tenant="tenant-a")
    rounds = race(library_app, lambda i: [
        ("PUT", f"/api/authors/{books[i].author_id}/books/{books[i].id}",
         {"title": f"By {who}", "reviews": [{"text": who}]}) for who in ("first", "second")],
        headers={"Authorization": f"Bearer {token}"})
    assert [[response.status_code for response in pair] for pair in rounds] == [[200, 200]] * PAIRS
    for book in books:  # the list is what one of the two PUTs sent, not a mix of both
        assert len(models.Review.objects.filter(book=book)) == 1


@pytest.mark.parametrize("start_empty", [False, True])
def test_two_puts_adding_rows_to_one_nested_list_do_not_merge(library_app, start_empty):
    books = [BookFactory() for _ in range(PAIRS)]
    kept = {book.id: [] if start_empty else [{"id": ReviewFactory(book=book, text="A").id, "text": "A"}]
            for book in books}
    token = make_token(library.ALL_SCOPES, tenant="tenant-a")
    race(library_app, lambda i: [
        ("PUT", f"/api/authors/{books[i].author_id}/books/{books[i].id}",
         {"title": books[i].title, "reviews": [*kept[books[i].id], {"text": who}]})  # the book unchanged
        for who in ("X", "Y")],
        headers={"Authorization": f"Bearer {token}"})
    for book in books:  # as if one PUT ran after the other: A and the later one's row
        texts = sorted(models.Review.objects.filter(book=book).values_list("text", flat=True))
        before = [] if start_empty else ["A"]
        assert texts in ([*before, "X"], [*before, "Y"]), texts


def test_a_nested_list_sync_racing_a_delete_of_its_row_takes_turns(monkeypatch):
    """The sync locks the company, then its departments; the delete locks the company before
    Django's cascade deletes the departments, so the two wait for each other instead of
    deadlocking (which PostgreSQL broke with an error answered as 503). The sync is slowed
    between its two locks, where the cascade used to get in."""
    import time

    from fastapi import FastAPI

    from djfapi.schemas import writing

    def slow_loaded_rows(queryset, _loaded_rows=writing.loaded_rows):
        time.sleep(0.05)
        return _loaded_rows(queryset)

    monkeypatch.setattr(writing, "loaded_rows", slow_loaded_rows)
    from pydantic import BaseModel

    from djfapi import ModelViewSet, Router, Schemas

    class DepartmentIn(BaseModel):
        id: int | None = None
        name: str

    class CompanyIn(BaseModel):
        departments: list[DepartmentIn]

    class CompanyOut(BaseModel):
        id: int

    class Companies(ModelViewSet):
        model = models.Company
        schemas = Schemas(get=CompanyOut, update=CompanyIn)
        tenant_field = None

    router = Router()
    router.register("companies", Companies)
    app = FastAPI()
    app.include_router(router)
    companies = [CompanyFactory(name=f"Company {i}") for i in range(10)]
    departments = {company.id: [DepartmentFactory(company=company).id for _ in range(2)]
                   for company in companies}

    def pair(i):
        company = companies[i].id
        body = {"departments": [{"id": pk, "name": f"renamed {pk}"} for pk in departments[company]]}
        return [("PATCH", f"/companies/{company}", body), ("DELETE", f"/companies/{company}", None)]

    statuses = [[response.status_code for response in responses] for responses in race(app, pair, count=10)]
    assert [deleted for _, deleted in statuses] == [204] * 10
    assert {patched for patched, _ in statuses} <= {200, 404}, statuses
    assert not models.Company.objects.filter(pk__in=[company.id for company in companies]).exists()
    assert not models.Department.objects.filter(company__in=companies).exists()
