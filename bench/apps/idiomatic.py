"""Idiomatic FastAPI, as its tutorial teaches: sync ``def`` endpoints and ``response_model``.

FastAPI runs each endpoint in its threadpool and validates the answer against
``response_model`` (another threadpool call for a sync endpoint), then ``jsonable_encoder``
and ``JSONResponse``. It sends no Django request signals, so each threadpool thread keeps its
own connection open: the usual result of calling the ORM from FastAPI's threads.
"""

from typing import Any

from fastapi import FastAPI, HTTPException, Query

from bench.seed import setup

setup()

from bench.apps.schemas import (  # noqa: E402
    CompanyIn,
    CompanyOut,
    CompanyPatch,
    CompanyTree,
    DepartmentOut,
    Page,
)
from bench.shop.models import Company, Department  # noqa: E402

app = FastAPI()


def page(queryset: Any, limit: int, offset: int) -> dict[str, Any]:
    limit = min(limit, 1000)
    return {
        "items": list(queryset[offset : offset + limit]),
        "total": queryset.count(),
        "limit": limit,
        "offset": offset,
    }


def get_company(company_id: int) -> Company:
    try:
        return Company.objects.get(pk=company_id)
    except Company.DoesNotExist:
        raise HTTPException(status_code=404, detail="Not found.") from None


@app.get("/companies", response_model=Page[CompanyOut])
def list_companies(limit: int = Query(50, ge=1), offset: int = Query(0, ge=0)) -> Any:
    return page(Company.objects.order_by("id"), limit, offset)


@app.get("/departments", response_model=Page[DepartmentOut])
def list_departments(limit: int = Query(50, ge=1), offset: int = Query(0, ge=0)) -> Any:
    return page(Department.objects.select_related("company").order_by("id"), limit, offset)


@app.get("/tree", response_model=Page[CompanyTree])
def list_tree(limit: int = Query(50, ge=1), offset: int = Query(0, ge=0)) -> Any:
    return page(Company.objects.order_by("id").prefetch_related("departments__teams"), limit, offset)


@app.get("/companies/{company_id}", response_model=CompanyOut)
def retrieve_company(company_id: int) -> Any:
    return get_company(company_id)


@app.post("/companies", response_model=CompanyOut, status_code=201)
def create_company(body: CompanyIn) -> Any:
    return Company.objects.create(**body.model_dump())


@app.patch("/companies/{company_id}", response_model=CompanyOut)
def update_company(company_id: int, body: CompanyPatch) -> Any:
    company = get_company(company_id)
    for name, value in body.model_dump(exclude_unset=True).items():
        setattr(company, name, value)
    company.save()
    return company


@app.delete("/companies/{company_id}", status_code=204)
def delete_company(company_id: int) -> None:
    get_company(company_id).delete()
