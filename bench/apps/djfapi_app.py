"""djfapi: the benchmark's API as djfapi's README writes one — schemas, viewsets, a router."""

from datetime import datetime

from fastapi import FastAPI
from pydantic import BaseModel, Field

from bench.seed import setup

setup()

import djfapi  # noqa: E402
from bench.shop.models import Company, Department  # noqa: E402
from djfapi import ModelViewSet, ReadOnlyModelViewSet, Router, Schemas  # noqa: E402


class CompanyOut(BaseModel):
    id: int
    name: str
    archived: bool
    created_at: datetime


class CompanyIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    archived: bool = False


class CompanyRef(BaseModel):
    id: int
    name: str


class DepartmentOut(BaseModel):
    id: int
    name: str
    company: CompanyRef  # a ForeignKey, nested: djfapi joins it (select_related)


class TeamOut(BaseModel):
    id: int
    name: str


class DepartmentTree(BaseModel):
    id: int
    name: str
    teams: list[TeamOut]


class CompanyTree(BaseModel):
    id: int
    name: str
    departments: list[DepartmentTree]  # reverse ForeignKeys, two deep: djfapi prefetches them


class CompanyViewSet(ModelViewSet):
    model = Company
    schemas = Schemas(get=CompanyOut, create=CompanyIn, update=CompanyIn)


class DepartmentViewSet(ReadOnlyModelViewSet):
    model = Department
    schemas = Schemas(get=DepartmentOut)


class TreeViewSet(ReadOnlyModelViewSet):
    model = Company
    schemas = Schemas(get=CompanyTree)


router = Router()
router.register("companies", CompanyViewSet)
router.register("departments", DepartmentViewSet)
router.register("tree", TreeViewSet)

app = FastAPI()
djfapi.install(app)
app.include_router(router)
