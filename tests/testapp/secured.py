"""The test app as the design page shows it: JWT bearer, scopes with any/own selectors,
tenancy by default, nested viewsets inheriting their parent's security."""

from fastapi import FastAPI
from pydantic import BaseModel

from djfapi import ModelViewSet, Router, Schemas, action
from djfapi.permissions import JWTBearer, Scopes
from djfapi.schemas import Field
from tests.testapp import api, models

token = JWTBearer()  # key, issuer and algorithms from the test settings

READ = ["business.companies.read.any", "business.companies.read.own"]
UPDATE = ["business.companies.update.any", "business.companies.update.own"]
ALL_SCOPES = [
    *READ, *UPDATE, "business.companies.create", "business.companies.delete.any",
    "business.companies.audit.any", "business.tags.read.any", "business.tags.create",
    "business.tags.update.any", "business.tags.delete.any",
]


class CompanyOut(BaseModel):
    id: int
    name: str
    archived: bool
    created_by: str = Field("", scopes=["business.companies.audit.any"])
    tags: list[int]


class CompanyIn(BaseModel):
    name: str
    tags: list[int] = []
    created_by: str = Field("", scopes=["business.companies.audit.any"])


class CompanyUpdate(BaseModel):
    name: str
    archived: bool = False


class DepartmentOut(BaseModel):
    id: int
    name: str


class DepartmentIn(BaseModel):
    name: str


class EmployeeOut(BaseModel):
    id: int
    user_id: str
    type: str
    department_id: int | None


class EmployeeIn(BaseModel):
    user_id: str
    type: str = "member"
    department_id: int | None = None


class TagOut(BaseModel):
    id: int
    label: str


class TagIn(BaseModel):
    label: str


class CompanyViewSet(ModelViewSet):
    model = models.Company
    schemas = Schemas(get=CompanyOut, create=CompanyIn, update=CompanyUpdate)
    security = token
    scopes = Scopes(
        get=READ,
        post=["business.companies.create"],
        put=UPDATE,
        patch=UPDATE,
        delete=["business.companies.delete.any"],
    )

    def get_queryset(self):
        queryset = super().get_queryset()  # already limited to access.tenant_id
        if self.access.scope is not None and self.access.scope.selector == "own":
            queryset = queryset.filter(
                employees__user_id=self.access.user_id,
                employees__type__in=[models.Employee.Type.OWNER, models.Employee.Type.ADMIN],
            ).distinct()
        return queryset

    @action(detail=True, methods=["post"], scopes=["business.companies.update.any"])
    def archive(self, instance):
        instance.archived = True
        instance.save(update_fields=["archived"])
        return instance


class DepartmentViewSet(ModelViewSet):  # security and scopes inherited from CompanyViewSet
    model = models.Department
    schemas = Schemas(get=DepartmentOut, create=DepartmentIn, update=DepartmentIn)


class TeamViewSet(ModelViewSet):  # two levels down, still inherited
    model = models.Team
    schemas = Schemas(get=DepartmentOut, create=DepartmentIn, update=DepartmentIn)


class EmployeeViewSet(ModelViewSet):
    model = models.Employee
    schemas = Schemas(get=EmployeeOut, create=EmployeeIn, update=EmployeeIn)


class TagViewSet(ModelViewSet):
    model = models.Tag
    schemas = Schemas(get=TagOut, create=TagIn, update=TagIn)
    security = token
    scopes = Scopes(get=["business.tags.read.any"], post=["business.tags.create"],
                    patch=["business.tags.update.any"], delete=["business.tags.delete.any"])


def build_router() -> Router:
    router = Router()
    router.register("companies", CompanyViewSet)
    router.register("departments", DepartmentViewSet, parent=CompanyViewSet)
    router.register("teams", TeamViewSet, parent=DepartmentViewSet)
    router.register("employees", EmployeeViewSet, parent=CompanyViewSet)
    router.register("tags", TagViewSet)
    return router


def create_app(router: Router | None = None) -> FastAPI:
    return api.create_app(router or build_router())
