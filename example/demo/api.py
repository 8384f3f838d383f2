"""The demo's API: schemas, viewsets and the router."""

from decimal import Decimal
from typing import Annotated

from companies import models
from django.db.models import Q
from pydantic import BaseModel, ConfigDict, Field, StrictBool

from djfapi import ModelViewSet, Router, Schemas, action
from djfapi.permissions import JWTBearer, Scopes

token = JWTBearer()  # key, issuer and algorithms from the settings

READ = ["business.companies.read.any", "business.companies.read.own"]
WRITE = ["business.companies.update.any", "business.companies.update.own"]


Name = Annotated[str, Field(min_length=1, max_length=100)]  # CharField(max_length=100), not blank
# A decimal of 12 digits, 2 after the point, as text: the form it is answered in, and one JSON
# cannot round (a JSON number such as 0.1 + 0.2 would arrive with 17 decimal places).
Money = Annotated[str, Field(pattern=r"^-?[0-9]{1,10}(\.[0-9]{1,2})?$", examples=["1250.00"])]


class Body(BaseModel):
    """A request body. djfapi refuses a field the schema does not name (the read-only fields of
    the response aside) with a 422; ``additionalProperties: false`` says so in OpenAPI."""

    model_config = ConfigDict(json_schema_extra={"additionalProperties": False})


class TeamOut(BaseModel):
    id: int
    name: str


class DepartmentOut(BaseModel):
    id: int
    name: str
    teams: list[TeamOut]


class CompanyOut(BaseModel):
    id: int
    name: str
    archived: bool
    departments: list[DepartmentOut]


class DepartmentIn(Body):
    name: Name


class CompanyIn(Body):
    name: Name
    departments: list[DepartmentIn] = []  # a nested write: created with the company


class CompanyUpdate(Body):
    name: Name
    archived: StrictBool = False  # true or false; not 0, 1 or "yes", which pydantic reads by default


class CostcenterOut(BaseModel):
    id: int
    code: str
    budget: Decimal
    status: models.Costcenter.Status


class CostcenterIn(Body):
    code: str = Field(min_length=1, max_length=20)
    budget: Money = "0"


class EmployeeOut(BaseModel):
    id: int
    user_id: str
    type: models.Employee.Type


class EmployeeIn(Body):
    user_id: str = Field(min_length=1, max_length=64)
    type: models.Employee.Type = models.Employee.Type.MEMBER


class CompanyViewSet(ModelViewSet):
    model = models.Company
    schemas = Schemas(get=CompanyOut, create=CompanyIn, update=CompanyUpdate)
    security = token
    scopes = Scopes(get=READ, post=["business.companies.create"], patch=WRITE,
                    delete=["business.companies.delete.any"])
    filter_fields = ["name", "archived", "created_at"]
    search_fields = ["name", "departments__name"]
    ordering_fields = ["name", "created_at"]

    def get_queryset(self):
        queryset = super().get_queryset()  # already limited to the caller's tenant
        if self.access.scope.selector == "own":  # only companies the caller owns or administers
            mine = Q(employees__user_id=self.access.user_id,
                     employees__type__in=[models.Employee.Type.OWNER, models.Employee.Type.ADMIN])
            queryset = queryset.filter(pk__in=models.Company.objects.filter(mine).values("pk"))
        return queryset

    def perform_create(self, instance):
        instance.created_by = self.access.user_id
        super().perform_create(instance)

    @action(detail=True, methods=["post"], scopes=["business.companies.update.any"])
    def archive(self, instance):
        """Archive a company."""
        instance.archived = True
        instance.save(update_fields=["archived"])
        return instance


class DepartmentViewSet(ModelViewSet):  # security and scopes inherited from CompanyViewSet
    model = models.Department
    schemas = Schemas(get=DepartmentOut, create=DepartmentIn, update=DepartmentIn)
    filter_fields = ["name"]


class TeamViewSet(ModelViewSet):
    model = models.Team
    schemas = Schemas(get=TeamOut, create=DepartmentIn, update=DepartmentIn)


class CostcenterViewSet(ModelViewSet):
    model = models.Costcenter
    schemas = Schemas(get=CostcenterOut, create=CostcenterIn, update=CostcenterIn)
    filter_fields = ["code", "budget"]
    ordering_fields = ["code", "budget"]
    aggregate_fields = ["budget"]
    delete_status = models.Costcenter.Status.DELETED  # soft delete
    cache_control = "private, max-age=30"


class EmployeeViewSet(ModelViewSet):
    model = models.Employee
    schemas = Schemas(get=EmployeeOut, create=EmployeeIn, update=EmployeeIn)
    filter_fields = ["type", "user_id"]


router = Router()
router.register("companies", CompanyViewSet)
router.register("departments", DepartmentViewSet, parent=CompanyViewSet)
router.register("teams", TeamViewSet, parent=DepartmentViewSet)
router.register("costcenters", CostcenterViewSet, parent=CompanyViewSet)
router.register("employees", EmployeeViewSet, parent=CompanyViewSet)
