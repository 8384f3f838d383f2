"""Fuzz the demo's API with schemathesis against a real server; the exit code is schemathesis's.

    python scripts/fuzz.py [--examples N] [--seed N] [--database sqlite|postgres]

The demo is migrated into a database of its own (a fresh SQLite file, or a PostgreSQL database
made for the run and dropped after it), loaded with ``manage.py demo_data`` and served by
uvicorn on a free loopback port. schemathesis reads its OpenAPI and runs every phase (examples,
coverage, fuzzing, stateful) with every check, as a tenant-a caller whose token holds every
scope the OpenAPI names. The seed is fixed, one worker sends the requests and no example
database is kept, so a run is reproducible; ``--examples`` bounds its length.
"""

import argparse
import contextlib
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.serving import postgres_database, serve  # noqa: E402

EXAMPLE = ROOT / "example"
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")

# Every check schemathesis has. Nothing is excluded; what the demo does on purpose is described
# in its OpenAPI instead (refused unknown body fields as additionalProperties: false, a 409 on
# writes, a 405 whose Allow header names every method of the path).
CHECKS = "all"

# Generation options that differ from schemathesis' defaults, each with its reason.
GENERATION = [
    # djfapi refuses a NUL character anywhere in a query value or a body with a 422 (PostgreSQL
    # cannot store one, SQLite keeps it: refusing both keeps the databases alike). Saying so in
    # OpenAPI would put a pattern on every string of every schema, so NUL is not generated.
    "--generation-allow-x00=false",
    # Reproducible runs: no examples carried over from earlier runs.
    "--generation-database=none",
]


@contextlib.contextmanager
def database(kind: str, state: Path) -> Iterator[str]:
    """The DATABASE_URL of the run's own database, dropped after it on PostgreSQL."""
    if kind == "sqlite":
        yield f"sqlite:///{state / 'db.sqlite3'}"
        return
    with postgres_database(f"djfapi_fuzz_{os.getpid()}") as url:
        yield url


@contextlib.contextmanager
def demo_server(env: dict[str, str], state: Path) -> Iterator[str]:
    """The base URL of the migrated, loaded demo, served until the block ends."""
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "--noinput", "-v0"], cwd=EXAMPLE, env=env, check=True)
    subprocess.run([*manage, "demo_data"], cwd=EXAMPLE, env=env, check=True, capture_output=True)
    with serve("demo.asgi:app", env=env, cwd=EXAMPLE, log_path=state / "server.log",
               ready="/openapi.json", args=("--no-access-log",)) as server:
        yield server.base_url
    print(server.log(), end="", flush=True)


def every_scope(openapi: dict) -> list[str]:
    """Every scope a security requirement of ``openapi`` names."""
    return sorted({scope for methods in openapi["paths"].values() for operation in methods.values()
                   for requirement in operation.get("security", []) for scopes in requirement.values()
                   for scope in scopes})


def token_with(scopes: list[str], env: dict[str, str]) -> str:
    """A tenant-a token holding ``scopes``, signed with the run's development key."""
    code = ("import os; from djfapi.testing import make_token; print('TOKEN=' + make_token("
            "os.environ['FUZZ_SCOPES'].split(), tenant='tenant-a', user='admin-a', expires_in=3600))")
    printed = subprocess.run([sys.executable, "manage.py", "shell", "-c", code], cwd=EXAMPLE,
                             env={**env, "FUZZ_SCOPES": " ".join(scopes)}, check=True, capture_output=True,
                             text=True).stdout
    return re.search(r"^TOKEN=(\S+)$", printed, flags=re.M)[1]  # type: ignore[index]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--examples", type=int, default=20, help="test cases per operation and phase")
    parser.add_argument("--seed", type=int, default=20260611)
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="djfapi-fuzz-") as state_dir:
        state = Path(state_dir)
        with database(args.database, state) as url:
            env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DJFAPI_TEST"))}
            env.update(DEMO_STATE_DIR=str(state), DATABASE_URL=url, PYTHONPATH=str(ROOT))
            with demo_server(env, state) as base:
                token = token_with(every_scope(httpx.get(f"{base}/openapi.json").json()), env)
                command = [
                    str(SCHEMATHESIS), "run", f"{base}/openapi.json",
                    "--header", f"Authorization: Bearer {token}",
                    "--checks", CHECKS, "--phases", "examples,coverage,fuzzing,stateful",
                    "--max-examples", str(args.examples), "--seed", str(args.seed), "--workers", "1",
                    *GENERATION, "--no-color",
                ]
                started = time.monotonic()
                # The hooks leave out one false positive of the tool (see scripts/fuzz_hooks.py).
                hooks = {"SCHEMATHESIS_HOOKS": str(ROOT / "scripts" / "fuzz_hooks.py")}
                code = subprocess.call(command, cwd=state, env={**os.environ, **hooks})
                print(f"fuzzed {base} in {time.monotonic() - started:.0f} s "
                      f"(seed {args.seed}, {args.examples} examples, {args.database})", flush=True)
                return code


if __name__ == "__main__":
    sys.exit(main())
