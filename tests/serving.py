"""A server process for tests over real HTTP: uvicorn on a free loopback port, its output kept,
and a PostgreSQL database of its own for it. ``scripts/fuzz.py`` serves the demo with these too."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass(frozen=True)
class Server:
    """A running server: where it listens and the file its stdout and stderr go to."""

    base_url: str
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@contextmanager
def serve(app: str, *, env: dict[str, str], cwd: Path = ROOT, log_path: Path, ready: str = "/docs",
          args: tuple[str, ...] = ()) -> Iterator[Server]:
    """``uvicorn app`` until the block ends (then SIGINT, or a kill after 10 s); ready once
    ``ready`` answers at all."""
    port = free_port()
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port), *args],
            cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
    server = Server(f"http://127.0.0.1:{port}", log_path)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(server.base_url + ready, timeout=1)
                break
            except httpx.TransportError:
                pass
            assert process.poll() is None, server.log()
            assert time.monotonic() < deadline, f"{app} did not come up in 30 s:\n{server.log()}"
            time.sleep(0.1)
        yield server
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def postgres_database(name: str) -> Iterator[str]:
    """The URL of a database ``name`` made afresh on the test server
    (``DJFAPI_TEST_DATABASE_URL``), dropped when the block ends."""
    import psycopg

    from tests.settings import DEFAULT_POSTGRES_URL

    server = urlsplit(os.environ.get("DJFAPI_TEST_DATABASE_URL", DEFAULT_POSTGRES_URL))
    admin = server._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield server._replace(path=f"/{name}").geturl()
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
