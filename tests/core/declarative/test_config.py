"""Loading toolchain files: substitution into parsed values, locations, merging, dependencies."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from dtm_core.declarative.config import load_toolchain, locate_option_error
from dtm_core.declarative.model import Location, OutputRef, Template, Toolchain
from dtm_core.errors import ConfigError

LoadYaml = Callable[..., Toolchain]
LoadError = Callable[..., ConfigError]

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).parents[3]


def test_documented_example_is_the_tested_one_and_loads() -> None:
    example = (DATA / "example" / "toolchain.yaml").read_text()
    docs = (ROOT / "docs" / "config.md").read_text()
    assert f"```yaml\n{example}```" in docs
    toolchain = load_toolchain([DATA / "example" / "toolchain.yaml"],
                               environ={"KUBE_CONTEXT": "kind-dtm"})
    assert list(toolchain.instances) == ["github-repo.app", "github-actions.ci", "argocd.default",
                                         "argocd-app.hello"]
    app = toolchain.instances["argocd-app.hello"]
    assert app.depends_on == ["argocd.default", "github-actions.ci", "github-repo.app"]
    assert app.options["destination_namespace"] == "apps"
    assert app.options["repo_url"] == OutputRef("github-repo.app", "clone_url", Location(
        str(DATA / "example" / "toolchain.yaml"), 49, 17))
    repo = toolchain.instances["github-repo.app"]
    assert repo.options["description"] == "Hello: a demo, #1"
    assert repo.options["token"] == "env:GITHUB_TOKEN"
    assert repo.version == ">=0.1,<1"
    assert toolchain.state == {"backend": "local"}
    assert toolchain.variables["cluster"] == {"context": "kind-dtm", "namespace": "apps"}


def test_defaults_and_empty_sections(load_yaml: LoadYaml) -> None:
    toolchain = load_yaml("version: 1\nvars:\nstate:\ntools:\n  - tool: argocd\n    options:\n")
    spec = toolchain.instances["argocd.default"]
    assert (spec.tool, spec.name, spec.version, spec.options, spec.depends_on) == (
        "argocd", "default", "", {}, [])
    assert toolchain.state == {} and toolchain.variables == {}
    assert load_yaml("version: 1\n").instances == {}


@pytest.mark.parametrize("value", [
    "Backend: API", "a # not a comment", "key: value\nother: line", "- item", "{a: 1}", "'quoted'",
    "&anchor *alias", "${ not an expression }", "ends with a colon:",
])
def test_text_with_yaml_syntax_stays_data_wherever_it_comes_from(load_yaml: LoadYaml, value: str) -> None:
    text = ("version: 1\nvars:\n  v: ${{ env.V }}\ntools:\n  - tool: a\n    options:\n"
            "      whole: ${{ vars.v }}\n      inside: \"<${{ vars.v }}>\"\n      env: ${{ env.V }}\n")
    options = load_yaml(text, environ={"V": value}).instances["a.default"].options
    assert options == {"whole": value, "inside": f"<{value}>", "env": value}


def test_whole_value_substitution_keeps_the_type(load_yaml: LoadYaml) -> None:
    text = """\
version: 1
vars:
  size: 3
  ratio: 0.5
  enabled: false
  nothing: null
  tags: [a, b]
  limits: {cpu: 2, memory: 1Gi}
tools:
  - tool: a
    options:
      size: ${{ vars.size }}
      ratio: ${{vars.ratio}}
      enabled: ${{ vars.enabled }}
      nothing: ${{ vars.nothing }}
      tags: ${{ vars.tags }}
      limits: ${{ vars.limits }}
      again: ${{ vars.tags }}
