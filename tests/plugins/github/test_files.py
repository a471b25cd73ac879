"""What the plugin writes, checked without GitHub: workflow and starter files, blob shas, sealed secrets."""

from __future__ import annotations

import io
import json
import tomllib
from base64 import b64decode, b64encode
from typing import Any

import pytest
from dtm_plugins_github.actions_secrets import check_names, seal
from dtm_plugins_github.gitdata import blob_sha
from dtm_plugins_github.starters import python_package, starter_files
from dtm_plugins_github.workflows import LANGUAGES, check_image, registry_of, workflow_files
from nacl.public import PrivateKey, SealedBox
from ruamel.yaml import YAML

from dtm_core import OperationError


def yaml(data: bytes) -> Any:
    return YAML(typ="safe").load(io.BytesIO(data))


def test_blob_sha_is_gits() -> None:
    # `printf 'hello\n' | git hash-object --stdin`
    assert blob_sha(b"hello\n") == "ce013625030ba8dba906f756967f9e9ca394464a"
    assert blob_sha(b"") == "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"


@pytest.mark.parametrize("language", LANGUAGES)
def test_each_language_has_a_lint_and_a_ci_workflow_for_the_branch(language: str) -> None:
    files = workflow_files(language, branch="main", address="github-actions.ci", image=None)
    assert sorted(files) == [".github/workflows/ci.yml", ".github/workflows/lint.yml"]
    ci, lint = yaml(files[".github/workflows/ci.yml"]), yaml(files[".github/workflows/lint.yml"])
    assert ci["on"]["push"]["branches"] == ["main"] and ci["on"]["pull_request"]["branches"] == ["main"]
    assert set(ci["jobs"]) == {"test", "build"} and ci["jobs"]["build"]["needs"] == ["test"]
    assert set(lint["jobs"]) == {"lint"}
    assert b"github-actions.ci" in files[".github/workflows/ci.yml"]


def test_the_image_job_pushes_to_ghcr_with_the_workflows_own_token() -> None:
    files = workflow_files("go", branch="release/1.x", address="a.b", image="ghcr.io/Acme/App")
    ci = yaml(files[".github/workflows/ci.yml"])
    assert ci["on"]["push"]["branches"] == ["release/1.x"]
    job = ci["jobs"]["image"]
    assert job["needs"] == ["test"] and job["permissions"]["packages"] == "write"
    login = next(s for s in job["steps"] if s.get("uses", "").startswith("docker/login-action"))
    assert login["with"] == {"registry": "ghcr.io", "username": "${{ github.actor }}",
                             "password": "${{ secrets.GITHUB_TOKEN }}"}
    push = next(s for s in job["steps"] if s.get("uses", "").startswith("docker/build-push-action"))
    assert push["with"]["tags"].splitlines() == ["ghcr.io/acme/app:${{ github.sha }}",
                                                 "ghcr.io/acme/app:latest"]


def test_other_registries_need_registry_secrets() -> None:
    assert registry_of("acme/app") is None
    assert registry_of("registry.example:5000/app") == "registry.example:5000"
    with pytest.raises(OperationError, match="REGISTRY_USERNAME and REGISTRY_PASSWORD"):
        check_image("quay.io/acme/app", {"OTHER"})
    check_image("quay.io/acme/app", {"REGISTRY_USERNAME", "REGISTRY_PASSWORD"})
    with pytest.raises(OperationError, match="not an image name"):
        check_image("ghcr.io/acme/app:1.0", set())
    files = workflow_files("node", branch="main", address="a.b", image="acme/app")
    ci = yaml(files[".github/workflows/ci.yml"])
    login = next(s for s in ci["jobs"]["image"]["steps"] if "login" in s.get("uses", ""))
    assert login["with"] == {"username": "${{ secrets.REGISTRY_USERNAME }}",
                             "password": "${{ secrets.REGISTRY_PASSWORD }}"}


def test_starter_files_are_valid_for_their_tools() -> None:
    description = 'The "best" app: \\o/'
    py = starter_files("python", owner="acme", name="my-App.v2", description=description,
                       html_url="https://github.com/acme/my-App.v2")
    assert sorted(py) == [".gitignore", "pyproject.toml", "src/my_app_v2/__init__.py", "tests/test_hello.py"]
    project = tomllib.loads(py["pyproject.toml"].decode())["project"]
    assert project["name"] == "my-App.v2" and project["description"] == description
    assert b"from my_app_v2 import hello" in py["tests/test_hello.py"]
    compile(py["src/my_app_v2/__init__.py"], "init", "exec")
    go = starter_files("go", owner="acme", name="svc", description=None, html_url="https://ghe.example/acme/svc")
    assert go["go.mod"].startswith(b"module ghe.example/acme/svc\n")
    node = starter_files("node", owner="acme", name="Web UI", description=None, html_url="")
    assert json.loads(node["package.json"])["name"] == "web-ui"
    assert python_package("3d") == "app_3d"


def test_secrets_are_sealed_for_the_repository_key() -> None:
    key = PrivateKey.generate()
    sealed = seal(b64encode(bytes(key.public_key)).decode(), "s3cret value")
    assert SealedBox(key).decrypt(b64decode(sealed)) == b"s3cret value"


def test_secret_names_follow_githubs_rules() -> None:
    check_names(["DOCKER_PASSWORD", "_x", "a1"])
    for bad in ("1ABC", "WITH-DASH", "GITHUB_TOKEN", "github_x", ""):
        with pytest.raises(OperationError, match="not a valid Actions secret name"):
            check_names([bad])
