"""In-process driver: each app called directly, no server, no sockets.

ASGI apps get ``await app(scope, receive, send)`` (not httpx's transport), WSGI apps
``application(environ, start_response)``. Per competitor and scenario it reports the median
µs per request, the SQL queries per request and the threadpool calls per request::

    python -m bench.inprocess                       # every competitor and scenario
    python -m bench.inprocess --competitor djfapi --scenario "tree list 50" --profile
    python -m bench.inprocess --smoke --seed        # CI: a few requests each, checks answers

Queries are counted by wrapping Django's ``CursorWrapper`` (every thread's connection);
threadpool calls by wrapping ``anyio.to_thread.run_sync``, which Starlette's
``run_in_threadpool`` and djfapi both call. ``--profile`` writes a pyinstrument HTML profile
per batch to ``bench/profiles/``; threadpool work then runs inline on the event loop thread,
which pyinstrument samples (the only change to what runs).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import io
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.competitors import BY_NAME, COMPETITORS, Competitor
from bench.scenarios import SCENARIOS, Scenario
from bench.seed import SEED_COMPANIES, remove_written_rows, setup

PROFILES = Path(__file__).parent / "profiles"


class Counters:
    queries = 0
    hops = 0


def install_counters(inline_threadpool: bool = False) -> None:
    """Count SQL statements and threadpool calls, process-wide and in every thread."""
    import anyio.to_thread
    from django.db.backends.utils import CursorWrapper

    execute = CursorWrapper._execute_with_wrappers

    def counted_execute(self: Any, *args: Any, **kwargs: Any) -> Any:
        Counters.queries += 1
        return execute(self, *args, **kwargs)

    run_sync = anyio.to_thread.run_sync

    async def counted_run_sync(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        Counters.hops += 1
        if inline_threadpool:
            return func(*args)
        return await run_sync(func, *args, **kwargs)

    CursorWrapper._execute_with_wrappers = counted_execute  # type: ignore[method-assign]
    anyio.to_thread.run_sync = counted_run_sync


@dataclass
class Batch:
    """What one competitor answered to one scenario."""

    competitor: str
    scenario: str
    requests: int = 0
    micros: list[float] = field(default_factory=list)
    queries: int = 0
    hops: int = 0
    statuses: set[int] = field(default_factory=set)
    first_body: bytes = b""

    @property
    def median_us(self) -> float:
        return statistics.median(self.micros) if self.micros else float("nan")

    @property
    def queries_per_request(self) -> float:
        return self.queries / self.requests if self.requests else float("nan")

    @property
    def hops_per_request(self) -> float:
        return self.hops / self.requests if self.requests else float("nan")

    @property
    def ok(self) -> bool:
        return bool(self.statuses) and all(200 <= status < 300 for status in self.statuses)


def asgi_scope(method: str, path: str, body: bytes) -> dict[str, Any]:
    route, _, query = path.partition("?")
    headers = [(b"host", b"bench"), (b"content-length", str(len(body)).encode())]
    if body:
        headers.append((b"content-type", b"application/json"))
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": route,
        "raw_path": route.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 80),
        "state": {},
    }


async def call_asgi(app: Any, method: str, path: str, body: bytes) -> tuple[int, bytes]:
    sent = False
    done = asyncio.Event()
    status = 0
    chunks: list[bytes] = []

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await done.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                done.set()

    await app(asgi_scope(method, path, body), receive, send)
    return status, b"".join(chunks)


def call_wsgi(application: Any, method: str, path: str, body: bytes) -> tuple[int, bytes]:
    route, _, query = path.partition("?")
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": route,
        "QUERY_STRING": query,
        "SCRIPT_NAME": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "bench",
        "CONTENT_LENGTH": str(len(body)),
        "CONTENT_TYPE": "application/json" if body else "",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.url_scheme": "http",
        "wsgi.version": (1, 0),
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    status = 0

    def start_response(line: str, headers: list[Any], exc_info: Any = None) -> None:
        nonlocal status
        status = int(line.split(" ", 1)[0])

    result = application(environ, start_response)
    try:
        return status, b"".join(result)
    finally:
        if hasattr(result, "close"):
            result.close()


def load(competitor: Competitor) -> Any:
    return getattr(importlib.import_module(competitor.module), competitor.attribute)


def prepare_deletes(count: int) -> list[int]:
    """``count`` fresh companies for the delete scenario to remove."""
    from bench.shop.models import Company

    rows = Company.objects.bulk_create(Company(name="To delete") for _ in range(count))
    return [row.pk for row in rows]


def run_batch(
    competitor: Competitor,
    scenario: Scenario,
    *,
    seconds: float,
    min_requests: int,
    max_requests: int,
    warmup: int = 2,
    profile: bool = False,
) -> Batch:
    """Warm up, then call the app until ``seconds`` passed (between min and max requests)."""
    from django.conf import settings

    if competitor.interface == "wsgi":
        settings.ROOT_URLCONF = competitor.module
    app = load(competitor)
    ids = prepare_deletes(max_requests + warmup) if scenario.kind == "delete" else None
    batch = Batch(competitor.name, scenario.name)

    def record(i: int, began: int, status: int, body: bytes) -> None:
        batch.micros.append((time.perf_counter_ns() - began) / 1000)
        batch.statuses.add(status)
        if batch.requests == 0:
            batch.first_body = body
        batch.requests += 1

    def more(start: float) -> bool:
        return batch.requests < min_requests or (
            batch.requests < max_requests and time.perf_counter() - start < seconds
        )

    def loop_sync() -> None:  # WSGI: no event loop in this thread, as under gunicorn
        for i in range(warmup):
            call_wsgi(app, *scenario.request(i, ids))
        Counters.queries = Counters.hops = 0
        start, i = time.perf_counter(), warmup
        while more(start):
            began = time.perf_counter_ns()
            record(i, began, *call_wsgi(app, *scenario.request(i, ids)))
            i += 1
        batch.queries, batch.hops = Counters.queries, Counters.hops

    async def loop_async() -> None:
        for i in range(warmup):
            await call_asgi(app, *scenario.request(i, ids))
        Counters.queries = Counters.hops = 0
        start, i = time.perf_counter(), warmup
        while more(start):
            began = time.perf_counter_ns()
            record(i, began, *(await call_asgi(app, *scenario.request(i, ids))))
            i += 1
        batch.queries, batch.hops = Counters.queries, Counters.hops

    profiler = None
    if profile:
        from pyinstrument import Profiler

        profiler = Profiler(async_mode="enabled")
        profiler.start()
    if competitor.interface == "asgi":
        asyncio.run(loop_async())
    else:
        loop_sync()
    if profiler is not None:
        profiler.stop()
        PROFILES.mkdir(exist_ok=True)
        target = PROFILES / f"{competitor.name}-{scenario.name.replace(' ', '-')}.html"
        target.write_text(profiler.output_html())
        print(f"profile: {target}", file=sys.stderr)
    if scenario.writes:
        remove_written_rows()
    return batch


def run_all(competitors: list[Competitor], scenarios: list[Scenario], **options: Any) -> list[Batch]:
    return [
        run_batch(competitor, scenario, **options) for scenario in scenarios for competitor in competitors
    ]


def same_answers(batches: list[Batch]) -> list[str]:
    """Problems: a list whose djfapi JSON differs from the careful one's (after json.loads),
    besides the ``next``/``previous`` links djfapi's pages carry."""
    found = {(batch.competitor, batch.scenario): batch for batch in batches}
    problems = []
    for scenario in SCENARIOS:
        mine, theirs = found.get(("djfapi", scenario.name)), found.get(("careful", scenario.name))
        if scenario.kind != "list" or mine is None or theirs is None:
            continue
        answer = json.loads(mine.first_body)
        # careful answers no links to the pages beside it; the rest must be the same
        links = {key: answer.pop(key, None) for key in ("next", "previous")}
        if answer != json.loads(theirs.first_body) or not all(
                link is None or link.startswith("http") for link in links.values()):
            problems.append(f"{scenario.name}: djfapi's JSON differs from careful's")
    return problems