"""
    options = load_yaml(text).instances["a.default"].options
    assert options == {"size": 3, "ratio": 0.5, "enabled": False, "nothing": None, "tags": ["a", "b"],
                       "limits": {"cpu": 2, "memory": "1Gi"}, "again": ["a", "b"]}
    assert type(options["size"]) is int and type(options["enabled"]) is bool
    assert options["tags"] is not options["again"]


def test_embedded_values_are_written_as_yaml_writes_them(load_yaml: LoadYaml) -> None:
    text = ("version: 1\nvars: {n: 3, on: true, off: false, x: 1.5}\ntools:\n  - tool: a\n    options:\n"
            "      s: \"${{ vars.n }}/${{ vars.on }}/${{ vars.off }}/${{ vars.x }}\"\n")
    assert load_yaml(text).instances["a.default"].options == {"s": "3/true/false/1.5"}


def test_nested_vars_env_and_vars_referring_to_vars(load_yaml: LoadYaml) -> None:
    text = """\
version: 1
vars:
  full: ${{ vars.owner }}/${{ vars.repo.name }}
  owner: ${{ env.OWNER }}
  repo:
    name: app
    branches: [main, "${{ vars.owner }}-dev"]
tools:
  - tool: a
    options:
      full: ${{ vars.full }}
      branch: ${{ vars.repo.branches.1 }}
      repo: ${{ vars.repo }}
"""
    toolchain = load_yaml(text, environ={"OWNER": "my-org"})
    assert toolchain.instances["a.default"].options == {
        "full": "my-org/app", "branch": "my-org-dev",
        "repo": {"name": "app", "branches": ["main", "my-org-dev"]}}
    assert toolchain.variables["full"] == "my-org/app"


def test_empty_environment_variable_is_a_value(load_yaml: LoadYaml) -> None:
    toolchain = load_yaml("version: 1\nvars:\n  v: x${{ env.EMPTY }}y\n", environ={"EMPTY": ""})
    assert toolchain.variables == {"v": "xy"}


def test_substituted_text_is_not_evaluated_again(load_yaml: LoadYaml) -> None:
    text = ("version: 1\nvars:\n  v: ${{ env.TRICKY }}\ntools:\n  - tool: a\n    options:\n"
            "      o: ${{ vars.v }}\n")
    options = load_yaml(text, environ={"TRICKY": "${{ env.SECRET }}"}).instances["a.default"].options
    assert options == {"o": "${{ env.SECRET }}"}


def test_escaped_expressions_and_secret_references_are_left_alone(load_yaml: LoadYaml) -> None:
    text = """\
version: 1
tools:
  - tool: github-actions
    options:
      run: echo $${{ secrets.TOKEN }} and $${{ github.sha }}
      token: env:GITHUB_TOKEN
      file: file:~/.secrets/token
"""
    assert load_yaml(text).instances["github-actions.default"].options == {
        "run": "echo ${{ secrets.TOKEN }} and ${{ github.sha }}",
        "token": "env:GITHUB_TOKEN", "file": "file:~/.secrets/token"}


def test_yaml_details_plain_values_anchors_and_extension_keys(load_yaml: LoadYaml) -> None:
    text = """\
version: 1
x-common: &common
  namespace: tools
  labels: {team: platform}
tools:
  - tool: a
    options:
      <<: *common
      on: push
      answer: yes
      since: 2024-05-01
      hex: 0x1F
      block: |
        line one
        line two
"""
    options = load_yaml(text).instances["a.default"].options
    assert options == {"on": "push", "answer": "yes", "since": "2024-05-01", "hex": 31,
                       "block": "line one\nline two\n", "namespace": "tools",
                       "labels": {"team": "platform"}}
    assert all(type(v) in {str, int, dict} for v in options.values())


def test_locations_of_items_and_options(load_yaml: LoadYaml) -> None:
    text = """\
version: 1
tools:
  - tool: a
    options:
      size: big
      settings:
        region: eu
      tags:
        - x
        - y
  - {tool: b, name: two, options: {size: 1}}
