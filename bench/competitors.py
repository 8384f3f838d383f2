"""The five competitors: where each app lives and how it is served (one process, one worker)."""

import functools
from dataclasses import dataclass


@dataclass(frozen=True)
class Competitor:
    name: str
    interface: str  # "asgi" (uvicorn) or "wsgi" (gunicorn, sync worker)
    module: str

    @property
    def attribute(self) -> str:
        return "app" if self.interface == "asgi" else "application"

    def command(self, python: str, port: int) -> list[str]:
        """The server's command line (the caller pins it to a core with taskset)."""
        target = f"{self.module}:{self.attribute}"
        if self.interface == "asgi":
            return [
                python,
                "-m",
                "uvicorn",
                target,
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                "1",
                "--no-access-log",
                "--log-level",
                "warning",
            ]
        return [
            python,
            "-m",
            "gunicorn",
            target,
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--worker-class",
            "sync",
            "--log-level",
            "warning",
            "--backlog",
            "2048",
            *(["--no-control-socket"] if _has_control_socket(python) else []),  # two servers, one path
        ]


COMPETITORS = [
    Competitor("careful", "asgi", "bench.apps.careful"),
    Competitor("djfapi", "asgi", "bench.apps.djfapi_app"),
    Competitor("idiomatic", "asgi", "bench.apps.idiomatic"),
    Competitor("drf", "wsgi", "bench.apps.drf_app"),
    Competitor("ninja", "wsgi", "bench.apps.ninja_app"),
]
BY_NAME = {competitor.name: competitor for competitor in COMPETITORS}
BASELINE = "careful"


@functools.cache
def _has_control_socket(python: str) -> bool:
    """Whether this gunicorn has a control socket (newer releases), which the DRF and ninja
    servers would both try to open at the same path."""
    import subprocess

    found = subprocess.run([python, "-m", "gunicorn", "--help"], capture_output=True, text=True)
    return "--no-control-socket" in found.stdout
