"""``manage.py demo_data``: load the demo data once (factory-boy), then print ready-to-paste
tokens signed with the development-only key."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from companies import factories, models
from djfapi.testing import make_token

READ_WRITE_ANY = [
    "business.companies.read.any", "business.companies.update.any", "business.companies.create",
    "business.companies.delete.any",
]
OWN = ["business.companies.read.own", "business.companies.update.own"]
TOKEN_LIFETIME = 7 * 24 * 3600


class Command(BaseCommand):
    help = "Load the demo data (once) and print development tokens."

    def handle(self, *args, **options):
        if models.Company.objects.exists():
            self.stdout.write("Demo data already loaded.")
        else:
            load()
            self.stdout.write(f"Loaded demo data: {models.Company.objects.count()} companies in 2 tenants.")
        tokens = {
            "TOKEN_A_ADMIN": ("tenant-a admin, any scopes", make_token(
                READ_WRITE_ANY, tenant="tenant-a", user="admin-a", expires_in=TOKEN_LIFETIME)),
            "TOKEN_A_OWNER": ("tenant-a owner of Acme only, own scopes", make_token(
                OWN, tenant="tenant-a", user="alice", expires_in=TOKEN_LIFETIME)),
            "TOKEN_B_ADMIN": ("tenant-b admin, any scopes", make_token(
                READ_WRITE_ANY, tenant="tenant-b", user="admin-b", expires_in=TOKEN_LIFETIME)),
        }
        self.stdout.write(f"\nTokens signed with a DEVELOPMENT-ONLY key ({settings.STATE_DIR}), "
                          "valid 7 days; paste them into your shell:\n")
        for name, (who, token) in tokens.items():
            self.stdout.write(f"# {who}\nexport {name}={token}\n")
        self.stdout.write("Django admin: http://127.0.0.1:8000/admin/ (user admin, password admin; "
                          "development only)\n")


def load() -> None:
    acme = factories.CompanyFactory(tenant_id="tenant-a", name="Acme")
    globex = factories.CompanyFactory(tenant_id="tenant-a", name="Globex")
    initech = factories.CompanyFactory(tenant_id="tenant-a", name="Initech")
    umbrella = factories.CompanyFactory(tenant_id="tenant-b", name="Umbrella")
    factories.CompanyFactory(tenant_id="tenant-b", name="Hooli")
    for company in (acme, globex, initech, umbrella):
        for department in factories.DepartmentFactory.create_batch(2, company=company):
            factories.TeamFactory.create_batch(2, department=department)
        factories.CostcenterFactory.create_batch(3, company=company)
    factories.EmployeeFactory(company=acme, user_id="alice", type=models.Employee.Type.OWNER)
    factories.EmployeeFactory(company=globex, user_id="alice", type=models.Employee.Type.MEMBER)
    factories.EmployeeFactory(company=initech, user_id="bob", type=models.Employee.Type.ADMIN)
    factories.EmployeeFactory(company=acme, user_id="carol", type=models.Employee.Type.MEMBER)
    user_model = get_user_model()
    if not user_model.objects.filter(username="admin").exists():
        user_model.objects.create_superuser("admin", "admin@example.invalid", "admin")
