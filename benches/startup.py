"""Cold start: ``dtm search`` on the bundled index against the floor of starting Python with click."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Mapping

from .generate import INFO_TOOL, SEARCH_TERM
from .harness import Command, Context, Row, Samples, Target

PASS = "python -c pass"
FLOOR = 'python -c "import click" (floor)'
VERSION = "dtm --version"
SEARCH = f"dtm search {SEARCH_TERM}, bundled index"
INFO = f"dtm info {INFO_TOOL}, bundled index"
#: Issue target: a search costs at most a quarter more than starting Python and importing click.
SEARCH_TARGET = Target("ratio", 1.25)


def commands(ctx: Context) -> list[Command]:
    box = ctx.sandbox
    env = box.env(ctx.home("startup"))
    python, dtm = str(box.python), str(box.dtm)
    return [
        Command(PASS, [python, "-c", "pass"], env, box.root),
        Command(FLOOR, [python, "-c", "import click"], env, box.root),
        Command(VERSION, [dtm, "--version"], env, box.root),
        Command(SEARCH, [dtm, "search", SEARCH_TERM], env, box.root),
        Command(INFO, [dtm, "info", INFO_TOOL], env, box.root),
    ]


def rows(measured: Mapping[str, Samples], errors: Mapping[str, str]) -> list[Row]:
    floor = measured.get(FLOOR)

    def row(name: str, target: Target | None = None, vs_floor: bool = True) -> Row:
        return Row(name, measured.get(name), baseline_name="click" if vs_floor else "",
                   baseline=floor if vs_floor else None, compare="ratio", target=target,
                   error=errors.get(name, ""))

    return [
        row(PASS, vs_floor=False),
        row(FLOOR, vs_floor=False),
        row(VERSION),
        row(SEARCH, SEARCH_TARGET),
        row(INFO),
    ]


_IMPORT_LINE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)$")


def import_costs(ctx: Context, *, runs: int = 5, top: int = 10) -> list[tuple[str, float, float]]:
    """The costliest imports of ``dtm search`` (``-X importtime``), fastest of ``runs`` runs.

    Returns ``(module, self ms, cumulative ms)`` for imports made directly by the program or by
    dtm's own modules, so a dependency shows once with everything it pulled in.
    """
    box = ctx.sandbox
    env = box.env(ctx.home("startup"))
    best: dict[str, tuple[float, float]] = {}
    for _ in range(runs):
        done = subprocess.run(
            # The console script itself, not ``-m dtm_core``: runpy would add imports users never pay.
            [str(box.python), "-X", "importtime", str(box.dtm), "search", SEARCH_TERM],
            env=env, cwd=box.root, capture_output=True, text=True, stdin=subprocess.DEVNULL,
            check=False,
        )
        if done.returncode != 0:
            return []
        for module, own, cumulative in _attributed(done.stderr):
            previous = best.get(module)
            if previous is None or cumulative < previous[1]:
                best[module] = (own, cumulative)
    ranked = sorted(best.items(), key=lambda item: -item[1][1])
    return [(module, own, cumulative) for module, (own, cumulative) in ranked[:top]]


def _attributed(report: str) -> list[tuple[str, float, float]]:
    """Top-level imports, and imports made by a ``dtm_core`` module, with their costs.

    importtime prints children before their parent, indented two spaces per level.
    """
    entries: list[tuple[int, str, float, float]] = []
    for line in report.splitlines():
        match = _IMPORT_LINE.match(line)
        if match:
            own, cumulative, indent, module = match.groups()
            entries.append((len(indent) // 2, module, int(own) / 1000, int(cumulative) / 1000))
    picked = []
    parents: dict[int, str] = {}
    # Walk parents first (reversed order) so each entry knows who imported it.
    for depth, module, own, cumulative in reversed(entries):
        parents[depth] = module
        parent = parents.get(depth - 1, "") if depth else ""
        if depth == 0 or (parent.startswith("dtm_core") and not module.startswith("dtm_core")):
            picked.append((module, own, cumulative))
    return picked
