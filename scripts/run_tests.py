"""Run the test suite on SQLite (twice: lists reading values, then model instances), then on
PostgreSQL when one is reachable.

    python scripts/run_tests.py [pytest arguments]

DJFAPI_TEST_DATABASE_URL names the PostgreSQL server (default
postgres://postgres@127.0.0.1:5432/djfapi); DJFAPI_REQUIRE_POSTGRES=1 makes an unreachable
one a failure instead of a skipped run. The exit code is non-zero when either run failed.
"""

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.settings import DEFAULT_POSTGRES_URL  # noqa: E402


def pytest(database: str, args: list[str], read_rows: str = "auto") -> int:
    print(f"\n=== test suite on {database}, lists reading {read_rows} ===", flush=True)
    env = {**os.environ, "DJFAPI_TEST_DATABASE": database, "DJFAPI_TEST_READ_ROWS": read_rows}
    code = subprocess.call([sys.executable, "-m", "pytest", *args], cwd=ROOT, env=env)
    return 0 if code == 5 and database == "postgres" else code  # 5: every test deselected


def postgres_unreachable(url: str) -> str | None:
    """Why the server of ``url`` cannot be used, or None when it can."""
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed (pip install 'djfapi[postgres]')"
    parts = urlsplit(url)
    try:
        psycopg.connect(
            host=parts.hostname, port=parts.port or 5432, user=parts.username or None,
            password=parts.password or None, dbname="postgres", connect_timeout=3,
        ).close()
    except psycopg.Error as exc:
        return f"cannot connect to {parts.hostname}:{parts.port or 5432}: {exc}".strip()
    return None


def main(args: list[str]) -> int:
    failed = pytest("sqlite", args) != 0
    # Every list again reading model instances, as a schema with properties or methods does:
    # the answers must not depend on the path (tests/test_read_paths.py compares the bytes).
    failed |= pytest("sqlite", args, read_rows="instances") != 0
    url = os.environ.get("DJFAPI_TEST_DATABASE_URL", DEFAULT_POSTGRES_URL)
    reason = postgres_unreachable(url)
    if reason is None:
        failed |= pytest("postgres", args) != 0
    elif os.environ.get("DJFAPI_REQUIRE_POSTGRES") == "1":
        print(f"\nPostgreSQL is required (DJFAPI_REQUIRE_POSTGRES=1) but {reason}", flush=True)
        failed = True
    else:
        print(f"\nPostgreSQL run SKIPPED: {reason}. Start a server or set "
              "DJFAPI_TEST_DATABASE_URL to run the suite against PostgreSQL too.", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
