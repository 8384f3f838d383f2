"""Django REST framework: ``ModelViewSet`` and ``ModelSerializer``, served by gunicorn's sync worker.

Its LimitOffsetPagination answers DRF's own shape, ``{"count", "next", "previous", "results"}``.
"""

import os

from bench.seed import setup

os.environ.setdefault("BENCH_URLCONF", "bench.apps.drf_app")  # gunicorn serves this module's urls
setup()

from django.core.wsgi import get_wsgi_application  # noqa: E402
from rest_framework import serializers, viewsets  # noqa: E402
from rest_framework.routers import SimpleRouter  # noqa: E402

from bench.shop.models import Company, Department, Team  # noqa: E402


class CompanySerializer(serializers.ModelSerializer):
    class Meta:
        model = Company
        fields = ["id", "name", "archived", "created_at"]
        read_only_fields = ["created_at"]


class CompanyRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Company
        fields = ["id", "name"]


class DepartmentSerializer(serializers.ModelSerializer):
    company = CompanyRefSerializer(read_only=True)

    class Meta:
        model = Department
        fields = ["id", "name", "company"]


class TeamSerializer(serializers.ModelSerializer):
    class Meta:
        model = Team
        fields = ["id", "name"]


class DepartmentTreeSerializer(serializers.ModelSerializer):
    teams = TeamSerializer(many=True, read_only=True)

    class Meta:
        model = Department
        fields = ["id", "name", "teams"]


class CompanyTreeSerializer(serializers.ModelSerializer):
    departments = DepartmentTreeSerializer(many=True, read_only=True)

    class Meta:
        model = Company
        fields = ["id", "name", "departments"]


class CompanyViewSet(viewsets.ModelViewSet):
    queryset = Company.objects.order_by("id")
    serializer_class = CompanySerializer


class DepartmentViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Department.objects.select_related("company").order_by("id")
    serializer_class = DepartmentSerializer


class TreeViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Company.objects.order_by("id").prefetch_related("departments__teams")
    serializer_class = CompanyTreeSerializer


router = SimpleRouter(trailing_slash=False)
router.register("companies", CompanyViewSet)
router.register("departments", DepartmentViewSet)
router.register("tree", TreeViewSet, basename="tree")
urlpatterns = router.urls

application = get_wsgi_application()
