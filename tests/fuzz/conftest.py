"""Fixtures of the fuzz tests: a fresh dtm per example, and the checks every run must pass."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result
from dtm_harness import DtmHarness
from fuzz.strategies import FUZZ_ENV

#: An error about a config file: ``error: FILE:LINE:COLUMN: what is wrong``.
CONFIG_ERROR = re.compile(r"error: (?P<file>.+?):(?P<line>\d+):(?P<column>\d+): \S")
#: An error about a registry index: its name, then a JSON path or where the JSON broke.
INDEX_ERROR = re.compile(r"error: index '(?P<name>[^']+)': (?P<path>\$\S*): \S"
                         r"|error: index '(?P<name2>[^']+)': not valid JSON( at line \d+ column \d+)?: \S")

NewDtm = Callable[..., tuple[DtmHarness, Path]]


@pytest.fixture
def new_dtm(dtm_env: dict[str, str], tmp_path: Path) -> NewDtm:
    """``new_dtm(**env)``: a dtm with its own home and folder, for one example.

    Hypothesis runs many examples in one test, so each gets a fresh directory (under the
    test's tmp_path) rather than sharing the fixture's home, cache and world.
    """
    def make(**extra: str) -> tuple[DtmHarness, Path]:
        folder = Path(tempfile.mkdtemp(dir=tmp_path))
        env = {**dtm_env, **FUZZ_ENV, "DTM_HOME": str(folder / "home"),
               "DTM_TEST_WORLD": str(folder / "world.json"), **extra}
        return DtmHarness(home=folder / "home", env=env), folder
    return make


def error_line(result: Result) -> str:
    """The one ``error:`` line of a failed run, checked to be all it printed besides a hint.

    A traceback, a second message or a message spread over several lines fails here.
    """
    assert result.exit_code == 2, f"exit {result.exit_code}, expected 2 (invalid input):\n{result.stderr}"
    lines = [line for line in result.stderr.splitlines() if not line.startswith("warning: ")]
    assert len(lines) in (1, 2), f"expected one error line and at most one hint:\n{result.stderr}"
    assert lines[0].startswith("error: "), result.stderr
    assert "internal error" not in lines[0] and "Traceback" not in result.stderr, result.stderr
    if len(lines) == 2:
        assert lines[1].startswith("hint: "), result.stderr
    return lines[0]


def assert_names_config_line(result: Result, files: list[Path]) -> re.Match[str]:
    """A failed run's error names one of ``files`` and a line and column inside it."""
    line = error_line(result)
    found = CONFIG_ERROR.match(line)
    assert found, f"no FILE:LINE:COLUMN in: {line}"
    assert found["file"] in {str(f) for f in files}, f"names another file: {line}"
    lines_in_file = Path(found["file"]).read_bytes().count(b"\n") + 1
    assert 1 <= int(found["line"]) <= lines_in_file + 1 and int(found["column"]) >= 1, line
    return found


def assert_names_json_path(result: Result) -> re.Match[str]:
    """A failed run's error names the index and a JSON path (or where its JSON broke)."""
    line = error_line(result)
    found = INDEX_ERROR.match(line)
    assert found, f"no index name and JSON path in: {line}"
    return found
