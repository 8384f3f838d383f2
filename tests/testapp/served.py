"""The test app as a server process runs it (``uvicorn tests.testapp.served:app``): the test
settings' SQLite database, migrated at import, and a hand-written route that fails."""

import django

django.setup()

from django.core.management import call_command  # noqa: E402

from tests.testapp.api import create_app  # noqa: E402

call_command("migrate", run_syncdb=True, verbosity=0)

app = create_app()


@app.get("/crash")
def crash() -> None:
    raise RuntimeError("the ledger is on fire")
