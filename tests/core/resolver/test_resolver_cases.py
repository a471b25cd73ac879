"""Runs every data-file scenario under ``cases/``: an index, a request, the expected outcome."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from dtm_core import errors
from dtm_core.registry.model import Registry
from dtm_core.resolver import resolve

RegistryFactory = Callable[[dict[str, Any]], Registry]

CASES = sorted((Path(__file__).parent / "cases").glob("*.json"))


def test_there_are_enough_cases() -> None:
    assert len(CASES) >= 15


@pytest.mark.parametrize("path", CASES, ids=[path.stem for path in CASES])
def test_case(path: Path, make_registry: RegistryFactory) -> None:
    case: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    registry = make_registry(case["index"])
    kwargs: dict[str, Any] = {
        "installed": case.get("installed", {}),
        "held": case.get("held", []),
        "upgrade": case.get("upgrade", []),
    }
    if "dtm_version" in case:
        kwargs["dtm_version"] = case["dtm_version"]

    if "error" in case:
        expected = case["error"]
        error_type: type[errors.DtmError] = getattr(errors, expected["type"])
        with pytest.raises(errors.DtmError) as caught:
            resolve(registry, case["request"], **kwargs)
        assert type(caught.value) is error_type
        assert caught.value.message == expected["message"]
        assert "\n" not in caught.value.message
        assert caught.value.exit_code == expected["exit_code"]
        if "hint" in expected:
            assert caught.value.hint == expected["hint"]
        assert caught.value.hint
        return

    resolution = resolve(registry, case["request"], **kwargs)
    got = {name: tv.version_text for name, tv in resolution.versions.items()}
    assert got == case["expected"]
    assert sorted(resolution.order) == sorted(got)
