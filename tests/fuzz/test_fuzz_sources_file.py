"""Fuzzing the sources file, ``registries.json``, through ``dtm registry list`` and ``dtm search``."""

from __future__ import annotations

import json
from typing import Any

from click.testing import Result
from dtm_harness import TEST_REGISTRY
from fuzz.conftest import NewDtm, assert_names_config_line
from fuzz.strategies import Mutated, fuzz_settings, garbage_json, mutated_settings, settings_files
from hypothesis import given
from hypothesis import strategies as st

COMMANDS = st.sampled_from([("registry", "list"), ("search",)])


def _run(new_dtm: NewDtm, content: bytes, args: tuple[str, ...]) -> tuple[Result, Any]:
    dtm, _ = new_dtm()
    config = dtm.home / "config"
    config.mkdir(parents=True)
    (config / "registries.json").write_bytes(content)
    return dtm.run(*args), config / "registries.json"


@fuzz_settings()
@given(settings_files(str(TEST_REGISTRY)), COMMANDS)
def test_valid_settings_list_every_index(new_dtm: NewDtm, entries: list[dict[str, Any]],
                                         args: tuple[str, ...]) -> None:
    result, _ = _run(new_dtm, json.dumps(entries).encode(), args)
    assert result.exit_code == 0, result.stderr
    if args == ("registry", "list"):
        assert all(entry["name"] in result.stdout for entry in entries)


@fuzz_settings()
@given(mutated_settings(str(TEST_REGISTRY)), COMMANDS)
def test_settings_with_one_fault_fail_in_one_line_at_their_place(new_dtm: NewDtm, case: Mutated,
                                                                 args: tuple[str, ...]) -> None:
    assert isinstance(case.content, bytes)
    result, file = _run(new_dtm, case.content, args)
    if result.exit_code == 2 and "error: index '" in result.stderr:
        return  # an entry that reads well but names a file that is not an index
    assert result.exit_code != 0 or not case.surely_invalid, f"{case.what} went unnoticed"
    if result.exit_code != 0:
        assert_names_config_line(result, [file])


@fuzz_settings()
@given(garbage_json(shapes=lambda value: [value]), COMMANDS)
def test_garbage_settings_never_crash(new_dtm: NewDtm, garbage: bytes, args: tuple[str, ...]) -> None:
    result, file = _run(new_dtm, garbage, args)
    if result.exit_code != 0:
        assert_names_config_line(result, [file])
