"""The benchmark harness (bench/) runs: every competitor answers every scenario with a 2xx, and
djfapi's lists answer the same JSON as the hand-written careful app's. No timing is asserted.

The harness has Django settings of its own, so it runs in a subprocess (``python -m
bench.inprocess --smoke``) on a SQLite file of its own; skipped when the ``bench`` extra
(DRF, django-ninja) is not installed.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("rest_framework")
pytest.importorskip("ninja")

ROOT = Path(__file__).resolve().parent.parent


def test_every_competitor_answers_every_scenario_and_djfapi_answers_as_careful(tmp_path):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.settings", "PYTHONPATH": str(ROOT),
           "BENCH_DATABASE_URL": f"sqlite:///{tmp_path / 'bench.sqlite3'}"}
    done = subprocess.run([sys.executable, "-m", "bench.inprocess", "--smoke", "--seed"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SQL queries per request" in done.stdout
