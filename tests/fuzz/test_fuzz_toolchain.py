"""Fuzzing toolchain files through ``dtm plan -f``: valid files plan, others fail at FILE:LINE:COL."""

from __future__ import annotations

from pathlib import Path

from click.testing import Result
from fuzz.conftest import NewDtm, assert_names_config_line
from fuzz.strategies import (
    Mutated,
    ToolchainDoc,
    fuzz_settings,
    garbage_yaml,
    mutated_toolchains,
    toolchain_files,
)
from hypothesis import given


def _write(folder: Path, texts: list[bytes]) -> list[Path]:
    files = []
    for i, text in enumerate(texts):
        path = folder / f"part-{i}.yaml"
        path.write_bytes(text)
        files.append(path)
    return files


def _plan(new_dtm: NewDtm, texts: list[bytes]) -> tuple[Result, list[Path]]:
    """``dtm plan`` of the texts as the files of one directory (a toolchain split in parts)."""
    dtm, folder = new_dtm()
    (folder / "toolchain").mkdir()
    files = _write(folder / "toolchain", texts)
    return dtm.run("plan", "-f", str(folder / "toolchain")), files


@fuzz_settings()
@given(toolchain_files())
def test_a_valid_toolchain_plans_every_instance(new_dtm: NewDtm,
                                                case: tuple[ToolchainDoc, list[bytes]]) -> None:
    doc, texts = case
    result, _ = _plan(new_dtm, texts)
    assert result.exit_code == 0, result.stderr
    for address in doc.addresses:
        assert f"create  {address} " in result.stderr


@fuzz_settings()
@given(mutated_toolchains())
def test_a_toolchain_with_one_fault_fails_in_one_line_at_its_place(new_dtm: NewDtm, case: Mutated) -> None:
    texts = case.content if isinstance(case.content, list) else [case.content]
    result, files = _plan(new_dtm, texts)
    if result.exit_code == 0 and not case.surely_invalid:
        return
    assert_names_config_line(result, files)


@fuzz_settings()
@given(garbage_yaml())
def test_a_garbage_toolchain_never_crashes(new_dtm: NewDtm, garbage: bytes) -> None:
    dtm, folder = new_dtm()
    path = folder / "toolchain.yaml"
    path.write_bytes(garbage)
    result = dtm.run("plan", "-f", str(path))
    if result.exit_code != 0:
        assert_names_config_line(result, [path])
