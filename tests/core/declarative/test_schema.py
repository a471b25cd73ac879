"""The toolchain JSON Schema: valid itself, accepts good files, rejects bad ones, allows expressions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from ruamel.yaml import YAML

from dtm_core.declarative.schema import toolchain_json_schema
from dtm_core.options import Option
from dtm_core.toolkind import ToolKind

DATA = Path(__file__).parent / "data"


class Repo(ToolKind):
    name = "github-repo"
    options = (
        Option("owner", required=True),
        Option("name", required=True),
        Option("description"),
        Option("visibility", choices=("public", "private")),
        Option("token", secret=True),
        Option("size", "integer"),
        Option("archived", "boolean"),
        Option("topics", "list", items=Option("topic")),
        Option("limits", "mapping", items=Option("limit", "integer")),
        Option("settings", "object", fields=(Option("region"), Option("replicas", "integer"))),
    )


@pytest.fixture
def validator() -> Draft202012Validator:
    schema = toolchain_json_schema({"github-repo": Repo()},
                                   ["github-repo", "github-actions", "argocd", "argocd-app"])
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def plain(text: str) -> Any:
    """YAML as JSON-like values, as an editor's language server sees the file."""
    return YAML(typ="safe").load(text)


def errors(validator: Draft202012Validator, text: str) -> list[str]:
    return [e.message for e in validator.iter_errors(plain(text))]


def test_schema_without_tools_is_valid_and_accepts_any_tool_name() -> None:
    schema = toolchain_json_schema({}, [])
    Draft202012Validator.check_schema(schema)
    assert Draft202012Validator(schema).is_valid(plain("version: 1\ntools:\n  - tool: anything\n"))


def test_documented_example_validates(validator: Draft202012Validator) -> None:
    text = (DATA / "example" / "toolchain.yaml").read_text()
    assert errors(validator, text) == []


GOOD = """\
version: 1
x-anchors: {a: 1}
vars: {owner: my-org, size: 3}
state: {backend: postgresql, url: env:DTM_STATE_URL, workspace: prod}
tools:
  - tool: github-repo
    name: backend
    version: ">=0.1"
    depends_on: [argocd, argocd.main]
    options:
      owner: ${{ vars.owner }}
      name: "api-${{ vars.owner }}"
      visibility: public
      token: env:GITHUB_TOKEN
      size: ${{ vars.size }}
      archived: false
      topics: [a, "${{ vars.owner }}"]
      limits: {cpu: 2, memory: "${{ vars.size }}"}
      settings: {region: eu, replicas: "${{ vars.size }}"}
  - tool: github-repo
    name: other
    options:
      owner: x
      name: y
      token: ${{ vars.token_ref }}
      settings: ${{ vars.settings }}
  - tool: argocd-app
    options: {anything: [goes, here]}
  - tool: argocd
    options:
"""


def test_good_config_validates(validator: Draft202012Validator) -> None:
    assert errors(validator, GOOD) == []


@pytest.mark.parametrize(("change", "fragment"), [
    (("version: 1", "version: 2"), "1 was expected"),
    (("x-anchors", "tool"), "'tool' does not match any of the regexes"),
    (("backend: postgresql", "backend: s3"), "'s3' is not one of"),
    (("  - tool: argocd\n", "  - tool: argocdd\n"), "'argocdd' is not one of"),
    (("    name: backend", "    name: Backend"), "does not match"),
    (("    version: \">=0.1\"", "    version: 0.1"), "0.1 is not of type 'string'"),
    (("visibility: public", "visibility: open"), "is not valid under any of the given schemas"),
    (("token: env:GITHUB_TOKEN", "token: ${{ env.GITHUB_TOKEN }}"), "is not valid under any"),
    (("archived: false", "archived: maybe"), "is not valid under any"),
    (("owner: x\n", "owner: x\n      colour: red\n"), "Additional properties are not allowed"),
    (("      owner: x\n", ""), "'owner' is a required property"),
    (("depends_on: [argocd, argocd.main]", "depends_on: [a.b.c]"), "does not match"),
    (("    options: {anything", "    option: {anything"), "Additional properties are not allowed"),
])
def test_bad_configs_do_not_validate(validator: Draft202012Validator, change: tuple[str, str],
                                     fragment: str) -> None:
    old, new = change
    assert old in GOOD
    found = errors(validator, GOOD.replace(old, new, 1))
    assert found and any(fragment in message for message in found), found


def test_missing_version_does_not_validate(validator: Draft202012Validator) -> None:
    assert errors(validator, "tools: []\n") == ["'version' is a required property"]


@pytest.mark.parametrize(("state", "valid"), [
    ("state:\n", True), ("state: {backend: local}\n", True), ("state: {url: env:X}\n", False),
    ("state: {backend: local, url: env:X}\n", False), ("state: {backend: postgresql, url: env:X}\n", True),
    ("state: {backend: local, path: x}\n", False),
])
def test_state_block(validator: Draft202012Validator, state: str, valid: bool) -> None:
    assert (errors(validator, "version: 1\n" + state) == []) is valid
