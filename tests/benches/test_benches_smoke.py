"""Smoke test of ``python -m benches --quick``: it runs and prints every row (no timing asserts)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

ROWS = (
    "python -c pass",
    'python -c "import click" (floor)',
    "dtm --version",
    "dtm search argocd, bundled index",
    "dtm info argocd, bundled index",
    "dtm search argocd, large index (cached)",
    "dtm info argocd, large index (cached)",
    "dtm search argocd, large index (first run: validate + cache)",
    "resolve 100 dependencies, in-process",
    "dtm install --dry-run, no-op plugin kinds",
    "dtm install --dry-run, no plugin installed",
    "dtm list, empty state",
    "dtm list, 1,000 instances",
    "state load + commit, 10,000 instances",
    "state load + commit, 10,000 instances, PostgreSQL",
    "apply 50 instances, 5 levels, 0.2 s each",
    "no-op plan, 200 instances, 0.05 s reads",
)


@pytest.mark.slow
def test_quick_run_prints_every_row(tmp_path: Path) -> None:
    dump = tmp_path / "bench.json"
    env = {key: value for key, value in os.environ.items() if not key.startswith("DTM_")}
    done = subprocess.run(
        [sys.executable, "-m", "benches", "--quick", "--json", str(dump)],
        cwd=REPO, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL,
        timeout=300, check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    for name in ROWS:
        assert name in done.stdout, f"row {name!r} missing:\n{done.stdout}"
    for word in ("ratio/delta", "target", "result", "cores"):
        assert word in done.stdout
    data = json.loads(dump.read_text())
    assert [row["name"] for row in data["rows"]] == list(ROWS)
    assert all(row["result"] in {"ok", "MISSED", "-"} for row in data["rows"])
