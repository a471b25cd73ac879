"""Round-trip edits of toolchain files: what changes is the item asked for, nothing else."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dtm_core.declarative.edit import add_instance, remove_instance
from dtm_core.errors import ConfigError, InvalidInputError

# A team's file as people write them: comments everywhere, aligned end-of-line comments,
# quotes of both kinds, extra spaces ruamel would normalise, a flow list, a section after.
TEAM = """\
# Team toolchain. Reviewed in pull requests; apply from CI only.
version:   1

vars:
  org: "acme"        # the GitHub organisation
  flags: [a,b]

tools:
  # The application's repository.
  - tool: github-repo
    name: app
    version: ">=0.1"
    options:
      owner: ${{ vars.org }}
      name: 'app'
      token: env:GITHUB_TOKEN   # never inline a token

  # CI, once the repository exists.
  - tool: github-actions
    name: ci
    depends_on: [github-repo.app]
    options:
      language: python

  # Deployment.
  - tool: argocd
    options:
      namespace: argocd
    depends_on:
      - github-actions.ci   # deploy what CI built

# Where dtm keeps state: shared, so CI and laptops agree.
state:
  backend: local
"""

HEAD = TEAM[: TEAM.index("  # The application's repository.")]
TAIL = TEAM[TEAM.index("\n# Where dtm keeps state"):]


@pytest.fixture
def team(tmp_path: Path) -> Path:
    path = tmp_path / "toolchain.yaml"
    path.write_text(TEAM)
    return path


def test_adding_a_tool_appends_an_item_and_keeps_every_other_byte(team: Path) -> None:
    add_instance(team, "argocd-app", "web", ">=0.1", {"repo_url": "${{ github-repo.app.outputs.clone_url }}"})
    text = team.read_text()
    assert text == TEAM.replace(TAIL, """
  - tool: argocd-app
    name: web
    version: '>=0.1'
    options:
      repo_url: ${{ github-repo.app.outputs.clone_url }}
""" + TAIL)
    assert text.startswith(HEAD)  # "version:   1", "[a,b]" and the comment columns untouched


def test_default_instance_name_is_left_out(team: Path) -> None:
    add_instance(team, "jenkins")
    assert "  - tool: jenkins\n\n# Where dtm keeps state" in team.read_text()


def test_existing_instance_is_updated_in_place_and_options_merged(team: Path) -> None:
    add_instance(team, "github-repo", "app", "==0.1.0", {"visibility": "public", "name": "app"})
    assert team.read_text() == TEAM.replace(
        '    version: ">=0.1"\n', '    version: "==0.1.0"\n').replace(
        "      token: env:GITHUB_TOKEN   # never inline a token\n",
        "      token: env:GITHUB_TOKEN   # never inline a token\n      visibility: public\n")


def test_update_without_version_keeps_the_pin_and_adds_missing_keys_in_order(team: Path) -> None:
    add_instance(team, "github-actions", "ci", "", {"language": "go", "branch": "dev"})
    add_instance(team, "argocd", "default", ">=3.4")
    assert team.read_text() == TEAM.replace("""\
    depends_on: [github-repo.app]
    options:
      language: python
""", """\
    depends_on: [github-repo.app]
    options:
      language: go
      branch: dev
""").replace("""\
  - tool: argocd
    options:
""", """\
  - tool: argocd
    version: '>=3.4'
    options:
""")


def test_adding_options_to_the_last_item_keeps_the_next_sections_comment_after_it(team: Path) -> None:
    add_instance(team, "argocd", options={"server_service_type": "LoadBalancer"})
    assert team.read_text() == TEAM.replace(
        "      namespace: argocd\n", "      namespace: argocd\n      server_service_type: LoadBalancer\n")


def test_removing_a_middle_item_takes_its_comment_and_its_references(team: Path) -> None:
    assert remove_instance(team, "github-actions", "ci") == ["github-actions.ci"]
    assert team.read_text() == HEAD + """\
  # The application's repository.
  - tool: github-repo
    name: app
    version: ">=0.1"
    options:
      owner: ${{ vars.org }}
      name: 'app'
      token: env:GITHUB_TOKEN   # never inline a token

  # Deployment.
  - tool: argocd
    options:
      namespace: argocd
""" + TAIL


def test_removing_the_first_item_drops_flow_references(team: Path) -> None:
    assert remove_instance(team, "github-repo", None) == ["github-repo.app"]
    assert team.read_text() == HEAD + """\
  # CI, once the repository exists.
  - tool: github-actions
    name: ci
    options:
      language: python

  # Deployment.
  - tool: argocd
    options:
      namespace: argocd
    depends_on:
      - github-actions.ci   # deploy what CI built
""" + TAIL


def test_removing_the_last_item_keeps_the_next_sections_comment(team: Path) -> None:
    assert remove_instance(team, "argocd", "default") == ["argocd.default"]
    assert team.read_text() == TEAM[: TEAM.index("  # Deployment.")].rstrip("\n") + "\n" + TAIL


def test_removing_every_item_leaves_an_empty_list(team: Path) -> None:
    for tool in ("github-repo", "github-actions", "argocd"):
        remove_instance(team, tool, None)
    assert team.read_text() == HEAD.replace("tools:\n", "tools: []\n") + TAIL


def test_removing_all_instances_of_a_tool(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text("""\
version: 1
tools:
- tool: repo
  name: a
- tool: ci
  depends_on: [repo.a, repo.b, repo]
- tool: repo
  name: b