"""
    toolchain = load_yaml(text)
    a = toolchain.instances["a.default"]
    assert a.location == Location("toolchain.yaml", 3, 5)
    assert {p: str(loc) for p, loc in a.option_locations.items()} == {
        "size": "toolchain.yaml:5:13", "settings": "toolchain.yaml:6:7",
        "settings.region": "toolchain.yaml:7:17", "tags": "toolchain.yaml:8:7",
        "tags[0]": "toolchain.yaml:9:11", "tags[1]": "toolchain.yaml:10:11"}
    assert str(a.location_of("settings.zone")) == "toolchain.yaml:6:7"
    assert str(locate_option_error(a, "size")) == "toolchain.yaml:5:13"
    assert str(locate_option_error(a, "size", key=True)) == "toolchain.yaml:5:7"
    assert str(locate_option_error(a, "settings.region", key=True)) == "toolchain.yaml:7:9"
    assert str(locate_option_error(a, "missing", key=True)) == "toolchain.yaml:3:5"
    b = toolchain.instances["b.two"]
    assert (str(b.location), str(b.location_of("size"))) == ("toolchain.yaml:11:5", "toolchain.yaml:11:42")


def test_references_become_symbolic_and_imply_dependencies(load_yaml: LoadYaml) -> None:
    text = """\
version: 1
vars:
  url: ${{ repo.main.outputs.url }}
tools:
  - tool: repo
    name: main
  - tool: ci
  - tool: app
    depends_on: [ci, repo.main]
    options:
      whole: ${{ repo.main.outputs.clone_url }}
      text: "at ${{ repo.main.outputs.url }} (${{ ci.default.outputs.id }})"
      via_var: ${{ vars.url }}
      listed: ["${{ ci.default.outputs.id }}"]
