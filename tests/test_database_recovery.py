"""Database faults over real HTTP, against a PostgreSQL cluster of the test's own: the demo app
(example/, as it is deployed: its settings' connect timeout and health checks) under uvicorn
in a process of its own, several httpx clients in threads, while the cluster is stopped,
restarted, starved of connections and has its sessions terminated. Clients see 200s, or 503s
with Retry-After and a JSON detail while the database is unavailable, never a 500; once it is
back every request succeeds again.

Each way of holding connections is served: one a request (``CONN_MAX_AGE=0``), one a thread
kept for a minute (``CONN_MAX_AGE=60`` with ``CONN_HEALTH_CHECKS``) and Django's pool
(``DATABASE_POOL=8``, psycopg_pool, its connections checked when taken).

It runs in the PostgreSQL run of the suite (it needs root and Debian's ``pg_createcluster``);
``DJFAPI_SOAK=1`` (``make soak``) runs it long: more clients, longer load, repeated restarts,
and prints what the clients saw.
"""

from __future__ import annotations

import collections
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import httpx
import pytest

from djfapi.exceptions import RETRY_AFTER
from tests.serving import ROOT, Server, serve

pytest.importorskip("psycopg")
pytest.importorskip("psycopg_pool")

from tests.postgres_cluster import Cluster, own_cluster, unavailable

EXAMPLE = ROOT / "example"
DATABASE = "demo"
UNAVAILABLE = {"detail": "The database is unavailable; try again shortly."}
SOAK = os.environ.get("DJFAPI_SOAK") == "1"
CLIENTS = 24 if SOAK else 6          # threads, each with its own keep-alive connection
LOAD_SECONDS = 10.0 if SOAK else 1.5  # load kept up around a fault
RESTARTS = 5 if SOAK else 1           # restarts under load, one after the other
CONNECT_TIMEOUT = 5                   # example/demo/settings.py: connect_timeout and the pool's timeout

MODES = {
    "per-request": {"CONN_MAX_AGE": "0"},
    "persistent": {"CONN_MAX_AGE": "60"},
    "pool": {"DATABASE_POOL": "8"},
}


ON_POSTGRES = os.environ.get("DJFAPI_TEST_DATABASE") == "postgres"

if not ON_POSTGRES:
    pytest.skip("runs in the PostgreSQL run (DJFAPI_TEST_DATABASE=postgres)", allow_module_level=True)
if (reason := unavailable()) is not None:
    if os.environ.get("DJFAPI_REQUIRE_POSTGRES") == "1":
        pytest.fail(f"DJFAPI_REQUIRE_POSTGRES=1, but a cluster of the test's own cannot be made: {reason}",
                    pytrace=False)
    pytest.skip(reason, allow_module_level=True)


# -- what clients see ------------------------------------------------------------------------

@dataclass(frozen=True)
class Outcome:
    started: float
    ended: float
    status: int | str  # the status code, or what went wrong: "503 without Retry-After", "ReadError"


@dataclass
class Load:
    """Clients in threads sending requests until stopped; what each request got."""

    outcomes: list[Outcome] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def since(self, moment: float) -> list[Outcome]:
        return [outcome for outcome in self.outcomes if outcome.started >= moment]

    def until(self, moment: float) -> list[Outcome]:
        return [outcome for outcome in self.outcomes if outcome.started < moment]


def request(http: httpx.Client) -> Outcome:
    started = time.monotonic()
    try:
        response = http.get("/api/companies")
    except httpx.TransportError as exc:
        return Outcome(started, time.monotonic(), type(exc).__name__)
    status: int | str = response.status_code
    if status == 503 and response.headers.get("Retry-After") != str(RETRY_AFTER):
        status = "503 without Retry-After"
    elif status == 503 and response.json() != UNAVAILABLE:
        status = f"503 with {response.text}"
    return Outcome(started, time.monotonic(), status)


@contextmanager
def load(server: Server, token: str, clients: int = CLIENTS) -> Iterator[Load]:
    """``clients`` threads sending requests, one after the other each, while the block runs."""
    running = Load()

    def client() -> None:
        with httpx.Client(base_url=server.base_url, timeout=30,
                          headers={"Authorization": f"Bearer {token}"}) as http:
            while not running.stop.is_set():
                running.outcomes.append(request(http))

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    try:
        yield running
    finally:
        running.stop.set()
        for thread in threads:
            thread.join()


def burst(server: Server, token: str, each: int = 3, clients: int = CLIENTS) -> list[Outcome]:
    """``clients`` threads, ``each`` requests each; what they got."""
    outcomes: list[Outcome] = []

    def client() -> None:
        with httpx.Client(base_url=server.base_url, timeout=30,
                          headers={"Authorization": f"Bearer {token}"}) as http:
            outcomes.extend(request(http) for _ in range(each))

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def statuses(outcomes: list[Outcome]) -> dict[int | str, int]:
    return dict(collections.Counter(outcome.status for outcome in outcomes))


def report(scenario: str, outcomes: list[Outcome], **figures: object) -> None:
    """One line of what the clients saw (shown with ``pytest -s``; ``make soak`` shows it)."""
    slowest = max((outcome.ended - outcome.started for outcome in outcomes), default=0.0)
    extra = "".join(f", {name} {value:.2f} s" if isinstance(value, float) else f", {name} {value}"
                    for name, value in figures.items())
    print(f"\n[faults] {scenario}: {len(outcomes)} requests, {statuses(outcomes)}, "
          f"slowest {slowest:.2f} s{extra}", flush=True)


# -- the cluster and the servers ---------------------------------------------------------------