""")
    assert remove_instance(path, "repo", None) == ["repo.a", "repo.b"]
    assert path.read_text() == "version: 1\ntools:\n- tool: ci\n  depends_on: [repo]\n"
    path.write_text("version: 1\ntools:\n- tool: repo\n- tool: ci\n  depends_on: [repo, x.y]\n")
    assert remove_instance(path, "repo", "default") == ["repo.default"]
    assert path.read_text() == "version: 1\ntools:\n- tool: ci\n  depends_on: [x.y]\n"


def test_nothing_to_remove_names_the_file_and_changes_nothing(team: Path) -> None:
    for name, wanted in (("web", "'argocd.web'"), (None, "'jenkins'")):
        with pytest.raises(InvalidInputError) as caught:
            remove_instance(team, "argocd" if name else "jenkins", name)
        assert caught.value.message == f"{team} has no tool {wanted} to remove"
        assert caught.value.hint == f"'dtm plan -f {team}' lists the instances the file declares"
        assert caught.value.exit_code == 2
    assert team.read_text() == TEAM


def test_the_files_indentation_style_is_followed(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text("version: 1\ntools:\n- tool: a\n  options:\n      deep: 1\n")
    add_instance(path, "b", options={"x": {"y": 1}})
    assert path.read_text() == ("version: 1\ntools:\n- tool: a\n  options:\n      deep: 1\n"
                                "- tool: b\n  options:\n      x:\n          y: 1\n")


def test_a_new_file_is_created_in_the_docs_style(tmp_path: Path) -> None:
    path = tmp_path / "new.yaml"
    add_instance(path, "argocd", "main", "==3.5.1", {"namespace": "cd", "extra": ["a", "b"]})
    assert path.read_text() == """\
version: 1
tools:
  - tool: argocd
    name: main
    version: ==3.5.1
    options:
      namespace: cd
      extra:
        - a
        - b
"""
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


@pytest.mark.parametrize(("before", "after"), [
    ("# only a comment\n", "# only a comment\nversion: 1\ntools:\n- tool: x\n"),
    ("version: 1\n", "version: 1\ntools:\n- tool: x\n"),
    ("version: 1\ntools:\n", "version: 1\ntools:\n- tool: x\n"),
    ("version: 1\ntools: []  # none yet\n\n# state\nstate: {}\n",
     "version: 1\ntools:     # none yet\n- tool: x\n\n# state\nstate: {}\n"),
    ("version: 1\ntools:\n  - tool: a\n", "version: 1\ntools:\n  - tool: a\n  - tool: x\n"),
    ("---\nversion: 1\ntools:\n- tool: a\n", "---\nversion: 1\ntools:\n- tool: a\n- tool: x\n"),
    ("version: 1\r\ntools:\r\n- tool: a\r\n", "version: 1\r\ntools:\r\n- tool: a\r\n- tool: x\r\n"),
    ("version: 1\ntools:\n- tool: a", "version: 1\ntools:\n- tool: a\n- tool: x\n"),
])
def test_adding_to_files_of_every_shape(tmp_path: Path, before: str, after: str) -> None:
    path = tmp_path / "t.yaml"
    path.write_bytes(before.encode())
    add_instance(path, "x")
    assert path.read_bytes() == after.encode()


def test_the_files_mode_is_kept_and_no_temporary_file_is_left(team: Path) -> None:
    os.chmod(team, 0o600)
    add_instance(team, "jenkins")
    remove_instance(team, "jenkins", None)
    assert stat.S_IMODE(team.stat().st_mode) == 0o600
    assert [p.name for p in team.parent.iterdir()] == ["toolchain.yaml"]
    assert team.read_text() == TEAM


def test_invalid_yaml_is_a_config_error_at_its_place(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text("version: 1\ntools:\n  - tool: a\n    name: [b\n")
    with pytest.raises(ConfigError) as caught:
        add_instance(path, "x")
    assert caught.value.message.startswith(f"{path}:5:1: invalid YAML: ")
    assert caught.value.exit_code == 2


@pytest.mark.parametrize(("text", "message"), [
    ("- a\n- b\n", "1:1: expected a mapping with 'version' and 'tools' at the top level"),
    ("version: 1\ntools: {a: 1}\n", "2:8: 'tools' must be a list of tools"),
])
def test_a_file_of_the_wrong_shape_is_refused(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "t.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        add_instance(path, "x")
    assert caught.value.message == f"{path}:{message}"
    assert path.read_text() == text


def test_removing_from_a_missing_file_is_invalid_input(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError) as caught:
        remove_instance(tmp_path / "nope.yaml", "x", None)
    assert caught.value.message == f"{tmp_path / 'nope.yaml'} does not exist"
    assert caught.value.hint == "check the path given with -f"


VARIANTS = [TEAM, TEAM.replace("\n\n  # CI", "\n  # CI").replace("\n\n  # Deploy", "\n  # Deploy"),
            "version: 1\ntools:\n- tool: a   # first\n# b next\n- tool: b\n  options: {x: 1}\n# end\n"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(variant=st.sampled_from(VARIANTS),
       tool=st.from_regex(r"[a-z][a-z0-9-]{0,12}", fullmatch=True).filter(
           lambda t: t not in {"github-repo", "github-actions", "argocd", "a", "b"}),
       name=st.sampled_from(["default", "web", "x-1"]),
       version=st.sampled_from(["", ">=1", "==2.0.1"]),
       options=st.dictionaries(st.from_regex(r"[a-z_]{1,8}", fullmatch=True),
                               st.one_of(st.text(max_size=12), st.integers(), st.booleans()), max_size=3))
def test_add_then_remove_restores_the_file_byte_for_byte(
        tmp_path: Path, variant: str, tool: str, name: str, version: str, options: dict[str, object]) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(variant)
    add_instance(path, tool, name, version, options)
    assert remove_instance(path, tool, name) == [f"{tool}.{name}"]
    assert path.read_text() == variant
