"""dtm's settings file: where it is, DTM_CONFIG, and errors that point at the line."""

from __future__ import annotations

from pathlib import Path

import pytest

from dtm_core.errors import ConfigError
from dtm_core.paths import resolve_paths
from dtm_core.settings import load_settings


@pytest.fixture
def environ(tmp_path: Path) -> dict[str, str]:
    return {"DTM_HOME": str(tmp_path / "home")}


def test_no_file_means_no_settings(environ: dict[str, str], tmp_path: Path) -> None:
    settings = load_settings(resolve_paths(environ), environ)
    assert settings.file == str(tmp_path / "home" / "config" / "config.toml")
    assert settings.data == {}
    assert settings.table("registry") == {}


def test_dtm_config_names_another_file(environ: dict[str, str], tmp_path: Path) -> None:
    managed = tmp_path / "etc" / "dtm.toml"
    managed.parent.mkdir()
    managed.write_text("[registry]\nrequire_signed = true\n")
    settings = load_settings(resolve_paths(environ), dict(environ, DTM_CONFIG=str(managed)))
    assert settings.file == str(managed)
    assert settings.table("registry") == {"require_signed": True}


def test_a_dtm_config_file_that_is_not_there_is_an_error(environ: dict[str, str], tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    with pytest.raises(ConfigError) as caught:
        load_settings(resolve_paths(environ), dict(environ, DTM_CONFIG=str(missing)))
    assert caught.value.message == f"{missing}: no such file (named by DTM_CONFIG)"
    assert caught.value.hint == "create it, or unset DTM_CONFIG"


def test_invalid_toml_names_the_line_and_column(environ: dict[str, str]) -> None:
    paths = resolve_paths(environ)
    file = Path(paths.settings_file_text)
    file.parent.mkdir(parents=True)
    file.write_text('[registry]\nallowed = ["a" "b"]\n')
    with pytest.raises(ConfigError) as caught:
        load_settings(paths, environ)
    assert caught.value.exit_code == 2
    assert caught.value.message == f"{file}:2:16: invalid TOML: Unclosed array"
    file.write_text('[registry]\nallowed = ["a",')  # cut short: tomllib says "at end of document"
    with pytest.raises(ConfigError) as caught:
        load_settings(paths, environ)
    assert caught.value.message == f"{file}:2:16: invalid TOML: Invalid value"