@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    with own_cluster(max_connections=50) as made:
        with made.connect() as connection:
            connection.execute(f'CREATE DATABASE "{DATABASE}"')
        yield made


@pytest.fixture(scope="module")
def demo_env(cluster, tmp_path_factory) -> tuple[dict[str, str], str]:
    """The environment of the demo on the cluster (migrated, demo data loaded), and a token."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "DJFAPI_"))}
    env.update(DEMO_STATE_DIR=str(tmp_path_factory.mktemp("demo-state")), DATABASE_URL=cluster.url(DATABASE),
               PYTHONPATH=str(ROOT))  # this djfapi, whichever one is installed
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "--noinput", "-v0"], cwd=EXAMPLE, env=env, check=True)
    loaded = subprocess.run([*manage, "demo_data"], cwd=EXAMPLE, env=env, check=True,
                            capture_output=True, text=True).stdout
    [token] = re.findall(r"^export TOKEN_A_ADMIN=(\S+)$", loaded, flags=re.M)
    return env, token


@pytest.fixture(scope="module", params=list(MODES))
def demo(request, demo_env, cluster, tmp_path_factory) -> Iterator[tuple[Server, str]]:
    """The demo served in one of MODES; (server, token)."""
    env, token = demo_env
    log_path = tmp_path_factory.mktemp(f"demo-{request.param}") / "server.log"
    env = {**env, **MODES[request.param]}
    with serve("demo.asgi:app", cwd=EXAMPLE, env=env, log_path=log_path) as server:
        assert statuses(burst(server, token, each=1)) == {200: CLIENTS}
        yield server, token
    log = server.log()
    assert "Exception in ASGI application" not in log and "unhandled error" not in log, log


def assert_answered(outcomes: list[Outcome]) -> None:
    """Only 200s and proper 503s: never a 500, a malformed 503 or a dropped connection."""
    assert set(statuses(outcomes)) <= {200, 503}, statuses(outcomes)


# -- the faults --------------------------------------------------------------------------------

def test_a_stopped_database_is_a_quick_503_and_back_when_it_starts(demo, cluster):
    server, token = demo
    cluster.ctl("stop")
    try:
        down = burst(server, token, each=1)
    finally:
        cluster.ctl("start")
    back = time.monotonic()
    up = burst(server, token)
    report("stopped", down, first_200_after_start=min(o.ended for o in up if o.status == 200) - back)
    assert statuses(down) == {503: len(down)}
    assert max(o.ended - o.started for o in down) < CONNECT_TIMEOUT + 2  # no 30 s hangs
    assert statuses(up) == {200: len(up)}


KEEPING = ["persistent", "pool"]  # the modes that keep connections across requests


@pytest.mark.parametrize("demo", KEEPING, indirect=True)
def test_a_restart_while_idle_costs_no_request(demo, cluster):
    server, token = demo
    assert statuses(burst(server, token)) == {200: 3 * CLIENTS}  # connections held where kept
    cluster.ctl("restart")
    after = burst(server, token, each=5)
    report("restart while idle", after)
    assert statuses(after) == {200: len(after)}


def test_restarts_under_load_fail_only_requests_in_flight(demo, cluster):
    server, token = demo
    with load(server, token) as running:
        time.sleep(LOAD_SECONDS / 2)
        windows = []
        for _ in range(RESTARTS):
            began = time.monotonic()
            cluster.ctl("restart")
            windows.append((began, time.monotonic()))
            time.sleep(LOAD_SECONDS / 2)
    outcomes = running.outcomes
    in_flight = [o for o in outcomes if any(o.started < back and o.ended > began for began, back in windows)]
    others = [o for o in outcomes if o not in in_flight]
    recovery = max(min((o.ended for o in outcomes if o.status == 200 and o.started >= back), default=back)
                   - back for _, back in windows)
    report(f"{RESTARTS} restart(s) under load", outcomes, in_flight=len(in_flight),
           first_200_after_back=recovery)
    assert_answered(in_flight)
    assert statuses(others) == {200: len(others)}
    assert len(others) > CLIENTS


@pytest.mark.parametrize("demo", KEEPING, indirect=True)
def test_terminated_sessions_fail_only_requests_in_flight(demo, cluster):
    server, token = demo
    with load(server, token) as running:
        time.sleep(LOAD_SECONDS / 2)
        began = time.monotonic()
        terminated = cluster.terminate_backends(DATABASE)
        done = time.monotonic()
        time.sleep(LOAD_SECONDS / 2)
    in_flight = [o for o in running.outcomes if o.started < done and o.ended > began]
    after = running.since(done)
    report("pg_terminate_backend", running.outcomes, terminated=terminated)
    assert terminated > 0
    assert_answered(in_flight)
    assert statuses(after) == {200: len(after)} and len(after) > CLIENTS


@pytest.mark.parametrize("demo", ["per-request"], indirect=True)
def test_when_connections_run_out_clients_get_503s_and_then_200s_again(demo, cluster):
    server, token = demo
    held = []
    try:
        while True:  # every connection the server allows, held by another client
            try:
                held.append(cluster.connect(DATABASE))
            except Exception:
                break
        starved = burst(server, token)
        for connection in held[:4]:  # a few free again: more clients than connections
            connection.close()
        scarce = burst(server, token, clients=2 * CLIENTS, each=2)
    finally:
        for connection in held:
            connection.close()
    released = time.monotonic()
    plenty = burst(server, token, clients=2 * CLIENTS, each=2)
    report("max_connections held", starved + scarce, held=len(held),
           first_200_after_release=min(o.ended for o in plenty if o.status == 200) - released)
    assert statuses(starved) == {503: len(starved)}
    assert_answered(scarce)
    assert statuses(plenty) == {200: len(plenty)}
