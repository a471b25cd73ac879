"""The canary search itself: every encoding a leak could take is found, and nothing else is."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import pytest
from canaries import Canaries, secret_option_paths, values_at

from dtm_core.options import Option


@pytest.mark.parametrize("encode", [
    pytest.param(lambda value: value, id="raw"),
    pytest.param(lambda value: quote(value, safe=""), id="url-encoded"),
    pytest.param(lambda value: json.dumps({"token": value}), id="json"),
    pytest.param(lambda value: base64.b64encode(f"admin:{value}".encode()).decode(), id="basic-auth"),
    pytest.param(lambda value: base64.b64encode(f"x{value}y".encode()).decode(), id="base64+1"),
    pytest.param(lambda value: base64.urlsafe_b64encode(f"ab{value}".encode()).decode(), id="urlsafe+2"),
])
def test_each_encoding_of_a_canary_is_found(encode: Callable[[str], str], tmp_path: Path) -> None:
    canaries = Canaries()
    canary = canaries.new("token")
    (tmp_path / "out.txt").write_text(f"before {encode(canary.value)} after")

    assert [leak.canary for leak in canaries.leaks_in_files([tmp_path])] == ["token"]


def test_other_text_is_not_a_leak(tmp_path: Path) -> None:
    canaries = Canaries()
    canary = canaries.new("token")
    (tmp_path / "state.json").write_text(json.dumps({"token": "env:TOKEN", "near": canary.value[:-6]}))

    assert canaries.leaks_in_files([tmp_path]) == []
    assert canaries.leaks_in_files([tmp_path / "missing"]) == []


def test_secret_options_are_found_in_nested_declarations() -> None:
    options = (Option("token", secret=True), Option("name"),
               Option("secrets", "mapping", items=Option("value", secret=True)),
               Option("auth", "object", fields=(Option("password", secret=True),)))

    assert list(secret_option_paths(options, "kind")) == [
        "kind.token", "kind.secrets.*", "kind.auth.password"]
    assert values_at({"secrets": {"A": "env:A", "B": "env:B"}}, ["secrets", "*"]) == ["env:A", "env:B"]
    assert values_at({"auth": {}}, ["auth", "password"]) == []
