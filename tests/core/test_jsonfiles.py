"""Decoding JSON files with every fault located: dtm_core/jsonfiles.py."""

from __future__ import annotations

import pytest

from dtm_core.jsonfiles import JsonFault, decode_json, locate, render_path

TEXT = ('{\n  "format": 1,\n  "tools": {\n    "alpha": {"version": "x",\n'
        '      "plugin": [1, {"a": 2}]}\n  }\n}')


@pytest.mark.parametrize(("path", "where"), [
    ((), (1, 1)),
    (("format",), (2, 13)),
    (("tools", "alpha", "version"), (4, 26)),
    (("tools", "alpha", "plugin", 1, "a"), (5, 27)),
    (("tools", "missing"), (3, 12)),  # the deepest value that exists
    (("format", "deeper"), (2, 13)),
])
def test_locate_finds_the_line_and_column_of_a_value(path: tuple[str | int, ...],
                                                     where: tuple[int, int]) -> None:
    assert locate(TEXT, path) == where
    assert locate(("\ufeff" + TEXT).encode("utf-16"), path) == where


def test_a_repeated_key_is_a_fault_at_its_path() -> None:
    with pytest.raises(JsonFault) as caught:
        decode_json(b'{"tools": [{"a": 1}, {"b": 1, "b": 2}]}')
    assert caught.value.path == ("tools", 1, "b")
    assert caught.value.reason == "key 'b' appears twice in this object (JSON would keep only the last)"


@pytest.mark.parametrize(("raw", "line", "column", "reason"), [
    (b'{\n  "a": }', 2, 8, "Expecting value"),
    (b'\n\n  ' + b"[" * 5000, 3, 502, "arrays and objects nest too deeply"),
    (b'{"a": "\xff"}', 1, 8, "not UTF-8 text (byte 7)"),
])
def test_faults_that_escaped_json_loads_are_located(raw: bytes, line: int, column: int, reason: str) -> None:
    with pytest.raises(JsonFault) as caught:
        decode_json(raw)
    assert (caught.value.line, caught.value.column, caught.value.reason) == (line, column, reason)


def test_render_path_quotes_and_escapes_what_is_not_a_plain_key() -> None:
    assert render_path(("tools", "argo-cd", "versions", "3.5.1", "hashes", 0)) == \
        "$.tools['argo-cd'].versions['3.5.1'].hashes[0]"
    assert render_path(("tools", "a\nb", "it's"), root="") == "tools['a\\nb']['it\\'s']"
