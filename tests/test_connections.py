"""On PostgreSQL with CONN_MAX_AGE = 0: djfapi closes every connection it opens; a plain
FastAPI sync endpoint using the ORM without the signalling does not."""

import asyncio
import time

import httpx
import psycopg
import pytest
from django.db import connection, connections
from fastapi import FastAPI

from tests.testapp.factories import CompanyFactory
from tests.testapp.models import Company

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="counts PostgreSQL backends in pg_stat_activity"
)

REQUESTS, CONCURRENCY = 200, 20


def backends() -> int:
    """Backends connected to the test database right now."""
    settings = connection.settings_dict
    with psycopg.connect(
        host=settings["HOST"], port=settings["PORT"] or 5432, user=settings["USER"] or None,
        password=settings["PASSWORD"] or None, dbname="postgres", autocommit=True,
    ) as monitor:
        row = monitor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s", [settings["NAME"]]
        ).fetchone()
    return row[0]


def settled_backends(target: int, timeout: float = 5.0) -> int:
    """The backend count once it reaches ``target`` (backends exit asynchronously) or times out."""
    deadline = time.monotonic() + timeout
    count = backends()
    while count != target and time.monotonic() < deadline:
        time.sleep(0.05)
        count = backends()
    return count


def load(app: FastAPI, path: str) -> None:
    """REQUESTS GETs of ``path``, CONCURRENCY at a time, every one answered 200."""
    async def run() -> None:
        limit = asyncio.Semaphore(CONCURRENCY)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            async def one() -> None:
                async with limit:
                    response = await client.get(path)
                    assert response.status_code == 200, response.text

            await asyncio.gather(*(one() for _ in range(REQUESTS)))

    asyncio.run(run())


def test_djfapi_endpoints_leave_no_connection_open(app):
    assert connection.settings_dict["CONN_MAX_AGE"] == 0
    company = CompanyFactory()
    baseline = backends()
    load(app, f"/api/companies/{company.id}/departments")
    assert settled_backends(baseline) == baseline


def test_a_plain_sync_endpoint_without_signalling_leaks_connections():
    CompanyFactory()
    plain = FastAPI()
    used = []

    @plain.get("/companies")
    def list_companies() -> list[int]:
        used.append(connections["default"])
        return list(Company.objects.values_list("id", flat=True))

    baseline = backends()
    load(plain, "/companies")
    try:
        assert settled_backends(baseline, timeout=0.5) > baseline
    finally:
        for wrapper in {id(w): w for w in used}.values():
            wrapper.inc_thread_sharing()
            wrapper.close()
            wrapper.dec_thread_sharing()
    assert settled_backends(baseline) == baseline
