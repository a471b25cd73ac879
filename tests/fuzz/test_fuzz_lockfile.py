"""Fuzzing the lock file ``dtm.lock`` beside a toolchain, through ``dtm plan -f``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import Result
from fuzz.conftest import NewDtm, assert_names_config_line
from fuzz.strategies import LOCKED_TOOLCHAIN, Mutated, fuzz_settings, garbage_json, lock_files, mutated_locks
from hypothesis import given


def _plan_with_lock(new_dtm: NewDtm, lock: bytes) -> tuple[Result, Path]:
    dtm, folder = new_dtm()
    (folder / "toolchain.yaml").write_bytes(LOCKED_TOOLCHAIN)
    (folder / "dtm.lock").write_bytes(lock)
    return dtm.run("plan", "-f", str(folder / "toolchain.yaml")), folder / "dtm.lock"


@fuzz_settings()
@given(lock_files())
def test_a_valid_lock_file_plans(new_dtm: NewDtm, lock: dict[str, Any]) -> None:
    result, _ = _plan_with_lock(new_dtm, json.dumps(lock).encode())
    assert result.exit_code == 0, result.stderr
    assert "create  alpha.default " in result.stderr and "create  beta.default " in result.stderr


@fuzz_settings()
@given(mutated_locks())
def test_a_lock_file_with_one_fault_fails_in_one_line_naming_it(new_dtm: NewDtm, case: Mutated) -> None:
    assert isinstance(case.content, bytes)
    result, lock = _plan_with_lock(new_dtm, case.content)
    if result.exit_code != 0:
        assert_names_config_line(result, [lock])


@fuzz_settings()
@given(garbage_json(shapes=lambda value: {"format": 1, "tools": value}))
def test_a_garbage_lock_file_never_crashes(new_dtm: NewDtm, garbage: bytes) -> None:
    result, lock = _plan_with_lock(new_dtm, garbage)
    if result.exit_code != 0:
        assert_names_config_line(result, [lock])
