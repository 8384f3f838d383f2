"""The test app's schemas, viewsets and router, used by most test modules through ``client``.

Until permissions land, the tests stand in for a tenant with the ``X-Tenant`` header.
"""

from uuid import UUID

from fastapi import FastAPI
from pydantic import BaseModel, Field

import djfapi
from djfapi import ModelViewSet, ReadOnlyModelViewSet, Router, Schemas, action
from tests.testapp import models


class CompanyOut(BaseModel):
    id: int
    name: str
    archived: bool
    created_by: str


class CompanyIn(BaseModel):
    name: str = Field(max_length=100)


class CompanyUpdate(BaseModel):
    name: str = Field(max_length=100)
    archived: bool = False


class CompanySummary(BaseModel):
    count: int
    archived: int


class DepartmentOut(BaseModel):
    id: int
    company_id: int
    name: str


class DepartmentIn(BaseModel):
    name: str


class DepartmentUpdate(BaseModel):
    name: str
    company_id: int | None = None  # a body may send it; it never moves the department


class TeamOut(BaseModel):
    id: int
    department_id: int
    name: str


class OfficeOut(BaseModel):
    id: UUID
    city: str


class OfficeIn(BaseModel):
    city: str


class CountryOut(BaseModel):
    code: str
    name: str


class CompanyViewSet(ModelViewSet):
    model = models.Company
    schemas = Schemas(get=CompanyOut, create=CompanyIn, update=CompanyUpdate)

    def get_queryset(self):
        queryset = super().get_queryset()
        tenant = self.request.headers.get("x-tenant")
        return queryset.filter(tenant_id=tenant) if tenant else queryset

    def perform_create(self, instance):
        instance.tenant_id = self.request.headers.get("x-tenant", "tenant-a")
        instance.created_by = self.request.headers.get("x-user", "")
        super().perform_create(instance)
        if instance.name == "fail after save":
            raise RuntimeError("perform_create failed after saving")

    @action(detail=True, methods=["post"])
    def archive(self, instance):
        """Archive a company."""
        instance.archived = True
        instance.save(update_fields=["archived"])
        return instance

    @action(detail=False, response_model=CompanySummary)
    def summary(self, name_contains: str | None = None):
        queryset = self.get_queryset()
        if name_contains:
            queryset = queryset.filter(name__icontains=name_contains)
        return {"count": queryset.count(), "archived": queryset.filter(archived=True).count()}


class DepartmentViewSet(ModelViewSet):
    model = models.Department
    schemas = Schemas(get=DepartmentOut, create=DepartmentIn, update=DepartmentUpdate)


class TeamViewSet(ModelViewSet):
    model = models.Team
    schemas = Schemas(get=TeamOut, create=DepartmentIn, update=DepartmentIn)
    pagination_class = None


class OfficeViewSet(ModelViewSet):
    model = models.Office
    schemas = Schemas(get=OfficeOut, create=OfficeIn)  # no update: no PUT/PATCH


class CountryViewSet(ReadOnlyModelViewSet):
    model = models.Country
    schemas = Schemas(get=CountryOut)
    pagination_class = None


def build_router() -> Router:
    router = Router()
    router.register("companies", CompanyViewSet)
    router.register("departments", DepartmentViewSet, parent=CompanyViewSet)
    router.register("teams", TeamViewSet, parent=DepartmentViewSet)
    router.register("offices", OfficeViewSet, parent=CompanyViewSet)
    router.register("countries", CountryViewSet)
    return router


def create_app(router: Router | None = None) -> FastAPI:
    app = FastAPI()
    djfapi.install(app)
    app.include_router(router or build_router(), prefix="/api")
    return app
