"""Open-loop load at a fixed rate, for latency: wrk cannot fix a rate, this can.

Request ``i`` is due at ``start + i / rate`` whether or not earlier ones have been answered
(a free keep-alive connection is reused, else a new one is opened), and its latency is counted
from when it was due, so a stalled server is not hidden (no coordinated omission)::

    taskset -c 1 python -m bench.loadgen --port 8101 --scenario "tree list 50" --rate 40 --seconds 3

Prints one JSON object: requests, errors (non-2xx or failed), p50/p99 in ms, and the CPU
this process used over the wall time (a generator near 100% is itself the bottleneck).
"""

import argparse
import asyncio
import json
import resource
import time
from pathlib import Path

from bench.scenarios import SCENARIOS

MAX_OUTSTANDING = 512


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """Read one response; (status, whether the connection may be reused)."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip().lower()
    if "content-length" in headers:
        await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding") == "chunked":
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    elif status not in (204, 304):
        await reader.read()
        return status, False
    return status, headers.get("connection") != "close"


async def run(port: int, scenario_name: str, rate: float, seconds: float, ids: list[int] | None) -> dict:
    scenario = next(s for s in SCENARIOS if s.name == scenario_name)
    idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
    latencies: list[float] = []
    errors = 0
    outstanding = 0

    async def one(i: int, due: float) -> None:
        nonlocal errors, outstanding
        method, path, body = scenario.request(i, ids)
        request = (
            f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {len(body)}\r\n"
            + ("Content-Type: application/json\r\n" if body else "")
            + "\r\n"
        ).encode() + body
        try:
            reader, writer = idle.pop() if idle else await asyncio.open_connection("127.0.0.1", port)
            writer.write(request)
            status, reusable = await read_response(reader)
            latencies.append(time.perf_counter() - due)
            if not 200 <= status < 300:
                errors += 1
            if reusable:
                idle.append((reader, writer))
            else:
                writer.close()
        except (OSError, asyncio.IncompleteReadError, ValueError):
            errors += 1
        finally:
            outstanding -= 1

    tasks = []
    start = time.perf_counter() + 0.05
    count = int(rate * seconds)
    for i in range(count):
        due = start + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        if outstanding >= MAX_OUTSTANDING:
            errors += 1  # the server fell this far behind: counted as failed, not sent
            continue
        outstanding += 1
        tasks.append(asyncio.create_task(one(i, due)))
    await asyncio.gather(*tasks)
    for _, writer in idle:
        writer.close()
    latencies.sort()

    def percentile(p: float) -> float:
        return (
            latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000 if latencies else float("nan")
        )

    return {
        "requests": count,
        "answered": len(latencies),
        "errors": errors,
        "p50_ms": percentile(0.50),
        "p99_ms": percentile(0.99),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--scenario", required=True)
    parser.add_argument("--rate", type=float, required=True, help="requests per second")
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--ids", help="a JSON file of the ids the delete scenario removes")
    args = parser.parse_args()
    ids = json.loads(Path(args.ids).read_text()) if args.ids else None
    before, wall = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    result = asyncio.run(run(args.port, args.scenario, args.rate, args.seconds, ids))
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    result["cpu"] = cpu / (time.perf_counter() - wall)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
