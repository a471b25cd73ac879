"""How the CLI shows things: tables, JSON, the transaction summary, prompts and progress.

Data goes to stdout; progress, notices and errors go to stderr, so ``--output json`` output
can be piped whatever else happens.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from ..packages import Plan
    from ..registry.model import PluginRef
    from ..state.model import Step
    from ..state.store import LockHolder

F = TypeVar("F", bound=Callable[..., Any])

ACTION_WORDS = {"install": "install", "remove": "remove", "upgrade": "upgrade",
                "downgrade": "downgrade", "reinstall": "reinstall", "mark": "mark manual"}


def output_option(fn: F) -> F:
    """``--output text|json`` on a command that prints data."""
    return click.option("-o", "--output", type=click.Choice(["text", "json"]), default="text",
                        show_default=True, help="Output format; json is stable and documented.")(fn)


def change_options(fn: F) -> F:
    """``-y`` and ``--dry-run`` on every command that changes something."""
    fn = click.option("--dry-run", is_flag=True,
                      help="Show what would be done and change nothing.")(fn)
    return click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation.")(fn)


def unverified_option(fn: F) -> F:
    """``--allow-unverified`` on commands that install versions (downloads without a sha256)."""
    return click.option("--allow-unverified", is_flag=True,
                        help="Install versions whose release artifacts the registry lists "
                        "without a sha256.")(fn)


def emit_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=False))


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    cells = [[str(c) for c in headers]] + [["" if c is None else str(c) for c in r] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    for row in cells:
        click.echo("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


def notice(message: str) -> None:
    click.echo(message, err=True)


def progress_line(address: str, message: str) -> None:
    click.echo(f"  {address}: {message}", err=True)


def lock_wait_notice(holder: LockHolder | None) -> None:
    who = holder.describe() if holder else "another dtm run"
    notice(f"waiting for the state lock held by {who}")


def _step_text(step: Step) -> str:
    version = step.to_version or step.from_version or ""
    if step.action in {"upgrade", "downgrade"}:
        version = f"{step.from_version} -> {step.to_version}"
    reason = ""
    if step.after and step.after.get("reason") == "auto" and step.action == "install":
        reason = " (auto, as a dependency)"
    return f"{ACTION_WORDS.get(step.action, step.action)} {step.address} {version}{reason}"


def show_plan(plan: Plan, distributions: Sequence[PluginRef], *, dry_run: bool) -> None:
    """The transaction summary printed before asking (to stderr: stdout stays data-only)."""
    for note in plan.notes:
        notice(note)
    if plan.empty:
        notice("nothing to do")
        return
    notice("dtm will:")
    for ref in distributions:
        pinned = " (hash-checked)" if ref.hashes else ""
        notice(f"  install plugin distribution {ref.requirement}{pinned}")
    for step in plan.steps:
        notice(f"  {_step_text(step)}")
    if dry_run:
        notice("dry run: nothing was changed")


def confirm(_plan: object = None) -> bool:
    """Ask before changing anything; a closed stdin (CI without -y) counts as "no"."""
    try:
        return click.confirm("Proceed?", default=False, err=True)
    except click.Abort:
        return False


class StepReporter:
    """Prints one line as each step starts and finishes."""

    def step_started(self, step: Step) -> None:
        notice(f"{_step_text(step)} ...")

    def step_finished(self, step: Step) -> None:
        if step.status == "failed":
            notice(f"  failed: {step.error}")
        else:
            notice(f"  {step.status}")


class LiveBoard:
    """On a terminal: one line per instance, redrawn in place as steps start, report and end."""

    MARKS = {"running": "…", "done": "✓", "failed": "✗", "skipped": "-"}

    def __init__(self) -> None:
        import threading

        self.rows: dict[str, str] = {}
        self.drawn = 0
        self.lock = threading.Lock()  # progress arrives from plugin worker threads

    def _set(self, address: str, text: str) -> None:
        with self.lock:
            self.rows[address] = text
            stream = sys.stderr
            if self.drawn:
                stream.write(f"\x1b[{self.drawn}F")  # back to the board's first line
            width = shutil_width()
            for line in self.rows.values():
                stream.write("\x1b[2K" + line[:width] + "\n")
            stream.flush()
            self.drawn = len(self.rows)

    def step_started(self, step: Step) -> None:
        self._set(step.address, f"{self.MARKS['running']} {_step_text(step)}")

    def step_finished(self, step: Step) -> None:
        detail = f": {step.error}" if step.error else ""
        self._set(step.address, f"{self.MARKS.get(step.status, '?')} {_step_text(step)}{detail}")

    def progress(self, address: str, message: str) -> None:
        if address in self.rows:
            self._set(address, f"{self.MARKS['running']} {address}: {message}")
        else:
            progress_line(address, message)


def shutil_width() -> int:
    import shutil

    return max(20, shutil.get_terminal_size((100, 20)).columns - 1)


def step_reporter() -> tuple[StepReporter | LiveBoard, Callable[[str, str], None]]:
    """A live board on a terminal, plain lines when stderr is piped or a file (CI logs)."""
    if sys.stderr.isatty():
        board = LiveBoard()
        return board, board.progress
    return StepReporter(), progress_line
