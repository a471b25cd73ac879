"""The index format: every malformed index is refused with its JSON path; the trusted path."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from dtm_core.errors import InvalidInputError, RegistryIndexError
from dtm_core.registry import load_index_bytes, load_index_file, parse_index
from dtm_core.registry.index import SCHEMA_FILE

HINT = "fix the index at that path, or remove it with 'dtm registry remove corp'"
Mutation = Callable[[dict[str, Any]], object]


def version_of(doc: dict[str, Any], tool: str = "forge", version: str = "1.0.0") -> Any:
    return doc["tools"][tool]["versions"][version]


def plugin_of(doc: dict[str, Any]) -> Any:
    return version_of(doc)["plugin"]


MALFORMED: list[tuple[str, Mutation, str]] = [
    (
        "missing-required-key",
        lambda d: plugin_of(d).pop("distribution"),
        "$.tools.forge.versions['1.0.0'].plugin: 'distribution' is a required property",
    ),
    (
        "tool-without-plugin",
        lambda d: version_of(d).pop("plugin"),
        "$.tools.forge.versions['1.0.0']: 'plugin' is a required property",
    ),
    (
        "missing-tools",
        lambda d: d.pop("tools"),
        "$: 'tools' is a required property",
    ),
    (
        "bad-version",
        lambda d: d["tools"]["git"]["versions"].update({"2.x": {"plugin": {"distribution": "p"}}}),
        "$.tools.git.versions['2.x']: '2.x' is not a valid PEP 440 version",
    ),
    (
        "same-version-twice",
        lambda d: d["tools"]["forge"]["versions"].update({"1.0": version_of(d)}),
        "$.tools.forge.versions['1.0']: '1.0' is the same version as '1.0.0'",
    ),
    (
        "bad-dtm-specifier",
        lambda d: version_of(d).update(dtm=">>0.1"),
        "$.tools.forge.versions['1.0.0'].dtm: '>>0.1' is not a valid version specifier",
    ),
    (
        "bad-plugin-specifier",
        lambda d: plugin_of(d).update(version="0.1"),
        "$.tools.forge.versions['1.0.0'].plugin.version: '0.1' is not a valid version specifier",
    ),
    (
        "bad-dependency",
        lambda d: version_of(d).update(dependencies=["git>>2"]),
        "$.tools.forge.versions['1.0.0'].dependencies[0]: 'git>>2' is not a valid requirement: "
        "expected semicolon (after name with no version specifier) or end",
    ),
    (
        "dependency-with-extras",
        lambda d: version_of(d).update(dependencies=["git>=2", "gitea[full]>=1"]),
        "$.tools.forge.versions['1.0.0'].dependencies[1]: 'gitea[full]>=1' must be a tool name "
        "and a specifier (no extras, markers or URLs)",
    ),
    (
        "conflict-with-marker",
        lambda d: version_of(d).update(conflicts=['git<2; os_name == "nt"']),
        "$.tools.forge.versions['1.0.0'].conflicts[0]: 'git<2; os_name == \"nt\"' must be a "
        "tool name and a specifier (no extras, markers or URLs)",
    ),
    (
        "dependency-on-itself",
        lambda d: version_of(d).update(dependencies=["forge>=1"]),
        "$.tools.forge.versions['1.0.0'].dependencies[0]: 'forge>=1' names the tool itself",
    ),
    (
        "hash-without-pin",
        lambda d: plugin_of(d).update(hashes=["sha256:" + "a" * 64]),
        "$.tools.forge.versions['1.0.0'].plugin.version: hashes need an exact '==' pin "
        "(pip's --require-hashes), got '>=0.1,<1'",
    ),
    (
        "hash-with-wildcard-pin",
        lambda d: plugin_of(d).update(version="==0.1.*", hashes=["sha256:" + "a" * 64]),
        "$.tools.forge.versions['1.0.0'].plugin.version: hashes need an exact '==' pin "
        "(pip's --require-hashes), got '==0.1.*'",
    ),
    (
        "bad-hash-format",
        lambda d: plugin_of(d).update(version="==0.1.0", hashes=["md5:0123abcd"]),
        "$.tools.forge.versions['1.0.0'].plugin.hashes[0]: 'md5:0123abcd' is not of the form "
        "'sha256:<64 lowercase hex digits>'",
    ),
    (
        "bad-artifact-sha256",
        lambda d: version_of(d).update(artifacts={"manifest": {"url": "u", "sha256": "ABC"}}),
        "$.tools.forge.versions['1.0.0'].artifacts.manifest.sha256: 'ABC' is not a sha256 "
        "digest (64 lowercase hex digits)",
    ),
    (
        "unknown-key-in-version",
        lambda d: version_of(d).update(colour="blue"),
        "$.tools.forge.versions['1.0.0']: unknown key 'colour' (keys of your own must start "
        "with 'x-')",
    ),
    (
        "unknown-key-at-root",
        lambda d: d.update(mirrors=[]),
        "$: unknown key 'mirrors' (keys of your own must start with 'x-')",
    ),
    (
        "bad-tool-name",
        lambda d: d["tools"].update({"Git Hub": d["tools"]["git"]}),
        "$.tools: 'Git Hub' is not a valid tool name (lowercase letters, digits and '-')",
    ),
    (
        "wrong-type",
        lambda d: d["tools"]["git"].update(tags="scm"),
        "$.tools.git.tags: 'scm' is not of type 'array'",
    ),
    (
        "unknown-kind",
        lambda d: d["tools"]["git"].update(kind="plugin"),
        "$.tools.git.kind: 'plugin' is not one of ['tool', 'stack']",
    ),
    (
        "no-versions",
        lambda d: d["tools"]["git"].update(versions={}),
        "$.tools.git.versions: {} should be non-empty",
    ),
    (
        "quoted-path-segment",
        lambda d: d["tools"]["code-stack"]["versions"]["1.0.0"].update(yanked="no"),
        "$.tools['code-stack'].versions['1.0.0'].yanked: 'no' is not of type 'boolean'",
    ),
]


@pytest.mark.parametrize(
    ("mutate", "fault"), [case[1:] for case in MALFORMED], ids=[case[0] for case in MALFORMED]
)
def test_malformed_index_names_the_json_path(
    small_index: dict[str, Any], mutate: Mutation, fault: str
) -> None:
    mutate(small_index)
    with pytest.raises(RegistryIndexError) as caught:
        parse_index(small_index, name="corp")
    assert caught.value.message == f"index 'corp': {fault}"
    assert caught.value.hint == HINT
    assert caught.value.exit_code == 2


def test_invalid_json_names_line_and_column() -> None:
    with pytest.raises(RegistryIndexError) as caught:
        load_index_bytes(b'{"format": 1,\n "tools": }', name="corp")
    assert (
        caught.value.message == "index 'corp': not valid JSON at line 2 column 11: Expecting value"
    )
    assert caught.value.hint == HINT
    assert caught.value.exit_code == 2


@pytest.mark.parametrize(("raw", "message"), [
    (b'{"format": 1, "tools": {"git": {"description": "a", "versions": {"1.0": {}}},\n'
     b'  "git": {"description": "b", "versions": {"2.0": {}}}}}',
     "index 'corp': $.tools.git: key 'git' appears twice in this object (JSON would keep only the last)"),
    (b"[" * 100_000, "index 'corp': not valid JSON at line 1 column 500: arrays and objects nest too deeply"),
    (b'{"format": 1' + b"0" * 5000 + b"}",
     "index 'corp': not valid JSON at line 1 column 1: Exceeds the limit (4300 digits) for integer string "
     "conversion: value has 5001 digits"),
    (b'{"format": 1, "tools": {"\xff": 1}}',
     "index 'corp': not valid JSON at line 1 column 26: not UTF-8 text (byte 25)"),
])
def test_json_that_crashed_or_fooled_the_decoder_is_an_index_error(raw: bytes, message: str) -> None:
    # Found by tests/fuzz: RecursionError and ValueError escaped, and a repeated tool was kept silently.
    with pytest.raises(RegistryIndexError) as caught:
        load_index_bytes(raw, name="corp")
    assert caught.value.message == message
    assert caught.value.exit_code == 2


def test_a_key_with_a_newline_keeps_the_message_on_one_line() -> None:
    # Found by tests/fuzz: '$' in the plain-key pattern matched before a trailing newline.
    raw = b'{"format": 1, "tools": {"git": {"description": "g", "versions": {"1.0\\n": {"dtm": ">>1"}}}}}'
    with pytest.raises(RegistryIndexError) as caught:
        load_index_bytes(raw, name="corp")
    assert caught.value.message.startswith("index 'corp': $.tools.git.versions['1.0\\n']: ")
    assert "\n" not in caught.value.message


def test_not_an_object() -> None:
    with pytest.raises(
        RegistryIndexError, match=r"^index 'corp': \$: \[\] is not of type 'object'$"
    ):
        parse_index([], name="corp")


def test_newer_format_asks_for_a_newer_dtm(small_index: dict[str, Any]) -> None:
    small_index["format"] = 2
    with pytest.raises(RegistryIndexError) as caught:
        parse_index(small_index, name="corp")
    assert (
        caught.value.message
        == "index 'corp': $.format: format 2 is newer than this dtm reads (up to 1)"
    )
    assert caught.value.hint == "upgrade dtm, or remove the index with 'dtm registry remove corp'"


@pytest.mark.parametrize(
    "mutate",
    [
        # Another index may provide the tool: not this index's fault.
        lambda d: version_of(d).update(dependencies=["elsewhere>=1"]),
        lambda d: d.update({"x-maintainer": "ops"}),
        lambda d: version_of(d).update({"x-notes": {"any": "thing"}}),
        lambda d: plugin_of(d).update(version="==0.1.0", hashes=["sha256:" + "0f" * 32]),
        lambda d: d["tools"]["code-stack"]["versions"]["1.0.0"].update(
            plugin={"distribution": "dtm-plugins-test"}
        ),
        lambda d: version_of(d).update(artifacts={"image": "forge:1.0", "n": 3}),
    ],
    ids=["unknown-dependency", "x-root", "x-version", "pinned-hash", "stack-plugin", "artifacts"],
)
def test_accepted_variations(small_index: dict[str, Any], mutate: Mutation) -> None:
    mutate(small_index)
    assert "forge" in parse_index(small_index, name="corp")


def test_entries_carry_their_source_and_fields(small_index: dict[str, Any]) -> None:
    entries = parse_index(small_index, name="corp")
    stack = entries["code-stack"]
    assert (stack.kind, stack.source, stack.starter) == ("stack", "corp", "# starter\ntools: []\n")
    assert stack.versions[0].plugin.distribution == ""
    forge = entries["forge"]
    assert forge.tags == ("scm",)
    assert [v.version_text for v in forge.versions] == ["2.0.0", "1.0.0"]
    assert forge.versions[0].plugin.requirement == "dtm-plugins-test>=0.1,<1"


def test_trusted_path_on_damaged_data_still_explains() -> None:
    with pytest.raises(
        RegistryIndexError, match=r"^index 'c': \$: 'tools' is a required property$"
    ):
        parse_index({"format": 1}, name="c", validate=False)


def test_unreadable_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.json"
    with pytest.raises(InvalidInputError) as caught:
        load_index_file(missing, name="corp")
    assert str(caught.value) == f"index 'corp': cannot read {missing}: No such file or directory"
    assert caught.value.exit_code == 2


def test_schema_is_a_valid_draft_2020_12_schema() -> None:
    from jsonschema import Draft202012Validator

    Draft202012Validator.check_schema(json.loads(SCHEMA_FILE.read_text()))


def test_ten_thousand_tools_load_through_the_trusted_path(
    tmp_path: Path, generated_index: Callable[[int], dict[str, Any]]
) -> None:
    index = tmp_path / "bulk.json"
    index.write_text(json.dumps(generated_index(10_000)))
    # A fresh interpreter, so that modules other tests imported do not hide an import here.
    script = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        from dtm_core.registry import Registry, load_index_file, search
        entries = load_index_file(Path({str(index)!r}), name="bulk", validate=False)
        found = search(Registry(entries), "tool-999")
        heavy = sorted({{"packaging", "jsonschema", "httpx"}} & set(sys.modules))
        print(len(entries), [e.name for e in found][:2], heavy)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "10000 ['tool-999', 'tool-9990'] []"


@pytest.mark.parametrize(
    ("versions", "yanked", "plain"),
    [
        (["1.0", "1.0.1", "0.9"], [], True),
        (["2.0.0", "10.0", "9.99.99"], [], True),
        (["2.0", "1.5"], ["2.0"], True),
        (["1.0"], ["1.0"], True),
        (["1.0rc1", "0.9"], [], False),
        (["1!0.1", "2.0"], [], False),
    ],
)
def test_known_latest_agrees_with_packaging(
    versions: list[str], yanked: list[str], plain: bool
) -> None:
    raw = {v: {"plugin": {"distribution": "p"}, "yanked": v in yanked} for v in versions}
    [entry] = parse_index(
        {"format": 1, "tools": {"t": {"description": "d", "versions": raw}}}, name="c"
    ).values()
    assert (entry.known_latest is not None) == plain
    by_packaging = entry.latest.version_text if entry.latest else None
    assert entry.latest_text == by_packaging


def _best_match(validator: Any, document: Any) -> tuple[str, str, list[Any]] | None:
    from jsonschema.exceptions import best_match

    error = best_match(validator.iter_errors(document))
    return None if error is None else (error.message, error.validator, list(error.absolute_path))


def test_the_inlined_schema_reports_what_the_schema_itself_reports(
    small_index: dict[str, Any],
) -> None:
    """``$ref``s are inlined for speed: with any two faults, the error chosen stays the same."""
    import copy
    import itertools

    from jsonschema import Draft202012Validator

    from dtm_core.registry.index import _validator

    reference = Draft202012Validator(json.loads(SCHEMA_FILE.read_text()))
    assert "$ref" not in json.dumps(_validator().schema["properties"])
    checked = 0
    for (_, first, _), (_, second, _) in itertools.combinations(MALFORMED, 2):
        document = copy.deepcopy(small_index)
        try:
            first(document)
            second(document)
        except (KeyError, TypeError):
            continue  # the first fault removed what the second one changes
        assert _best_match(_validator(), document) == _best_match(reference, document)
        checked += 1
    assert checked > 150
