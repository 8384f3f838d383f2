from django.contrib import admin

from companies import models


class DepartmentInline(admin.TabularInline):
    model = models.Department
    extra = 0


class EmployeeInline(admin.TabularInline):
    model = models.Employee
    extra = 0


@admin.register(models.Company)
class CompanyAdmin(admin.ModelAdmin):
    list_display = ["name", "tenant_id", "archived"]
    list_filter = ["tenant_id", "archived"]
    search_fields = ["name"]
    inlines = [DepartmentInline, EmployeeInline]


admin.site.register([models.Team, models.Costcenter])