def table(batches: list[Batch], value: Callable[[Batch], str], competitors: list[str]) -> str:
    rows: dict[str, dict[str, str]] = {}
    for batch in batches:
        rows.setdefault(batch.scenario, {})[batch.competitor] = value(batch)
    lines = ["| scenario | " + " | ".join(competitors) + " |", "| --- |" + " ---: |" * len(competitors)]
    lines += [
        f"| {scenario} | " + " | ".join(cells.get(name, "") for name in competitors) + " |"
        for scenario, cells in rows.items()
    ]
    return "\n".join(lines)


def report(batches: list[Batch], competitors: list[str]) -> str:
    wsgi = {competitor.name for competitor in COMPETITORS if competitor.interface == "wsgi"}
    return "\n\n".join(
        [
            "µs per request (median, in-process):",
            table(batches, lambda b: f"{b.median_us:,.0f}", competitors),
            "SQL queries per request:",
            table(batches, lambda b: f"{b.queries_per_request:g}", competitors),
            "threadpool calls per request (WSGI apps: none, gunicorn's sync worker runs them in its thread):",
            table(batches, lambda b: "—" if b.competitor in wsgi else f"{b.hops_per_request:g}", competitors),
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--competitor", action="append", choices=sorted(BY_NAME), help="repeatable; default all"
    )
    parser.add_argument(
        "--scenario",
        action="append",
        choices=[s.name for s in SCENARIOS],
        metavar="NAME",
        help="repeatable; default all",
    )
    parser.add_argument("--seconds", type=float, default=0.5, help="per competitor and scenario")
    parser.add_argument("--requests", type=int, default=2000, help="the most per competitor and scenario")
    parser.add_argument("--profile", action="store_true", help="write pyinstrument HTML profiles")
    parser.add_argument(
        "--smoke", action="store_true", help="3 requests each; fail on non-2xx or djfapi≠careful"
    )
    parser.add_argument("--seed", action="store_true", help="migrate and seed the database first")
    args = parser.parse_args(argv)

    if args.profile:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # ORM calls inline on the event loop thread
    setup()
    install_counters(inline_threadpool=args.profile)
    if args.seed:
        from bench.seed import create_database, seed

        create_database()
        seed()
    competitors = [BY_NAME[name] for name in args.competitor] if args.competitor else COMPETITORS
    scenarios = [s for s in SCENARIOS if not args.scenario or s.name in args.scenario]
    if args.smoke:
        options = {"seconds": 0.0, "min_requests": 3, "max_requests": 3, "warmup": 1}
    else:
        options = {"seconds": args.seconds, "min_requests": 5, "max_requests": args.requests}
    batches = run_all(competitors, scenarios, profile=args.profile, **options)
    print(report(batches, [competitor.name for competitor in competitors]))
    problems = [f"{b.competitor} / {b.scenario}: status {sorted(b.statuses)}" for b in batches if not b.ok]
    problems += same_answers(batches)
    for problem in problems:
        print("PROBLEM:", problem, file=sys.stderr)
    assert SEED_COMPANIES  # the seed's ids are what the scenarios address
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
