"""Regression: a user and token pasted into a secret option (``admin:<token>``) parsed as a reference
of scheme ``admin``, so plans passed it, apply recorded it in the journal and quoted it in the
error. Found by the canary run (test_secret_canaries.py); run here in-process against the test plugin.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from dtm_harness import DtmHarness

from dtm_core.errors import InvalidInputError
from dtm_core.secrets import SecretRef, builtin_resolvers, resolve_secret

PASTED = "admin:hunter2-canary-7c1d"


def test_a_pasted_user_and_token_is_refused_before_it_is_stored(dtm: DtmHarness) -> None:
    result = dtm.run("install", "alpha", "--set", f"token={PASTED}", "-y")

    assert result.exit_code == 2, result.stderr
    assert result.stderr.splitlines()[0] == (
        "error: alpha.default: options.token: not a secret reference dtm can resolve (unknown scheme)")
    assert "hunter2-canary" not in result.stdout + result.stderr
    assert dtm.state() == {}  # nothing recorded, not even a failed transaction holding it
    assert dtm.calls() == []


def test_a_pasted_user_and_token_fails_the_plan_at_its_line(dtm: DtmHarness, tmp_path: Path) -> None:
    toolchain = tmp_path / "toolchain.yaml"
    toolchain.write_text(f"version: 1\ntools:\n  - tool: alpha\n    options:\n      token: {PASTED}\n")

    result = dtm.run("plan", "-f", str(toolchain))

    assert result.exit_code == 2, result.stderr
    assert result.stderr.splitlines()[0] == (
        f"error: {toolchain}:5:14: alpha.default: options.token: "
        "not a secret reference dtm can resolve (unknown scheme)")
    assert "hunter2-canary" not in result.stdout + result.stderr


def test_a_known_scheme_still_passes(dtm: DtmHarness) -> None:
    assert dtm.run("install", "alpha", "--set", "token=env:ALPHA_TOKEN", "-y").exit_code == 0


def test_resolving_an_unknown_scheme_does_not_quote_the_reference() -> None:
    with pytest.raises(InvalidInputError) as raised:
        resolve_secret(SecretRef.parse(PASTED), builtin_resolvers({}))
    assert "hunter2-canary" not in raised.value.message + (raised.value.hint or "")
