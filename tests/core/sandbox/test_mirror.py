"""The release mirror and the sandbox registry index: Argo CD installed offline, verified, seen by kubectl."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any
from urllib.request import urlopen

import pytest
from kubectl import KUBECTL, Kubectl
from sandbox_harness import Sandbox

from dtm_core.sandbox.index import bundled_index, sandbox_index
from dtm_core.sandbox.service import MirroredArtifact
from dtm_core.sandbox.standins import install_objects

UPSTREAM = "https://raw.githubusercontent.com/argoproj/argo-cd/v{}/manifests/install.yaml"
#: Upstream's digest of 3.5.1's install.yaml, as the bundled index lists it.
UPSTREAM_SHA = "795a3a972224da6a7f9d32c3e946445f062b60fb46028476715affeb688236e3"


def argocd_artifacts(index: dict[str, Any], version: str) -> dict[str, Any]:
    found: dict[str, Any] = index["tools"]["argocd"]["versions"][version]["artifacts"]
    return found


def download(url: str) -> bytes:
    with urlopen(url, timeout=10) as reply:
        body: bytes = reply.read()
    return body


def test_the_mirror_serves_stand_ins_whose_digest_the_sandbox_registry_lists(sandbox: Sandbox) -> None:
    sandbox.up()
    env = sandbox.env()
    index = json.loads(Path(env["DTM_REGISTRY"]).read_text())
    mirror = next(s for s in sandbox.state()["services"] if s["name"] == "releases")["urls"]["url"]

    for version in index["tools"]["argocd"]["versions"]:
        for artifact in argocd_artifacts(index, version).values():
            assert artifact["url"].startswith(mirror + "/argoproj/argo-cd/v" + version + "/manifests/")
            body = download(artifact["url"])
            assert hashlib.sha256(body).hexdigest() == artifact["sha256"]
            assert b"a stand-in" in body and b"name: argocd-server\n" in body
    # Everything but the artifact URLs and digests is the bundled index, unchanged.
    assert {name: entry["description"] for name, entry in index["tools"].items()} == {
        name: entry["description"] for name, entry in bundled_index()["tools"].items()}


def test_argocd_installs_offline_from_the_mirror_and_kubectl_sees_it(sandbox: Sandbox,
                                                                    tmp_path: Path) -> None:
    if not KUBECTL.exists():
        pytest.skip("kubectl is not installed")
    sandbox.up()
    env = sandbox.env()
    kubectl = Kubectl(tmp_path / "kubectl-home", Path(env["KUBECONFIG"]))
    assert "kube-system" in kubectl.ok("get", "namespaces")
    sandbox.dtm.env.update(env, DTM_PLUGINS="", DTM_LOAD_PLUGINS="argocd")

    installed = sandbox.dtm.run("install", "argocd", "-y")

    assert installed.exit_code == 0, installed.stderr
    deployments = kubectl.ok("get", "deployments", "-A", "-o", "name").split()
    assert "deployment.apps/argocd-server" in deployments and len(deployments) == 6
    assert kubectl.ok("get", "applications", "-A", "-o", "name") == ""  # the CRD is served
    holds = json.loads(sandbox.run("status", "-o", "json").stdout)["services"]
    assert holds[3]["holds"]["downloaded"] == ["argoproj/argo-cd/v3.5.1/manifests/install.yaml"]
    assert "argocd/argocd-server (1/1 ready)" in holds[0]["holds"]["workloads"]


def test_mirror_dir_serves_real_files_under_upstream_digests(sandbox: Sandbox, tmp_path: Path) -> None:
    downloaded = tmp_path / "mirror" / "argoproj" / "argo-cd" / "v3.5.1" / "manifests" / "install.yaml"
    downloaded.parent.mkdir(parents=True)
    downloaded.write_bytes(b"# pretend this is the real release\n")

    sandbox.up("--mirror", str(tmp_path / "mirror"))

    index = json.loads(Path(sandbox.env()["DTM_REGISTRY"]).read_text())
    manifest = argocd_artifacts(index, "3.5.1")["manifest"]
    assert download(manifest["url"]) == downloaded.read_bytes()
    assert manifest["sha256"] == UPSTREAM_SHA  # so this pretend copy would fail verification
    # What the directory lacks still points upstream: no stand-in is mixed in.
    assert argocd_artifacts(index, "3.4.5")["manifest"] == {"url": UPSTREAM.format("3.4.5")}


def test_sandbox_index_rewrites_only_claimed_artifacts() -> None:
    index = {"tools": {"a": {"versions": {"1": {"artifacts": {
        "x": {"url": "https://up/x", "sha256": "0" * 64}, "y": {"url": "https://up/y"}, "z": "text"}}}}}}
    claims = {"https://up/x": MirroredArtifact("http://m/x", "1" * 64), "https://up/y": MirroredArtifact("http://m/y")}

    rewritten, urls = sandbox_index(index, claims.get)

    assert rewritten["tools"]["a"]["versions"]["1"]["artifacts"] == {
        "x": {"url": "http://m/x", "sha256": "1" * 64}, "y": {"url": "http://m/y"}, "z": "text"}
    assert urls == ["https://up/x", "https://up/y"]
    assert index["tools"]["a"]["versions"]["1"]["artifacts"]["x"]["url"] == "https://up/x"  # a copy


def test_stand_ins_carry_the_release_component_names() -> None:
    objects = install_objects("3.5.1", ha=True)
    names = {(o["kind"], o["metadata"]["name"]) for o in objects}

    assert {("Deployment", name) for name in ("argocd-server", "argocd-repo-server", "argocd-redis",
                                               "argocd-dex-server", "argocd-applicationset-controller",
                                               "argocd-notifications-controller")} <= names
    assert ("StatefulSet", "argocd-application-controller") in names
    assert ("CustomResourceDefinition", "applications.argoproj.io") in names
    server = next(o for o in objects if (o["kind"], o["metadata"]["name"]) == ("Deployment", "argocd-server"))
    assert server["spec"]["replicas"] == 2
    assert server["spec"]["template"]["spec"]["containers"][0]["image"] == "quay.io/argoproj/argocd:v3.5.1"
    assert all(o["metadata"]["annotations"]["sandbox.dtm.dev/stand-in"] == "true" for o in objects)
