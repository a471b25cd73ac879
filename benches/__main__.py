"""``python -m benches``: build the venv and inputs, time everything, print the table."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import apply, registry, resolve, startup, state
from .generate import SEARCH_TERM, write_large_index
from .harness import Context, Row, Settings, machine, render_table, time_commands
from .sandbox import SandboxError, build_sandbox


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benches",
        description="Time dtm against baselines measured in the same run and print a table. "
        "Exits 0 whether targets are met or missed; 1 when a benchmark could not run.",
    )
    parser.add_argument("--quick", action="store_true",
                        help="few repetitions and a 1,000-tool index (smoke test; figures are rough)")
    parser.add_argument("--json", metavar="PATH", type=Path, help="also write the results as JSON")
    parser.add_argument("--keep", action="store_true",
                        help="keep the venv and generated inputs; print where they are")
    return parser


def _progress(message: str) -> None:
    print(f"benches: {message}", file=sys.stderr, flush=True)


def run(settings: Settings, workdir: Path) -> tuple[list[Row], list[tuple[str, float, float]]]:
    """Every benchmark, in table order; subprocess ones are timed together, interleaved."""
    _progress("building the venv (dtm from a wheel, not editable)")
    sandbox = build_sandbox(workdir / "sandbox")
    _progress(f"generating and validating a {settings.index_tools:,}-tool index")
    index = write_large_index(workdir / "large-index.json", settings.index_tools)
    ctx = Context(settings, sandbox, index, workdir)
    commands = [*startup.commands(ctx), *registry.commands(ctx), *resolve.commands(ctx),
                *state.commands(ctx)]
    _progress(f"timing {len(commands)} commands: {settings.warmups} warm-up(s), "
              f"{settings.reps} interleaved rounds")
    measured, errors = time_commands(commands, reps=settings.reps, warmups=settings.warmups)
    _progress("first runs, in-process resolve and state commits")
    rows = [
        *startup.rows(measured, errors),
        *registry.rows(ctx, measured, errors),
        *resolve.rows(ctx, measured, errors),
        *state.rows(ctx, measured, errors),
        *apply.rows(ctx),
    ]
    _progress("import costs of dtm search")
    return rows, startup.import_costs(ctx)


def report(settings: Settings, about: dict[str, str], rows: Sequence[Row],
           imports: Sequence[tuple[str, float, float]]) -> str:
    lines = [
        f"dtm benchmarks, {about['date']}: {about['cpu']}, {about['cores']} cores, "
        f"{about['implementation']} {about['python']}, {about['os']}",
        f"dtm installed from its wheel in a throwaway venv; {settings.reps} interleaved runs per "
        f"command after {settings.warmups} warm-up(s); large index of {settings.index_tools:,} "
        f"tools{' (--quick: rough figures)' if settings.quick else ''}",
        "",
        render_table(rows),
    ]
    notes = [f"  {row.name}: {note}" for row in rows for note in row.notes]
    if notes:
        lines += ["", "notes:", *notes]
    failures = [f"  {row.name}: {row.error}" for row in rows if row.error]
    if failures:
        lines += ["", "errors:", *failures]
    if imports:
        lines += ["", f"costliest imports of 'dtm search {SEARCH_TERM}' (-X importtime, "
                  "fastest of 5 runs; top level and those dtm_core makes):",
                  f"  {'module':<28} {'self ms':>8} {'cumulative ms':>14}"]
        lines += [f"  {module:<28} {own:>8.1f} {cumulative:>14.1f}"
                  for module, own, cumulative in imports]
    return "\n".join(lines)


def as_json(settings: Settings, about: dict[str, str], rows: Sequence[Row],
            imports: Sequence[tuple[str, float, float]]) -> dict[str, Any]:
    return {
        "machine": about,
        "settings": {"quick": settings.quick, "reps": settings.reps, "warmups": settings.warmups,
                     "index_tools": settings.index_tools},
        "rows": [row.as_json() for row in rows],
        "imports": [{"module": m, "self_ms": s, "cumulative_ms": c} for m, s, c in imports],
    }


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings = Settings.choose(args.quick)
    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="dtm-bench-"))
    try:
        rows, imports = run(settings, workdir)
    except SandboxError as exc:
        print(f"benches: cannot build the benchmark venv: {exc}", file=sys.stderr)
        return 1
    finally:
        if args.keep:
            _progress(f"kept {workdir}")
        else:
            import shutil

            shutil.rmtree(workdir, ignore_errors=True)
    about = machine()
    print(report(settings, about, rows, imports))
    if args.json:
        args.json.write_text(json.dumps(as_json(settings, about, rows, imports), indent=2) + "\n",
                             encoding="utf-8")
    _progress(f"done in {time.monotonic() - started:.0f} s")
    return 1 if any(row.error for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
