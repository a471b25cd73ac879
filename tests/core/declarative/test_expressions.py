"""Expressions: parsing, filling output references, and substitution as a property."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from dtm_core.declarative.config import load_toolchain_texts
from dtm_core.declarative.expressions import (
    Expression,
    fill_outputs,
    has_unresolved,
    parse,
    references_in,
)
from dtm_core.declarative.model import Location, OutputRef, Template, Toolchain
from dtm_core.errors import ConfigError

LoadYaml = Callable[..., Toolchain]
HERE = Location("toolchain.yaml", 9, 17)
CLONE = OutputRef("github-repo.backend", "clone_url", HERE)
HTML = OutputRef("github-repo.backend", "html_url", Location("toolchain.yaml", 10, 16))
OUTPUTS = {"github-repo.backend": {"clone_url": "https://x/backend.git", "html_url": "https://x/backend",
                                   "stars": 3}}


def test_parse_splits_text_and_expressions() -> None:
    assert parse("a ${{vars.x}} b ${{  env.HOME  }}", HERE) == [
        "a ", Expression("vars", ("x",), "${{vars.x}}"), " b ",
        Expression("env", ("HOME",), "${{  env.HOME  }}")]
    assert parse("${{ t.i.outputs.k-1 }}", HERE) == [
        Expression("output", ("t", "i", "k-1"), "${{ t.i.outputs.k-1 }}")]
    assert parse("${{ vars.a.b.0 }}", HERE) == [Expression("vars", ("a", "b", "0"), "${{ vars.a.b.0 }}")]
    assert parse("plain { text } $ {{ x }}", HERE) == ["plain { text } $ {{ x }}"]
    assert parse("$${{ x }} and $${{", HERE) == ["${{ x }} and ${{"]
    assert parse("", HERE) == []


def test_references_and_unresolved() -> None:
    value = {"a": [CLONE, {"b": Template(("see ", HTML))}], "c": "text", "d": 3}
    assert references_in(value) == [CLONE, HTML]
    assert has_unresolved(value) and has_unresolved(CLONE) and has_unresolved([Template(("x", CLONE))])
    assert not has_unresolved({"a": ["${{ not parsed here }}", 1, None]})
    assert references_in("text") == []


def test_fill_outputs_replaces_whole_values_and_templates() -> None:
    value = {"url": CLONE, "msg": Template(("repo is ", HTML, "!")), "n": Template((CLONE, " ",
             OutputRef("github-repo.backend", "stars", HERE))), "keep": ["x", 1]}
    assert fill_outputs(value, OUTPUTS) == {"url": "https://x/backend.git", "msg": "repo is https://x/backend!",
                                            "n": "https://x/backend.git 3", "keep": ["x", 1]}


def test_fill_outputs_never_skips_a_missing_output() -> None:
    wrong = OutputRef("github-repo.backend", "clone_ur", HERE)
    for value in (wrong, {"a": [Template(("x", wrong))]}):
        with pytest.raises(ConfigError) as caught:
            fill_outputs(value, OUTPUTS)
        assert caught.value.message == ("toolchain.yaml:9:17: github-repo.backend has no output 'clone_ur'; "
                                        "its outputs: clone_url, html_url, stars")
        assert caught.value.exit_code == 2


def test_fill_outputs_of_an_instance_that_has_not_run() -> None:
    with pytest.raises(ConfigError) as caught:
        fill_outputs(CLONE, {})
    assert caught.value.message == ("toolchain.yaml:9:17: github-repo.backend has not run yet, "
                                    "so its output 'clone_url' is not known")


# -- substitution is into parsed values: any value survives with its type --------------------

# ruamel's emitter does not round-trip the YAML line breaks NEL, LS and PS: not the loader's concern.
_chars = st.characters(blacklist_categories=("Cs", "Zl", "Zp"), blacklist_characters="\x85")
_text = st.text(_chars, max_size=30).filter(lambda s: "${{" not in s)
_scalars = st.one_of(_text, st.integers(), st.booleans(), st.none(),
                     st.floats(allow_nan=False, allow_infinity=False))
_values = st.recursive(_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(_text, inner, max_size=4)), max_leaves=12)


def _yaml(document: dict[str, Any]) -> str:
    out = io.StringIO()
    YAML().dump(document, out)
    return out.getvalue()


def _load(document: dict[str, Any], environ: dict[str, str] | None = None) -> Toolchain:
    return load_toolchain_texts([("toolchain.yaml", _yaml(document))], environ=environ or {})


@settings(max_examples=150, deadline=None)
@given(value=_values)
def test_any_var_value_round_trips_unchanged_in_type_and_value(value: Any) -> None:
    document = {"version": 1, "vars": {"v": value},
                "tools": [{"tool": "a", "options": {"whole": "${{ vars.v }}", "nested": ["${{vars.v}}"]}}]}
    toolchain = _load(document)
    options = toolchain.instances["a.default"].options
    assert options == {"whole": value, "nested": [value]}
    assert toolchain.variables["v"] == value
    assert repr(options["whole"]) == repr(value)  # same types all the way down (True is not 1)


@settings(max_examples=150, deadline=None)
@given(value=st.one_of(_text, st.integers()), before=_text, after=_text)
def test_text_interpolation_is_plain_concatenation(value: str | int, before: str, after: str) -> None:
    # "$" right before an expression makes "$${{", the escape for a literal "${{" (documented).
    if "${{" in before + after or before.endswith("$"):
        return
    document = {"version": 1, "vars": {"v": value},
                "tools": [{"tool": "a", "options": {"o": f"{before}${{{{ vars.v }}}}{after}"}}]}
    expected = value if not before + after else f"{before}{value}{after}"  # alone, it keeps its type
    assert _load(document).instances["a.default"].options["o"] == expected


@settings(max_examples=100, deadline=None)
@given(value=_text)
def test_environment_values_round_trip_as_text(value: str) -> None:
    options = {"o": "${{ env.V }}", "t": "<${{ env.V }}>"}
    document = {"version": 1, "tools": [{"tool": "a", "options": options}]}
    options = _load(document, {"V": value}).instances["a.default"].options
    assert options == {"o": value, "t": f"<{value}>"}
