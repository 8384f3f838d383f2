"""Careful hand-written FastAPI: what an expert writes without djfapi.

Each endpoint is ``async``: FastAPI parses the query, path and body on the event loop, then
**one** threadpool hop does all ORM work inside ``request_signalling()`` (Django's request
signals, so connections are recycled), prefetches by hand and serialises with a module-level
``TypeAdapter.dump_json`` into the bytes of a plain ``Response``.
"""

from typing import Annotated, Any

import anyio.to_thread
from fastapi import FastAPI, Query, Response
from pydantic import TypeAdapter

from bench.seed import setup

setup()

from django.db.models import QuerySet  # noqa: E402

from bench.apps.schemas import (  # noqa: E402
    CompanyIn,
    CompanyOut,
    CompanyPatch,
    CompanyTree,
    DepartmentOut,
    Page,
)
from bench.shop.models import Company, Department  # noqa: E402
from djfapi import request_signalling  # noqa: E402

JSON = "application/json"
NOT_FOUND = Response(b'{"detail":"Not found."}', status_code=404, media_type=JSON)
COMPANY = TypeAdapter(CompanyOut)
COMPANIES = TypeAdapter(Page[CompanyOut])
DEPARTMENTS = TypeAdapter(Page[DepartmentOut])
TREE = TypeAdapter(Page[CompanyTree])
Limit = Annotated[int, Query(ge=1)]
Offset = Annotated[int, Query(ge=0)]

app = FastAPI()


def page(adapter: TypeAdapter[Any], queryset: QuerySet[Any], limit: int, offset: int) -> bytes:
    limit = min(limit, 1000)
    with request_signalling():
        total = queryset.count()
        items = list(queryset[offset : offset + limit])
        value = adapter.validate_python(
            {"items": items, "total": total, "limit": limit, "offset": offset}, from_attributes=True
        )
        return adapter.dump_json(value)


def company_json(company: Company | None) -> bytes | None:
    return None if company is None else COMPANY.dump_json(COMPANY.validate_python(company))


def retrieve(pk: int) -> bytes | None:
    with request_signalling():
        return company_json(Company.objects.filter(pk=pk).first())


def create(data: dict[str, Any]) -> bytes | None:
    with request_signalling():
        return company_json(Company.objects.create(**data))


def partial_update(pk: int, data: dict[str, Any]) -> bytes | None:
    with request_signalling():
        company = Company.objects.filter(pk=pk).first()
        if company is None:
            return None
        for name, value in data.items():
            setattr(company, name, value)
        company.save(update_fields=list(data))
        return company_json(company)


def destroy(pk: int) -> bool:
    with request_signalling():
        deleted, _ = Company.objects.filter(pk=pk).delete()
        return deleted > 0


def answer(body: bytes | None, status_code: int = 200) -> Response:
    return NOT_FOUND if body is None else Response(body, status_code=status_code, media_type=JSON)


@app.get("/companies")
async def list_companies(limit: Limit = 50, offset: Offset = 0) -> Response:
    queryset = Company.objects.order_by("id")
    return answer(await anyio.to_thread.run_sync(page, COMPANIES, queryset, limit, offset))


@app.get("/departments")
async def list_departments(limit: Limit = 50, offset: Offset = 0) -> Response:
    queryset = Department.objects.select_related("company").order_by("id")
    return answer(await anyio.to_thread.run_sync(page, DEPARTMENTS, queryset, limit, offset))


@app.get("/tree")
async def list_tree(limit: Limit = 50, offset: Offset = 0) -> Response:
    queryset = Company.objects.order_by("id").prefetch_related("departments__teams")
    return answer(await anyio.to_thread.run_sync(page, TREE, queryset, limit, offset))


@app.get("/companies/{company_id}")
async def retrieve_company(company_id: int) -> Response:
    return answer(await anyio.to_thread.run_sync(retrieve, company_id))


@app.post("/companies")
async def create_company(body: CompanyIn) -> Response:
    return answer(await anyio.to_thread.run_sync(create, body.model_dump()), 201)


@app.patch("/companies/{company_id}")
async def update_company(company_id: int, body: CompanyPatch) -> Response:
    data = body.model_dump(exclude_unset=True)
    return answer(await anyio.to_thread.run_sync(partial_update, company_id, data))


@app.delete("/companies/{company_id}", status_code=204)
async def delete_company(company_id: int) -> Response:
    found = await anyio.to_thread.run_sync(destroy, company_id)
    return Response(status_code=204) if found else NOT_FOUND