"""
    app = load_yaml(text).instances["app.default"]
    assert app.depends_on == ["ci.default", "repo.main"]
    assert app.options["whole"] == OutputRef("repo.main", "clone_url", Location("toolchain.yaml", 11, 14))
    assert app.options["text"] == Template((
        "at ", OutputRef("repo.main", "url", Location("toolchain.yaml", 12, 13)), " (",
        OutputRef("ci.default", "id", Location("toolchain.yaml", 12, 13)), ")"))
    # Used through a variable, a reference points at the variable's definition.
    assert app.options["via_var"] == OutputRef("repo.main", "url", Location("toolchain.yaml", 3, 8))
    assert str(app.options["listed"][0]) == "${{ ci.default.outputs.id }}"


def test_reference_alone_implies_the_dependency_once(load_yaml: LoadYaml) -> None:
    text = ("version: 1\ntools:\n  - tool: repo\n  - tool: app\n    options:\n"
            "      a: ${{ repo.default.outputs.url }}\n      b: ${{ repo.default.outputs.url }}\n")
    assert load_yaml(text).instances["app.default"].depends_on == ["repo.default"]


def test_several_texts_merge_in_order(load_yaml: LoadYaml) -> None:
    first = "version: 1\nvars:\n  owner: my-org\ntools:\n  - tool: repo\n"
    second = ("version: 1\nvars:\n  owner: my-org\n  app: hello\nstate:\n  backend: postgresql\n"
              "  url: env:DTM_STATE_URL\n  workspace: ${{ vars.app }}\ntools:\n  - tool: app\n"
              "    options:\n      name: ${{ vars.owner }}/${{ vars.app }}\n"
              "      url: ${{ repo.default.outputs.url }}\n")
    toolchain = load_yaml(first, second)
    assert list(toolchain.instances) == ["repo.default", "app.default"]
    assert toolchain.instances["app.default"].options["name"] == "my-org/hello"
    assert toolchain.instances["app.default"].location == Location("second.yaml", 10, 5)
    assert toolchain.state == {"backend": "postgresql", "url": "env:DTM_STATE_URL", "workspace": "hello"}
    assert toolchain.variables == {"owner": "my-org", "app": "hello"}


def test_directory_loads_yaml_files_sorted_by_name(tmp_path: Path) -> None:
    (tmp_path / "b-tools.yml").write_text("version: 1\ntools:\n  - tool: b\n")
    (tmp_path / "a-tools.yaml").write_text("version: 1\nvars: {v: 1}\ntools:\n  - tool: a\n")
    (tmp_path / "c.yaml").write_text("version: 1\ntools:\n  - tool: c\n    options: {v: '${{ vars.v }}'}\n")
    (tmp_path / "README.md").write_text("# not a toolchain")
    (tmp_path / "dtm.lock").write_text("{}")
    (tmp_path / "sub.yaml").mkdir()
    toolchain = load_toolchain([tmp_path], environ={})
    assert list(toolchain.instances) == ["a.default", "b.default", "c.default"]
    assert toolchain.instances["c.default"].options == {"v": 1}
    assert toolchain.instances["b.default"].location == Location(str(tmp_path / "b-tools.yml"), 3, 5)
    assert toolchain.files == [tmp_path]


def test_files_and_directories_mix(tmp_path: Path) -> None:
    (tmp_path / "dir").mkdir()
    (tmp_path / "dir" / "x.yaml").write_text("version: 1\ntools:\n  - tool: x\n")
    (tmp_path / "main.yaml").write_text("version: 1\ntools:\n  - tool: m\n")
    paths = [tmp_path / "main.yaml", tmp_path / "dir"]
    toolchain = load_toolchain(paths, environ={})
    assert list(toolchain.instances) == ["m.default", "x.default"]
    assert toolchain.files == paths


def test_identical_duplicates_of_vars_and_state_are_allowed(load_yaml: LoadYaml) -> None:
    same = "version: 1\nvars:\n  v: {a: [1, 2]}\nstate:\n  backend: local\n"
    assert load_yaml(same, same).variables == {"v": {"a": [1, 2]}}


def test_instance_declared_in_two_files(load_error: LoadError) -> None:
    error = load_error("version: 1\ntools:\n  - tool: github-repo\n    name: backend\n",
                       "version: 1\ntools:\n  - tool: x\n  - tool: github-repo\n    name: backend\n")
    assert error.message == ("toolchain.yaml:3:5: github-repo.backend is declared twice "
                             "(also at second.yaml:4:5)")


def test_unset_environment_variable_names_where_it_is_used(load_error: LoadError) -> None:
    error = load_error("version: 1\ntools:\n  - tool: a\n    options:\n"
                       "      region: \"${{ env.REGION }}-1\"\n")
    assert error.message == ("toolchain.yaml:5:15: environment variable REGION is not set "
                             "(used in ${{ env.REGION }})")
    assert error.hint == "export REGION=... before running dtm"


def test_variable_referring_to_itself(load_error: LoadError) -> None:
    error = load_error("version: 1\nvars:\n  a:\n    b: ${{ vars.a.c }}\n")
    assert error.message == "toolchain.yaml:3:3: variables refer to each other in a cycle: vars.a -> vars.a"


def test_unknown_variable_when_none_are_defined(load_error: LoadError) -> None:
    error = load_error("version: 1\ntools:\n  - tool: a\n    options: {o: '${{ vars.x }}'}\n")
    assert error.message == "toolchain.yaml:4:18: unknown variable 'x' in ${{ vars.x }}"
    assert error.hint == "define it under vars: (defined: none)"


@pytest.mark.parametrize(("expression", "message"), [
    ("${{ }}", "malformed expression ${{ }}"),
    ("${{ env.1X }}", "malformed expression ${{ env.1X }}"),
    ("${{ vars }}", "malformed expression ${{ vars }}"),
    ("${{ vars.a..b }}", "malformed expression ${{ vars.a..b }}"),
    ("${{ a.b.output.c }}", "malformed expression ${{ a.b.output.c }}"),
    ("${{ A.b.outputs.c }}", "malformed expression ${{ A.b.outputs.c }}"),
    ("x ${{ vars.a ${{ vars.b }}", "malformed expression ${{ vars.a ${{ vars.b }}"),
    ("${{ vars.a }", "unterminated expression '${{ vars.a }': '}}' is missing"),
])
def test_malformed_expressions(load_error: LoadError, expression: str, message: str) -> None:
    error = load_error(f"version: 1\nvars:\n  v: '{expression}'\n")
    assert error.message == f"toolchain.yaml:3:6: {message}"
    assert re.search(r"\$\{\{", error.hint or "")


def test_state_url_may_be_a_url_without_password(load_yaml: LoadYaml) -> None:
    text = "version: 1\nstate:\n  backend: postgresql\n  url: postgresql://dtm@db.example.com:5432/dtm\n"
    assert load_yaml(text).state["url"] == "postgresql://dtm@db.example.com:5432/dtm"
