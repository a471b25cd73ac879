"""Every configuration fault: its exact message (file:line:column first), hint and exit code.

Each case under ``data/errors/`` is a file, or a directory loaded as one toolchain, whose
first file starts with ``# expect: <message>`` and ``# hint: <hint>``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dtm_core.declarative.config import load_toolchain
from dtm_core.errors import ConfigError, InvalidInputError

DATA = Path(__file__).parent / "data"

CASES = sorted(p.name for p in (DATA / "errors").iterdir())


def expectation(case: Path) -> tuple[str, str]:
    first = sorted(case.iterdir())[0] if case.is_dir() else case
    expect, hint = first.read_text().splitlines()[:2]
    assert expect.startswith("# expect: ") and hint.startswith("# hint: "), first
    return expect.removeprefix("# expect: "), hint.removeprefix("# hint: ")


@pytest.mark.parametrize("case", CASES)
def test_error_case(case: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(DATA)
    path = Path("errors", case)
    message, hint = expectation(path)
    with pytest.raises(ConfigError) as caught:
        load_toolchain([path], environ={"HOME": "/home/someone"})
    assert (caught.value.message, caught.value.hint) == (message, hint)
    assert caught.value.exit_code == 2


def test_every_error_case_names_a_location_in_its_own_files() -> None:
    for case in CASES:
        message, _ = expectation(DATA / "errors" / case)
        assert message.startswith(f"errors/{case}"), case


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    with pytest.raises(ConfigError) as caught:
        load_toolchain([path], environ={})
    assert caught.value.message == f"{path}:1:1: no such file or directory"
    assert caught.value.hint == "check the path given with -f"
    assert caught.value.exit_code == 2


def test_unreadable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "secret.yaml"
    path.write_text("version: 1\n")

    def refuse(self: Path) -> bytes:
        raise PermissionError(13, "Permission denied", str(self))

    # chmod 000 does not stop root, who runs these tests in containers.
    monkeypatch.setattr(Path, "read_bytes", refuse)
    with pytest.raises(ConfigError) as caught:
        load_toolchain([path], environ={})
    assert caught.value.message == f"{path}:1:1: cannot read the file: Permission denied"
    assert caught.value.hint == "check that the file exists and that you may read it"


def test_file_that_is_not_utf8_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"version: 1\nvars:\n  city: M\xfcnchen\n")
    with pytest.raises(ConfigError) as caught:
        load_toolchain([path], environ={})
    assert caught.value.message == f"{path}:3:1: the file is not UTF-8 text"
    assert caught.value.hint == "save the file as UTF-8"


def test_directory_without_toolchain_files(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not yaml")
    with pytest.raises(ConfigError) as caught:
        load_toolchain([tmp_path], environ={})
    assert caught.value.message == f"{tmp_path}:1:1: the directory has no *.yaml or *.yml files"


def test_no_paths_at_all() -> None:
    with pytest.raises(InvalidInputError) as caught:
        load_toolchain([], environ={})
    assert caught.value.message == "no toolchain file given"
    assert caught.value.exit_code == 2
