"""Fuzzing the ``[registry]`` table of dtm's settings file (``config.toml``) through
``dtm_core.settings`` and the index policy it configures."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fuzz.conftest import NewDtm
from fuzz.strategies import fuzz_settings
from hypothesis import given
from hypothesis import strategies as st

from dtm_core.errors import ConfigError
from dtm_core.paths import resolve_paths
from dtm_core.registry.policy import IndexPolicy, load_policy
from dtm_core.registry.sources import Source

# Text TOML can hold in a basic string: no lone surrogates.
_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)
_PATTERN = st.one_of(
    _TEXT,
    st.sampled_from(["bundled", "https://*.example.test/*", "https://*@host.test/*",
                     "http://host.test:*/*", "https://[::1]:8443/*", "https://[::1/*",
                     "file:///opt/indexes/../*", "/opt/%2e%2e/*", "https://", "*"]),
)
_SCALAR = st.one_of(st.booleans(), st.integers(-5, 5), _TEXT, _PATTERN)
_VALUE = st.one_of(_SCALAR, st.lists(_SCALAR, max_size=4), st.lists(_PATTERN, max_size=4))
_KEY = st.one_of(st.sampled_from(["allowed", "require_signed"]), _TEXT.filter(bool))
_URLS = ["https://index.example.test/index.json", "https://ci:tok@host.test:8443/a/../i.json",
         "http://host.test/i.json", "file:///opt/indexes/../../x/evil.json", "/opt/indexes/i.json"]


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(_toml(item) for item in value) + "]"
    # A JSON string with ensure_ascii off is a TOML basic string: the same escapes, \\uXXXX too.
    return json.dumps(value, ensure_ascii=False) if isinstance(value, str) else str(value)


def _valid(table: dict[str, Any]) -> bool:
    allowed = table.get("allowed")
    return (
        set(table) <= {"allowed", "require_signed"}
        and (allowed is None or (isinstance(allowed, list)
                                 and all(isinstance(item, str) and item for item in allowed)))
        and isinstance(table.get("require_signed", False), bool)
    )


@fuzz_settings()
@given(st.dictionaries(_KEY, _VALUE, max_size=3))
def test_a_registry_table_is_a_policy_or_one_config_error(
    new_dtm: NewDtm, table: dict[str, Any]
) -> None:
    dtm, _ = new_dtm()
    paths = resolve_paths(dtm.env)
    settings = Path(paths.settings_file_text)
    settings.parent.mkdir(parents=True)
    lines = [f"{json.dumps(key, ensure_ascii=False)} = {_toml(value)}" for key, value in table.items()]
    settings.write_text("[registry]\n" + "".join(f"{line}\n" for line in lines), encoding="utf-8")

    try:
        policy = load_policy(paths, dtm.env)
    except ConfigError as exc:
        assert not _valid(table), f"{table!r} refused: {exc.message}"
        assert exc.message.startswith(f"{settings}:"), exc.message
        assert "\n" not in exc.message
        return
    assert _valid(table), f"{table!r} went unnoticed"
    allowed = table.get("allowed")
    expected = IndexPolicy(None if allowed is None else tuple(allowed),
                           table.get("require_signed", False), str(settings))
    assert policy == expected
    # Whatever the patterns, matching answers yes or no: it never raises.
    for url in _URLS:
        assert policy.allows(Source("corp", url)) in (True, False)
