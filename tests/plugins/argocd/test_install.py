"""The argocd tool against an emulated cluster: install, verify, read and drift, upgrade, remove."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from dtm_harness import DtmHarness
from kubectl import Kubectl
from releases import ReleaseServer

from dtm_core.emulators.kubernetes import KubernetesEmulator
from dtm_core.secrets import SecretRef, builtin_resolvers

WriteRegistry = Callable[[dict[str, dict[str, Any]]], Path]
NEVER_READY = {"emulator.dtm.dev/never-ready": "true"}


def edit_objects(change: Callable[[dict[str, Any]], dict[str, Any] | None]) -> Callable[[str], str]:
    """A manifest edit: ``change`` gets each object and returns it (changed), or None to drop it."""

    def edit(text: str) -> str:
        kept = [change(obj) for obj in yaml.safe_load_all(text) if obj]
        return yaml.safe_dump_all([obj for obj in kept if obj is not None], sort_keys=False)

    return edit


def without_dex(obj: dict[str, Any]) -> dict[str, Any] | None:
    return None if obj["metadata"]["name"].startswith("argocd-dex-server") else obj


def install(dtm: DtmHarness, *args: str) -> Any:
    result = dtm.run("install", *args, "-y")
    assert result.exit_code == 0, result.stderr
    return result


def server_image(cluster: KubernetesEmulator, namespace: str = "argocd") -> str:
    server = cluster.get("Deployment", "argocd-server", namespace)
    assert server is not None
    return str(server["spec"]["template"]["spec"]["containers"][0]["image"])


def argocd_objects(cluster: KubernetesEmulator, kind: str) -> list[dict[str, Any]]:
    return [obj for obj in cluster.objects(kind) if obj["metadata"]["name"].startswith("argocd")]


def outputs(dtm: DtmHarness, address: str = "argocd.default") -> dict[str, Any]:
    found: dict[str, Any] = dtm.state()["instances"][address]["outputs"]
    return found


def test_install_applies_the_release_and_waits_until_every_workload_is_ready(
        argocd_dtm: DtmHarness, cluster: KubernetesEmulator, kubectl: Kubectl) -> None:
    # Long enough that applying the 59 objects, even on a busy machine, ends well before
    # argocd-server is ready: dtm must be seen waiting for it.
    cluster.ready_delay = 1.5
    result = install(argocd_dtm, "argocd")
    assert "applying 59 objects of Argo CD 3.5.1 to argocd" in result.stderr
    assert "waiting for deployment argocd/argocd-server" in result.stderr
    for kind in ("Deployment", "StatefulSet"):
        for workload in cluster.objects(kind, "argocd"):
            assert workload["status"]["readyReplicas"] == 1, workload["metadata"]["name"]
            assert workload["metadata"]["labels"]["dtm.dev/instance"] == "argocd.default"
    assert server_image(cluster) == "quay.io/argoproj/argocd:v3.5.1"
    # The real kubectl agrees, and finds Argo CD's own kinds served.
    kubectl.ok("-n", "argocd", "wait", "--for=condition=Available", "deployment", "--all", "--timeout=10s")
    assert "applications" in kubectl.ok("api-resources", "--api-group=argoproj.io", "-o", "name")
    found = outputs(argocd_dtm)
    assert (found["namespace"], found["server_url"], found["version"], found["ready"]) == (
        "argocd", "https://argocd-server.argocd.svc", "3.5.1", True)
    assert "deployment argocd/argocd-repo-server" in found["objects"]


def test_the_admin_password_is_a_reference_and_its_value_is_never_stored_or_shown(
        argocd_dtm: DtmHarness, cluster: KubernetesEmulator, kubectl: Kubectl) -> None:
    result = install(argocd_dtm, "argocd")
    ref = outputs(argocd_dtm)["admin_password"]
    assert ref == "k8s-secret:argocd/argocd-initial-admin-secret/password"
    resolvers = builtin_resolvers({key: argocd_dtm.env[key] for key in ("KUBECONFIG", "HOME")})
    scheme, target = ref.split(":", 1)
    password = resolvers[scheme](target)
    # kubectl reads the same password from the Secret Argo CD's server wrote.
    import base64

    encoded = kubectl.ok("-n", "argocd", "get", "secret", "argocd-initial-admin-secret",
                         "-o", "jsonpath={.data.password}")
    assert base64.b64decode(encoded).decode() == password and len(password) >= 12
    assert password not in (argocd_dtm.home / "data" / "state" / "state.json").read_text()
    assert password not in result.stdout + result.stderr
    info = argocd_dtm.run("list", "-o", "json")
    assert password not in info.stdout
    assert SecretRef.parse(ref).scheme == "k8s-secret"


def test_another_namespace_gets_the_cluster_role_bindings_and_service_type_it_needs(
        argocd_dtm: DtmHarness, cluster: KubernetesEmulator) -> None:
    install(argocd_dtm, "argocd", "--set", "namespace=cd", "--set", "server_service_type=NodePort")
    bindings = argocd_objects(cluster, "ClusterRoleBinding")
    assert bindings and {s["namespace"] for b in bindings for s in b["subjects"]} == {"cd"}
    service = cluster.get("Service", "argocd-server", "cd")
    assert service is not None and service["spec"]["type"] == "NodePort"
    assert outputs(argocd_dtm)["server_url"] == "https://argocd-server.cd.svc"
    assert cluster.get("Namespace", "argocd") is None


def test_a_second_install_reads_the_verified_manifest_from_the_cache(
        argocd_dtm: DtmHarness, releases: ReleaseServer) -> None:
    install(argocd_dtm, "argocd")
    assert argocd_dtm.run("remove", "argocd", "-y").exit_code == 0
    install(argocd_dtm, "argocd")
    assert releases.downloads == ["/v3.5.1/install.yaml"]


def test_a_manifest_that_does_not_match_the_registry_sha256_is_not_applied(
        argocd_dtm: DtmHarness, cluster: KubernetesEmulator, releases: ReleaseServer,
        write_registry: WriteRegistry) -> None:
    tampered = releases.add("3.5.1", "tampered", edit=lambda text: text + "\n# changed\n")
    write_registry({"3.5.1": {"manifest": {**tampered, "sha256": hashlib.sha256(b"other").hexdigest()}}})
    result = argocd_dtm.run("install", "argocd", "-y")
    assert result.exit_code == 1
    assert "argocd.default: sha256 mismatch for argocd 3.5.1 manifest from http://127.0.0.1:" in result.stderr
    assert "Traceback" not in result.stderr
    assert cluster.get("Namespace", "argocd") is None
    assert "argocd.default" not in argocd_dtm.state().get("instances", {})


def test_an_unverified_ha_manifest_needs_allow_unverified(
        argocd_dtm: DtmHarness, cluster: KubernetesEmulator, releases: ReleaseServer,
        write_registry: WriteRegistry) -> None:
    verified = releases.add("3.5.1")
    ha = {"url": releases.add("3.5.1", "ha-install")["url"]}  # listed without a sha256
    write_registry({"3.5.1": {"manifest": verified, "ha_manifest": ha}})
    refused = argocd_dtm.run("install", "argocd", "--set", "ha=true", "-y")
    assert refused.exit_code == 3
    assert "argocd 3.5.1 ha_manifest has no sha256 in the registry" in refused.stderr
    assert "hint: pass --allow-unverified" in refused.stderr
    assert cluster.get("Namespace", "argocd") is None
    install(argocd_dtm, "argocd", "--set", "ha=true", "--allow-unverified")
    assert cluster.get("Deployment", "argocd-server", "argocd") is not None


def test_an_air_gapped_install_reads_a_local_manifest_checked_against_the_registry(
        argocd_dtm: DtmHarness, cluster: KubernetesEmulator, releases: ReleaseServer, tmp_path: Path) -> None:
    local = tmp_path / "mirror" / "install.yaml"
    local.parent.mkdir()
    local.write_bytes(releases.upstream)
    releases.close()  # nothing is reachable but the file
    install(argocd_dtm, "argocd", "--set", f"manifest_url={local}")
    assert server_image(cluster) == "quay.io/argoproj/argocd:v3.5.1"


def test_an_unreachable_cluster_is_one_line_and_records_nothing(
        argocd_dtm: DtmHarness, tmp_path: Path) -> None:
    config = tmp_path / "unreachable"
    config.write_text(json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "gone",
        "clusters": [{"name": "gone", "cluster": {"server": "https://127.0.0.1:9"}}],
        "users": [{"name": "u", "user": {"token": "t"}}],
        "contexts": [{"name": "gone", "context": {"cluster": "gone", "user": "u"}}]}))
    result = argocd_dtm.run("install", "argocd", "--set", f"kubeconfig={config}", "-y")
    assert result.exit_code == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith(("error:", "hint:"))]
    assert errors[0].startswith(
        "error: transaction 1 failed: argocd.default: cannot reach the Kubernetes API at https://127.0.0.1:9")
    assert errors[1].startswith("hint: ")
    assert "Traceback" not in result.stderr
    assert "argocd.default" not in argocd_dtm.state().get("instances", {})


def test_a_deployment_that_never_becomes_ready_times_out_naming_it(
        argocd_dtm: DtmHarness, releases: ReleaseServer, write_registry: WriteRegistry) -> None:
    def stuck(obj: dict[str, Any]) -> dict[str, Any]:
        if obj["kind"] == "Deployment" and obj["metadata"]["name"] == "argocd-repo-server":
            obj["metadata"]["annotations"] = {**obj["metadata"].get("annotations", {}), **NEVER_READY}
        return obj

    write_registry({"3.5.1": {"manifest": releases.add("3.5.1", "stuck", edit=edit_objects(stuck))}})
    result = argocd_dtm.run("install", "argocd", "--set", "timeout=2", "-y")
    assert result.exit_code == 1
    assert ("error: transaction 1 failed: argocd.default: timed out after 2 s waiting for deployment "
            "argocd/argocd-repo-server to become ready (0/1 replicas ready)") in result.stderr
    assert ("hint: see why with 'kubectl describe deployment.apps argocd-repo-server -n argocd' and "
            "'kubectl get events -n argocd'") in result.stderr
    assert "Traceback" not in result.stderr


def test_upgrade_moves_every_component_and_prunes_what_the_new_release_dropped(
        argocd_dtm: DtmHarness, cluster: KubernetesEmulator, releases: ReleaseServer,
        write_registry: WriteRegistry) -> None:
    upstream = {"url": f"{releases.url}/v3.5.1/install.yaml",
                "sha256": hashlib.sha256(releases.upstream).hexdigest()}
    write_registry({"3.5.1": {"manifest": upstream}})
    install(argocd_dtm, "argocd")
    assert cluster.get("Deployment", "argocd-dex-server", "argocd") is not None
    # A new release reaches the index; this one dropped Dex.
    newer = releases.add("3.6.0", edit=edit_objects(without_dex))
    write_registry({"3.5.1": {"manifest": upstream}, "3.6.0": {"manifest": newer}})
    upgraded = argocd_dtm.run("upgrade", "-y")
    assert upgraded.exit_code == 0, upgraded.stderr
    assert server_image(cluster) == "quay.io/argoproj/argocd:v3.6.0"
    assert cluster.get("Deployment", "argocd-dex-server", "argocd") is None
    assert cluster.get("Service", "argocd-dex-server", "argocd") is None
    recorded = argocd_dtm.state()["instances"]["argocd.default"]
    assert (recorded["version"], recorded["outputs"]["version"]) == ("3.6.0", "3.6.0")


@pytest.mark.parametrize("delete_crds", [False, True])
def test_remove_deletes_what_dtm_applied_and_keeps_the_crds_unless_asked(
        argocd_dtm: DtmHarness, cluster: KubernetesEmulator, delete_crds: bool) -> None:
    install(argocd_dtm, "argocd", "--set", f"delete_crds={str(delete_crds).lower()}")
    result = argocd_dtm.run("remove", "argocd", "-y")
    assert result.exit_code == 0, result.stderr
    assert cluster.get("Namespace", "argocd") is None
    assert argocd_objects(cluster, "ClusterRoleBinding") == []
    crds = [c["metadata"]["name"] for c in cluster.objects("CustomResourceDefinition")]
    expected = [] if delete_crds else ["applications.argoproj.io", "applicationsets.argoproj.io",
                                       "appprojects.argoproj.io"]
    assert sorted(crds) == expected
    assert argocd_dtm.state()["instances"] == {}
