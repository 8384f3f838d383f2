"""A PostgreSQL cluster of a test's own (Debian's ``pg_createcluster``), to stop, restart and
starve without touching the shared server; dropped when the block ends, also on failure."""

from __future__ import annotations

import os
import random
import shutil
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg

CONFIG = Path("/etc/postgresql")


def unavailable() -> str | None:
    """Why a cluster of one's own cannot be made here, or None when it can."""
    if shutil.which("pg_createcluster") is None or shutil.which("runuser") is None or not CONFIG.is_dir():
        return "pg_createcluster (Debian's postgresql-common) or runuser is not installed"
    if os.geteuid() != 0:
        return "pg_createcluster needs root"
    return None


@dataclass(frozen=True)
class Cluster:
    version: str
    name: str
    port: int

    def url(self, database: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def ctl(self, action: str) -> None:
        """``pg_ctl <action>``: start, stop or restart (fast: sessions are ended), waiting until
        done. pg_ctl itself, run as postgres, not pg_ctlcluster: the same, seconds faster."""
        data = f"/var/lib/postgresql/{self.version}/{self.name}"
        config = f"/etc/postgresql/{self.version}/{self.name}/postgresql.conf"
        log = f"/var/log/postgresql/postgresql-{self.version}-{self.name}.log"
        done = subprocess.run(
            ["runuser", "-u", "postgres", "--", f"/usr/lib/postgresql/{self.version}/bin/pg_ctl", action,
             "-w", "-s", "-m", "fast", "-D", data, "-l", log, "-o", f"-c config_file={config}"],
            capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"pg_ctl {action} {self.name}: {done.stderr or done.stdout}")

    def connect(self, database: str = "postgres") -> psycopg.Connection:
        return psycopg.connect(self.url(database), autocommit=True, connect_timeout=5)

    def terminate_backends(self, database: str) -> int:
        """End every session on ``database`` (as a crash or a failover would), waiting until
        each is gone; how many there were."""
        with self.connect() as connection:
            row = connection.execute(
                "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid, 5000)) FROM pg_stat_activity"
                " WHERE datname = %s AND pid <> pg_backend_pid()", [database]).fetchone()
        return row[0] if row else 0


def free_port() -> int:
    """A port in 55xx-58xx nothing listens on (picked at random: others make clusters too)."""
    for port in random.sample(range(5500, 5900), 400):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        if not any(Path("/var/run/postgresql").glob(f".s.PGSQL.{port}*")):
            return port
    raise RuntimeError("no free port in 5500-5899")


@contextmanager
def own_cluster(**settings: int) -> Iterator[Cluster]:
    """A started cluster on a free port (listening on localhost, trusting every connection),
    with ``settings`` in its postgresql.conf; stopped and dropped afterwards."""
    version = sorted(path.name for path in CONFIG.iterdir())[-1]
    cluster = Cluster(version, f"djfapi_faults_{os.getpid()}_{random.randrange(10**6)}", free_port())
    options = [arg for name, value in settings.items() for arg in ("-o", f"{name}={value}")]
    subprocess.run(["pg_createcluster", "--quiet", "--start-conf=manual", "-p", str(cluster.port), *options,
                    version, cluster.name, "--", "--auth-local=trust", "--auth-host=trust"],
                   check=True, capture_output=True)
    try:
        cluster.ctl("start")
        yield cluster
    finally:
        subprocess.run(["pg_dropcluster", "--stop", version, cluster.name], capture_output=True)
