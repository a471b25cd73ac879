"""The pytest fixtures dtm ships for plugin authors (``dtm_core.testing``), used as documented."""

from __future__ import annotations

from typing import Any

import pytest


def test_documented_example(dtm_cli: Any, make_registry: Any, monkeypatch: pytest.MonkeyPatch,
                            tmp_path: Any) -> None:
    # docs/plugin-authors.md, "Developing and testing", with the core's own test plugin.
    monkeypatch.setenv("DTM_PLUGINS", "testplugin")
    monkeypatch.setenv("DTM_LOAD_PLUGINS", "testplugin")
    monkeypatch.setenv("DTM_TEST_WORLD", str(tmp_path / "world.json"))
    make_registry({"alpha": {"description": "b", "versions": {"1.0": {
        "plugin": {"distribution": "dtm-testplugin"}, "dtm": ">=0.1"}}}})
    result = dtm_cli("install", "alpha", "--set", "label=eu", "-y")
    assert result.exit_code == 0, result.stderr
    listed = dtm_cli("list", "-o", "json")
    assert '"address": "alpha.default"' in listed.stdout


def test_dtm_home_is_isolated(dtm_home: Any) -> None:
    import os

    assert os.environ["DTM_HOME"] == str(dtm_home)
    assert not dtm_home.exists()
