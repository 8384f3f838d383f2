"""Threads and database connections, measured: the demo under uvicorn (one worker, pinned to
core 0) loaded by wrk (pinned to core 1) in every combination of a thread limit and a
connection mode, on a PostgreSQL database made for the run and dropped after it.

    python scripts/bench_threads.py [--rounds 3] [--seconds 5] [--connections 50]
                                    [--threads 40,8,4] [--modes none,keep,pool]

Thread limits are set with the demo's ``DJFAPI_THREADS`` (anyio's default is 40). Modes:
``none`` is ``CONN_MAX_AGE=0`` without a pool (a connection a request), ``keep`` is
``CONN_MAX_AGE=60`` (one connection kept a thread), ``pool`` is Django's pool
(``DATABASE_POOL``) sized to the thread limit. Each measurement starts a fresh server, warms
it for a second, then loads it for ``--seconds`` with half list requests (the tenant's
companies with their departments and teams) and half retrieves; the rounds interleave the
combinations so that drift on the machine spreads over all of them. The table gives the
median of the rounds for requests/s and latency, and the most PostgreSQL backends of the
database seen during the load and 5 s after it. Needs ``wrk`` and ``taskset`` and a PostgreSQL
server (``DJFAPI_TEST_DATABASE_URL``, default ``postgres://postgres@127.0.0.1:5432``).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.serving import free_port, postgres_database  # noqa: E402

EXAMPLE = ROOT / "example"
MODES = {"none": {"CONN_MAX_AGE": "0"}, "keep": {"CONN_MAX_AGE": "60"}, "pool": {}}
AFTER = 5  # seconds after the load when the backends still open are counted
MIX = """
local paths = {"/api/companies", "/api/companies/%(company)s"}
local n = 0
request = function()
  n = n + 1
  return wrk.format("GET", paths[n %% 2 + 1], {["Authorization"] = "Bearer %(token)s"})
end
"""


@dataclass(frozen=True)
class Run:
    """One measurement of one combination."""

    rps: float
    p50: float  # milliseconds
    p99: float
    errors: int  # non-2xx answers and socket errors
    backends_during: int
    backends_after: int


def millis(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def parse_wrk(output: str) -> tuple[float, float, float, int]:
    """requests/s, p50 and p99 in ms, and errors, from ``wrk --latency``'s report."""
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output)[1])  # type: ignore[index]
    p50 = millis(re.search(r"\s50%\s+(\S+)", output)[1])  # type: ignore[index]
    p99 = millis(re.search(r"\s99%\s+(\S+)", output)[1])  # type: ignore[index]
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", output))
    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    return rps, p50, p99, errors + (sum(int(n) for n in socket.groups()) if socket else 0)


def backends(admin: str, database: str) -> int:
    """The server processes connected to ``database`` now."""
    with psycopg.connect(admin, autocommit=True) as connection:
        row = connection.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s",
                                 [database]).fetchone()
    return int(row[0]) if row else 0


@contextmanager
def sampling(admin: str, database: str) -> Iterator[list[int]]:
    """The backend counts of ``database``, sampled every 0.25 s while the block runs."""
    samples: list[int] = []
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.25):
            samples.append(backends(admin, database))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        yield samples
    finally:
        done.set()
        sampler.join()


@contextmanager
def demo(env: dict[str, str], log: Path) -> Iterator[str]:
    """The base URL of the demo served by uvicorn on core 0, until the block ends."""
    port = free_port()
    with log.open("ab") as out:
        process = subprocess.Popen(
            ["taskset", "-c", "0", sys.executable, "-m", "uvicorn", "demo.asgi:app", "--host", "127.0.0.1",
             "--port", str(port), "--no-access-log", "--log-level", "warning"],
            cwd=EXAMPLE, env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{base}/openapi.json", timeout=1)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"the demo did not start:\n{log.read_text()}") from None
                time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=15)


def wrk(base: str, script: Path, connections: int, seconds: int) -> str:
    command = ["taskset", "-c", "1", "wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency",
               "-s", str(script), base]
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout


