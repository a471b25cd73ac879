"""Fuzzing registry indexes through ``dtm search`` and ``dtm info`` with DTM_REGISTRY set to them."""

from __future__ import annotations

import json
from typing import Any

from fuzz.conftest import NewDtm, assert_names_json_path
from fuzz.strategies import Mutated, fuzz_settings, garbage_json, indexes, mutated_indexes
from hypothesis import given
from hypothesis import strategies as st

from dtm_core.registry.index import json_path

COMMANDS = st.sampled_from([("search",), ("search", "forge"), ("info", "forge"), ("info", "git")])


def _run(new_dtm: NewDtm, content: bytes, args: tuple[str, ...]) -> Any:
    dtm, folder = new_dtm()
    path = folder / "index.json"
    path.write_bytes(content)
    dtm.env["DTM_REGISTRY"] = str(path)
    return dtm.run(*args)


@fuzz_settings()
@given(indexes())
def test_a_valid_index_lists_every_tool(new_dtm: NewDtm, index: dict[str, Any]) -> None:
    result = _run(new_dtm, json.dumps(index).encode(), ("search", "--output", "json"))
    assert result.exit_code == 0, result.stderr
    assert sorted(row["name"] for row in json.loads(result.stdout)) == sorted(index["tools"])
    tool = sorted(index["tools"])[0]
    result = _run(new_dtm, json.dumps(index).encode(), ("info", tool))
    assert result.exit_code == 0, result.stderr


def _related(reported: str, touched: str) -> bool:
    """Whether the reported path is the touched one, inside it, or one of its parents."""
    def bounded(prefix: str, path: str) -> bool:
        return path == prefix or path.startswith((prefix + ".", prefix + "[", ))
    return bounded(reported, touched) or bounded(touched, reported)


@fuzz_settings()
@given(mutated_indexes(), COMMANDS)
def test_an_index_with_one_fault_names_its_json_path(new_dtm: NewDtm, case: Mutated,
                                                      args: tuple[str, ...]) -> None:
    assert isinstance(case.content, bytes)
    result = _run(new_dtm, case.content, args)
    if not case.surely_invalid and result.exit_code == 0:
        return
    if result.exit_code == 2 and "no index lists a tool named" in result.stderr:
        assert not case.surely_invalid, f"{case.what} went unnoticed: {result.stderr}"
        return  # `dtm info` of a tool the index does not list
    found = assert_names_json_path(result)
    assert found["path"], f"{case.what}: the error names no JSON path: {result.stderr}"
    assert _related(found["path"], json_path(case.path)), (case.what, json_path(case.path), result.stderr)


@fuzz_settings()
@given(garbage_json(shapes=lambda value: {"format": 1, "tools": value}), COMMANDS)
def test_a_garbage_index_never_crashes(new_dtm: NewDtm, garbage: bytes, args: tuple[str, ...]) -> None:
    result = _run(new_dtm, garbage, args)
    if result.exit_code == 0 or "no index lists a tool named" in result.stderr:
        return
    assert_names_json_path(result)
