"""Stack starters: placeholders, rendering, and that the shipped starters are sound toolchains."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from dtm_core.declarative.starter import render_starter, starter_placeholders
from dtm_core.errors import InvalidInputError, RegistryIndexError
from dtm_core.registry.model import ToolEntry

STARTERS = Path(__file__).parent / "data" / "starters"
REPO = Path(__file__).resolve().parents[3]
VALUES = {"gitops": {"owner": "acme", "app": "shop", "language": "python"},
          "jenkins-ci": {"owner": "acme", "app": "shop"}}


def stack(name: str, starter: str, kind: str = "stack") -> ToolEntry:
    return ToolEntry(name=name, description="", kind=kind, starter=starter, source="main")


def shipped(name: str) -> ToolEntry:
    return stack(name, (STARTERS / f"{name}.yaml").read_text())


SMALL = """\
# Starter for <<not_a_placeholder>> (comments are left alone).
version: 1
vars:
  owner: <<owner>>    # who owns it
  url: "https://github.com/<< owner >>/<<repo>>"
tools:
  - tool: github-repo
    options:
      name: <<repo>>
      ref: ${{ vars.owner }}
      list: [<<repo>>, fixed]
"""


def test_placeholders_are_listed_once_in_order_of_appearance() -> None:
    assert starter_placeholders(stack("s", SMALL)) == ["owner", "repo"]
    assert starter_placeholders(shipped("gitops")) == ["owner", "app", "language"]
    assert starter_placeholders(shipped("jenkins-ci")) == ["owner", "app"]


def test_rendering_fills_values_and_keeps_comments_quotes_and_expressions() -> None:
    assert render_starter(stack("s", SMALL), {"owner": "me", "repo": "web"}) == """\
# Starter for <<not_a_placeholder>> (comments are left alone).
version: 1
vars:
  owner: me           # who owns it
  url: "https://github.com/me/web"
tools:
  - tool: github-repo
    options:
      name: web
      ref: ${{ vars.owner }}
      list: [web, fixed]
"""


def test_values_are_substituted_as_strings_never_as_yaml() -> None:
    text = render_starter(stack("s", SMALL), {"owner": "a: b # c", "repo": "123"})
    data = YAML(typ="safe").load(text)
    assert data["vars"] == {"owner": "a: b # c", "url": "https://github.com/a: b # c/123"}
    assert data["tools"][0]["options"]["name"] == "123"
    assert "  owner: 'a: b # c'   # who owns it\n" in text


def test_missing_values_are_listed_with_how_to_give_them() -> None:
    with pytest.raises(InvalidInputError) as caught:
        render_starter(shipped("gitops"), {"owner": "acme", "app": ""})
    assert caught.value.message == "the gitops starter needs values for: app, language"
    assert caught.value.hint == "give each as --set NAME=VALUE, e.g. --set app=VALUE --set language=VALUE"
    assert caught.value.exit_code == 2
    with pytest.raises(InvalidInputError) as caught:
        render_starter(shipped("jenkins-ci"), {"owner": "acme"})
    assert caught.value.message == "the jenkins-ci starter needs a value for: app"


def test_a_value_the_starter_does_not_take_is_refused() -> None:
    with pytest.raises(InvalidInputError) as caught:
        render_starter(shipped("jenkins-ci"), {"owner": "acme", "app": "shop", "ownr": "x"})
    assert caught.value.message == "the jenkins-ci starter has no value named 'ownr'; it takes: owner, app"
    assert caught.value.hint == "check the spelling of each --set NAME=VALUE"


def test_only_stacks_with_a_starter_render() -> None:
    with pytest.raises(InvalidInputError) as caught:
        render_starter(stack("argocd", "", kind="tool"), {})
    assert caught.value.message == "argocd is a tool, not a stack: only stacks have a starter configuration"
    assert caught.value.hint == "'dtm search stack' lists the stacks"
    with pytest.raises(InvalidInputError) as caught:
        starter_placeholders(stack("bare", "  \n"))
    assert caught.value.message == "the bare stack has no starter configuration"
    assert caught.value.hint == "write the file by hand; 'dtm info bare' lists the tools it brings"


def test_a_starter_that_is_not_yaml_is_the_indexs_fault() -> None:
    with pytest.raises(RegistryIndexError) as caught:
        starter_placeholders(stack("jenkins-ci", "version: 1\ntools:\n  - tool: [a\n"))
    assert caught.value.message.startswith(
        "index 'main': $.tools['jenkins-ci'].starter:4:1: invalid YAML: ")
    assert caught.value.hint == "fix the index at that path, or remove it with 'dtm registry remove main'"
    assert caught.value.exit_code == 2


def test_a_starter_without_placeholders_renders_as_written() -> None:
    text = "# plain\nversion: 1\ntools:\n  - tool: argocd   # Argo CD\n"
    assert render_starter(stack("s", text), {}) == text


# --- the starters this project ships (for registry.json) --------------------------------------


@pytest.mark.parametrize("name", sorted(VALUES))
def test_shipped_starter_renders_to_a_toolchain_with_every_member_of_the_stack(name: str) -> None:
    text = render_starter(shipped(name), VALUES[name])
    data = YAML(typ="safe").load(text)
    assert data["version"] == 1
    assert isinstance(data["tools"], list) and data["tools"]
    members = json.loads((REPO / "registry.json").read_text())["tools"][name]["versions"]["0.1.0"]
    wanted = {dependency.split(">")[0].split("=")[0] for dependency in members["dependencies"]}
    assert {item["tool"] for item in data["tools"]} == wanted
    assert "<<" not in json.dumps(data)


@pytest.mark.parametrize("name", sorted(VALUES))
def test_shipped_starter_loads_and_its_options_fit_the_plugins(name: str,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from dtm_core.declarative.config import load_toolchain_texts
    from dtm_core.declarative.model import OutputRef, Template
    from dtm_core.options import KNOWN_AFTER_APPLY, validate_options

    toolchain = load_toolchain_texts([(f"{name}.yaml", render_starter(shipped(name), VALUES[name]))],
                                     environ={})
    kinds = {}
    for folder in ("dtm_plugins_github", "dtm_plugins_argocd", "dtm_plugins_jenkins"):
        # Straight from the source tree: the plugin distributions need not be installed.
        source = REPO / folder / folder / "__init__.py"
        name = f"_starter_{folder}"
        spec = importlib.util.spec_from_file_location(name, source,
                                                      submodule_search_locations=[str(source.parent)])
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        monkeypatch.setitem(sys.modules, name, module)  # its relative imports look it up there
        spec.loader.exec_module(module)
        kinds.update({kind.name: kind for kind in module.dtm_tool_kinds()})

    def known_later(value: Any) -> Any:
        if isinstance(value, OutputRef | Template):
            return KNOWN_AFTER_APPLY
        if isinstance(value, dict):
            return {key: known_later(item) for key, item in value.items()}
        return value

    for spec in toolchain.instances.values():
        kind = kinds[spec.tool]
        validate_options(kind.options, known_later(spec.options))
        for value in spec.options.values():
            parts = value.parts if isinstance(value, Template) else (value,)
            for ref in (p for p in parts if isinstance(p, OutputRef)):
                target = toolchain.instances[ref.address]
                assert ref.output in {o.name for o in kinds[target.tool].outputs}, ref
