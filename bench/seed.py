"""The benchmark's fixed data: 2,000 companies × 3 departments × 2 teams, the same every time.

``python -m bench.seed`` creates the PostgreSQL database when missing, migrates, deletes every
row and inserts the seed with fixed ids (company ``i``: departments ``3i-2 … 3i``, teams
``6i-5 … 6i``), then resets the id sequences so rows the write scenarios create get ids above
the seed's (``SEED_COMPANIES``).
"""

import os
from datetime import UTC, datetime, timedelta

COMPANIES, DEPARTMENTS, TEAMS = 2000, 3, 2
SEED_COMPANIES = COMPANIES
EPOCH = datetime(2024, 1, 1, tzinfo=UTC)


def setup() -> None:
    """Django set up with the bench settings (``DJANGO_SETTINGS_MODULE`` may name others)."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    django.setup()


def create_database() -> None:
    """Create the PostgreSQL database the settings name when it does not exist yet."""
    from django.conf import settings

    db = settings.DATABASES["default"]
    if db["ENGINE"] != "django.db.backends.postgresql":
        return
    import psycopg
    from psycopg import sql

    with psycopg.connect(
        dbname="postgres",
        user=db["USER"],
        password=db["PASSWORD"],
        host=db["HOST"],
        port=db["PORT"],
        autocommit=True,
    ) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db["NAME"]]).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(db["NAME"])))


def seed(companies: int = COMPANIES) -> None:
    """Migrate, then replace every row with the fixed seed."""
    from django.core.management import call_command
    from django.core.management.color import no_style
    from django.db import connection, transaction

    from bench.shop.models import Company, Department, Team

    call_command("migrate", verbosity=0)
    with transaction.atomic():
        for model in (Team, Department, Company):
            model.objects.all().delete()
        Company.objects.bulk_create(
            Company(id=i, name=f"Company {i:04d}", archived=i % 7 == 0, created_at=EPOCH + timedelta(hours=i))
            for i in range(1, companies + 1)
        )
        Department.objects.bulk_create(
            Department(id=(i - 1) * DEPARTMENTS + d, company_id=i, name=f"Department {i}.{d}")
            for i in range(1, companies + 1)
            for d in range(1, DEPARTMENTS + 1)
        )
        Team.objects.bulk_create(
            Team(id=(dep - 1) * TEAMS + t, department_id=dep, name=f"Team {dep}.{t}")
            for dep in range(1, companies * DEPARTMENTS + 1)
            for t in range(1, TEAMS + 1)
        )
        with connection.cursor() as cursor:
            for statement in connection.ops.sequence_reset_sql(no_style(), [Company, Department, Team]):
                cursor.execute(statement)
    vacuum(Company, Department, Team)


def vacuum(*models: type) -> None:
    """On PostgreSQL, VACUUM ANALYZE the tables: deleted rows would otherwise slow the lists'
    COUNT(*) until autovacuum gets round to them, at a moment no round controls."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for model in models:
                cursor.execute(f"VACUUM ANALYZE {model._meta.db_table}")


def remove_written_rows() -> None:
    """Delete the companies the write scenarios created (ids above the seed's)."""
    from django.db import connection

    from bench.shop.models import Company

    with connection.cursor() as cursor:  # they have no departments: no cascade to collect
        cursor.execute(f"DELETE FROM {Company._meta.db_table} WHERE id > %s", [SEED_COMPANIES])
    vacuum(Company)


if __name__ == "__main__":
    setup()
    create_database()
    seed()
    print(f"seeded {COMPANIES} companies × {DEPARTMENTS} departments × {TEAMS} teams")
