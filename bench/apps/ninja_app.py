"""django-ninja: ``ModelSchema`` and ``@paginate``, served by gunicorn's sync worker.

Its LimitOffsetPagination answers ninja's own shape, ``{"items", "count"}``.
"""

import os

from bench.seed import setup

os.environ.setdefault("BENCH_URLCONF", "bench.apps.ninja_app")  # gunicorn serves this module's urls
setup()

from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.shortcuts import get_object_or_404  # noqa: E402
from django.urls import path  # noqa: E402
from ninja import ModelSchema, NinjaAPI  # noqa: E402
from ninja.pagination import LimitOffsetPagination, paginate  # noqa: E402

from bench.shop.models import Company, Department, Team  # noqa: E402


class CompanyOut(ModelSchema):
    class Meta:
        model = Company
        fields = ["id", "name", "archived", "created_at"]


class CompanyIn(ModelSchema):
    class Meta:
        model = Company
        fields = ["name", "archived"]


class CompanyPatch(ModelSchema):
    class Meta:
        model = Company
        fields = ["name", "archived"]
        fields_optional = "__all__"


class CompanyRef(ModelSchema):
    class Meta:
        model = Company
        fields = ["id", "name"]


class DepartmentOut(ModelSchema):
    company: CompanyRef

    class Meta:
        model = Department
        fields = ["id", "name"]


class TeamOut(ModelSchema):
    class Meta:
        model = Team
        fields = ["id", "name"]


class DepartmentTree(ModelSchema):
    teams: list[TeamOut]

    class Meta:
        model = Department
        fields = ["id", "name"]


class CompanyTree(ModelSchema):
    departments: list[DepartmentTree]

    class Meta:
        model = Company
        fields = ["id", "name"]


api = NinjaAPI(docs_url=None)


@api.get("/companies", response=list[CompanyOut])
@paginate(LimitOffsetPagination)
def list_companies(request):
    return Company.objects.order_by("id")


@api.get("/departments", response=list[DepartmentOut])
@paginate(LimitOffsetPagination)
def list_departments(request):
    return Department.objects.select_related("company").order_by("id")


@api.get("/tree", response=list[CompanyTree])
@paginate(LimitOffsetPagination)
def list_tree(request):
    return Company.objects.order_by("id").prefetch_related("departments__teams")


@api.get("/companies/{company_id}", response=CompanyOut)
def retrieve_company(request, company_id: int):
    return get_object_or_404(Company, pk=company_id)


@api.post("/companies", response={201: CompanyOut})
def create_company(request, payload: CompanyIn):
    return 201, Company.objects.create(**payload.dict())


@api.patch("/companies/{company_id}", response=CompanyOut)
def update_company(request, company_id: int, payload: CompanyPatch):
    company = get_object_or_404(Company, pk=company_id)
    for name, value in payload.dict(exclude_unset=True).items():
        setattr(company, name, value)
    company.save()
    return company


@api.delete("/companies/{company_id}", response={204: None})
def delete_company(request, company_id: int):
    get_object_or_404(Company, pk=company_id).delete()
    return 204, None


urlpatterns = [path("", api.urls)]

application = get_wsgi_application()
