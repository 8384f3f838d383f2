"""``manage.py demo_data``: load the demo data afresh (factory-boy), then print ready-to-paste
tokens signed with the development-only key.

Each run empties the demo's tables and restarts their ids before loading, so the walk through
the demo (docs/demo.md) gives the same answers every time: Acme is company 1 again, nothing the
last walk created or archived is left. The signing key lives in DEMO_STATE_DIR, not in the
database, so tokens printed by an earlier run stay valid.
"""

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.core.management.color import no_style
from django.db import connection, transaction

from companies import factories, models
from djfapi.testing import make_token

READ_WRITE_ANY = [
    "business.companies.read.any", "business.companies.update.any", "business.companies.create",
    "business.companies.delete.any",
]
OWN = ["business.companies.read.own", "business.companies.update.own"]
TOKEN_LIFETIME = 7 * 24 * 3600


class Command(BaseCommand):
    help = "Reset the demo data (delete it, load it afresh) and print development tokens."

    def handle(self, *args, **options):
        with transaction.atomic():
            reset()
            load()
        self.stdout.write(f"Loaded the demo data afresh: {models.Company.objects.count()} companies "
                          "in 2 tenants.")
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
        self.stdout.write("Django admin: /admin/ (user admin, password admin; development only)\n")


def reset() -> None:
    """Empty every table of the demo's app and restart its ids (as ``manage.py flush`` does, but
    for these tables only), and make the admin user afresh."""
    tables = [model._meta.db_table for model in apps.get_app_config("companies").get_models()]
    connection.ops.execute_sql_flush(connection.ops.sql_flush(no_style(), tables, reset_sequences=True))
    get_user_model().objects.filter(username="admin").delete()


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
    get_user_model().objects.create_superuser("admin", "admin@example.invalid", "admin")