def measure(env: dict[str, str], state: Path, admin: str, database: str, args: argparse.Namespace) -> Run:
    """One server, warmed for a second, then loaded for ``args.seconds``; backends counted."""
    with demo(env, state / "server.log") as base:
        wrk(base, state / "mix.lua", args.connections, 1)
        with sampling(admin, database) as samples:
            output = wrk(base, state / "mix.lua", args.connections, args.seconds)
        time.sleep(AFTER)
        after = backends(admin, database)
    rps, p50, p99, errors = parse_wrk(output)
    return Run(rps, p50, p99, errors, max(samples, default=0), after)


def prepare(env: dict[str, str], state: Path) -> None:
    """Migrate, load the demo data, and write wrk's request mix with a tenant-a admin token."""
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "--noinput", "-v0"], cwd=EXAMPLE, env=env, check=True)
    printed = subprocess.run([*manage, "demo_data"], cwd=EXAMPLE, env=env, check=True,
                             capture_output=True, text=True).stdout
    token = re.search(r"^export TOKEN_A_ADMIN=(\S+)$", printed, flags=re.M)[1]  # type: ignore[index]
    with demo(env, state / "server.log") as base:
        companies = httpx.get(f"{base}/api/companies", headers={"Authorization": f"Bearer {token}"}).json()
    (state / "mix.lua").write_text(MIX % {"company": companies["items"][0]["id"], "token": token})


def combinations(args: argparse.Namespace) -> list[tuple[int, str]]:
    return [(int(threads), mode) for threads in args.threads.split(",") for mode in args.modes.split(",")]


def environment(base: dict[str, str], threads: int, mode: str) -> dict[str, str]:
    pool = {"DATABASE_POOL": str(threads)} if mode == "pool" else {}
    return {**base, **MODES[mode], **pool, "DJFAPI_THREADS": str(threads)}


def table(results: dict[tuple[int, str], list[Run]]) -> str:
    lines = ["| threads | connections | req/s | p50 ms | p99 ms | backends during | after 5 s | errors |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    names = {"none": "CONN_MAX_AGE=0", "keep": "CONN_MAX_AGE=60", "pool": "pool"}
    for (threads, mode), runs in results.items():
        name = f"pool ({threads})" if mode == "pool" else names[mode]
        lines.append(
            f"| {threads} | {name} | {statistics.median(r.rps for r in runs):.0f} "
            f"| {statistics.median(r.p50 for r in runs):.1f} | {statistics.median(r.p99 for r in runs):.1f} "
            f"| {max(r.backends_during for r in runs)} | {max(r.backends_after for r in runs)} "
            f"| {sum(r.errors for r in runs)} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--threads", default="40,8,4")
    parser.add_argument("--modes", default="none,keep,pool")
    args = parser.parse_args()
    for tool, package in (("wrk", "wrk"), ("taskset", "util-linux")):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is needed: apt-get install -y {package}")
    database = f"djfapi_bench_threads_{os.getpid()}"
    with tempfile.TemporaryDirectory(prefix="djfapi-bench-") as state_dir, \
            postgres_database(database) as url:
        state = Path(state_dir)
        admin = urlsplit(url)._replace(path="/postgres").geturl()
        base = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DJFAPI_", "CONN_"))}
        base.update(DEMO_STATE_DIR=str(state), DATABASE_URL=url, PYTHONPATH=str(ROOT))
        base.pop("DATABASE_POOL", None)
        prepare(base, state)
        results: dict[tuple[int, str], list[Run]] = {combination: [] for combination in combinations(args)}
        for round_number in range(1, args.rounds + 1):
            for threads, mode in results:
                run = measure(environment(base, threads, mode), state, admin, database, args)
                results[threads, mode].append(run)
                print(f"round {round_number}: {threads} threads, {mode}: {run} "
                      f"(load {os.getloadavg()[0]:.2f})", flush=True)
        print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
