"""Regression tests: toolchain files the fuzzer (tests/fuzz) broke the loader with are one located line."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from dtm_core.errors import ConfigError

LoadError = Callable[..., ConfigError]


@pytest.mark.parametrize(("text", "message"), [
    ("version: 1\x00\n", "toolchain.yaml:1:11: invalid YAML: character U+0000 is not allowed in a YAML file"),
    ("version: 1\nvars:\n  a: \x1b\n",
     "toolchain.yaml:3:6: invalid YAML: character U+001B is not allowed in a YAML file"),
])
def test_a_character_yaml_forbids_is_an_error_at_its_place(load_error: LoadError, text: str,
                                                           message: str) -> None:
    assert load_error(text).message == message


@pytest.mark.parametrize("depth", [65, 300, 5000])
def test_deep_flow_nesting_is_an_error_not_a_recursion_error(load_error: LoadError, depth: int) -> None:
    error = load_error("version: 1\nvars:\n  a: " + "[" * depth + "]" * depth + "\n")
    assert error.message == "toolchain.yaml:3:68: values nest more than 64 levels deep"


def test_deep_block_nesting_is_an_error_too(load_error: LoadError) -> None:
    text = "version: 1\nvars:\n" + "".join("  " * i + f"  k{i}:\n" for i in range(70)) + "  " * 70 + "  v\n"
    assert load_error(text).message == "toolchain.yaml:66:129: values nest more than 64 levels deep"


def test_nested_aliases_that_expand_to_billions_of_values_are_refused(load_error: LoadError) -> None:
    levels = ["x-a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    levels += [f"x-a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)]
    error = load_error("version: 1\n" + "\n".join(levels) + "\nvars:\n  all: ${{ vars.none }}\n")
    assert error.message == ("toolchain.yaml:6:57: with its aliases expanded, the file holds more than "
                             "100000 values here")


def test_a_few_aliases_are_fine(load_yaml: Callable[..., object]) -> None:
    load_yaml("version: 1\nx-a: &a {region: eu}\nvars:\n  one: *a\n  two: [*a, *a]\n")


def test_a_number_too_long_for_python_is_an_error_at_it(load_error: LoadError) -> None:
    error = load_error("version: 1\nvars:\n  n: " + "9" * 5000 + "\n")
    assert error.message == "toolchain.yaml:3:6: a number with more than 4000 digits"
    assert error.hint == "quote it to make it text, or shorten it"


@pytest.mark.parametrize(("text", "message"), [
    ("!!", "toolchain.yaml:1:1: unsupported YAML tag !!"),
    ("version: 1\nvars:\n  a: !!int x\n", "toolchain.yaml:3:6: unsupported YAML tag !!int"),
    ("version: 1\nvars:\n  a: !!bool x\n", "toolchain.yaml:3:6: unsupported YAML tag !!bool"),
    ("version: 1\nvars:\n  a: !<tag:yaml.org,2002:int> 0x\n",
     "toolchain.yaml:3:6: unsupported YAML tag !!int"),
    ("version: 1\nvars:\n  a: ! x\n", "toolchain.yaml:3:6: unsupported YAML tag !"),
])
def test_standard_tags_ruamel_cannot_construct_are_refused(load_error: LoadError, text: str,
                                                           message: str) -> None:
    assert load_error(text).message == message


def test_a_tagged_scalar_at_the_top_level_is_located(load_error: LoadError) -> None:
    # ruamel gives a tagged scalar an ``lc`` without a line: start_location used to add 1 to None.
    assert load_error("!vault x").message == "toolchain.yaml:1:1: unsupported YAML tag !vault"


@pytest.mark.parametrize(("text", "message"), [
    ('version: 1\ntools:\n  - tool: alpha\n    options:\n      "s\u2028ize": 1\n',
     "toolchain.yaml:5:7: the option name 's\\u2028ize' holds an unprintable character"),
    ('version: 1\ntools:\n  - tool: alpha\n    options:\n      label: "${{ foo\\nbar }}"\n',
     "toolchain.yaml:5:14: malformed expression '${{ foo\\nbar }}'"),
])
def test_unprintable_text_never_splits_the_error_line(load_error: LoadError, text: str, message: str) -> None:
    # Found by tests/fuzz: a U+2028 in an option name split 'options.s…ize: unknown option' in two.
    error = load_error(text)
    assert error.message == message
    assert len(error.message.splitlines()) == 1


@pytest.mark.parametrize(("text", "message"), [
    ("? : ?", "toolchain.yaml:1:3: a list or mapping cannot be a key"),
    ("version: 1\nvars:\n  ? {a: 1}\n  : x\n", "toolchain.yaml:3:5: a list or mapping cannot be a key"),
    ("version: 1\nx-a: &a [1]\nvars:\n  *a : x\n", "toolchain.yaml:4:3: a list or mapping cannot be a key"),
])
def test_a_list_or_mapping_as_a_key_is_refused(load_error: LoadError, text: str, message: str) -> None:
    # Found by tests/fuzz: ruamel hashed '? : ?' and failed with "unhashable type: 'CommentedMap'".
    assert load_error(text).message == message
