"""The jenkins tool against an emulated cluster: install, admin secret, drift, upgrade, options, remove."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from dtm_harness import DtmHarness
from dtm_plugins_jenkins.cluster import same_quantity
from dtm_plugins_jenkins.install import image_version
from kubectl import Kubectl

from dtm_core.emulators.kubernetes import KubernetesEmulator
from dtm_core.secrets import builtin_resolvers

ADDRESS = "jenkins.default"
LATEST = "2.541.3"
OLDER = "2.528.3"
PASSWORD_REF = "k8s-secret:jenkins/jenkins-admin/jenkins-admin-password"
MANAGED = {"app.kubernetes.io/managed-by": "dtm", "dtm.dev/instance": ADDRESS}
SELECTOR = {"app.kubernetes.io/name": "jenkins", "app.kubernetes.io/instance": "default"}
OBJECTS = ["namespace jenkins", "secret jenkins/jenkins-admin", "serviceaccount jenkins/jenkins",
           "configmap jenkins/jenkins-init", "persistentvolumeclaim jenkins/jenkins",
           "service jenkins/jenkins", "service jenkins/jenkins-agent", "statefulset jenkins/jenkins"]


def install(dtm: DtmHarness, *args: str) -> Any:
    result = dtm.run("install", "jenkins", *args, "-y")
    assert result.exit_code == 0, result.stderr
    return result


def run_ok(dtm: DtmHarness, *args: str) -> Any:
    result = dtm.run(*args)
    assert result.exit_code == 0, result.stderr
    return result


def outputs(dtm: DtmHarness) -> dict[str, Any]:
    found: dict[str, Any] = dtm.state()["instances"][ADDRESS]["outputs"]
    return found


def live(cluster: KubernetesEmulator, kind: str, name: str = "jenkins", namespace: str = "jenkins"
         ) -> dict[str, Any]:
    found = cluster.get(kind, name, namespace)
    assert found is not None, f"{kind} {namespace}/{name} does not exist"
    return found


def container(cluster: KubernetesEmulator, namespace: str = "jenkins") -> dict[str, Any]:
    found: dict[str, Any] = live(cluster, "StatefulSet", namespace=namespace)["spec"]["template"]["spec"][
        "containers"][0]
    return found


def password(dtm: DtmHarness, ref: str = PASSWORD_REF) -> str:
    """What dtm hands a tool that refers to the admin password: the Secret's value, read when needed."""
    scheme, target = ref.split(":", 1)
    resolved: str = builtin_resolvers({k: dtm.env[k] for k in ("KUBECONFIG", "HOME")})[scheme](target)
    return resolved


def status(dtm: DtmHarness) -> dict[str, Any]:
    rows = json.loads(run_ok(dtm, "status", "-o", "json").stdout)
    found: dict[str, Any] = {row["address"]: row for row in rows}[ADDRESS]
    return found


def test_install_runs_jenkins_in_a_statefulset_on_its_volume_and_waits_until_ready(
        jenkins_dtm: DtmHarness, cluster: KubernetesEmulator, kubectl: Kubectl) -> None:
    cluster.ready_delay = 1.5  # dtm must be seen waiting, however busy the machine
    result = install(jenkins_dtm)
    assert f"applying Jenkins {LATEST} to namespace jenkins (dtm-sandbox)" in result.stderr
    assert "generating the admin password into secret jenkins/jenkins-admin" in result.stderr
    assert "waiting for statefulset jenkins/jenkins (0/1 ready)" in result.stderr
    for ref in OBJECTS:
        kind, _, where = ref.partition(" ")
        namespace, _, name = where.rpartition("/")
        labels = live(cluster, kind, name, namespace)["metadata"]["labels"]
        assert MANAGED.items() <= labels.items(), ref
    controller = live(cluster, "StatefulSet")
    assert controller["status"]["readyReplicas"] == 1
    assert controller["spec"]["selector"]["matchLabels"] == SELECTOR
    jenkins = container(cluster)
    assert jenkins["image"] == f"jenkins/jenkins:{LATEST}-lts-jdk21"
    assert [p["containerPort"] for p in jenkins["ports"]] == [8080, 50000]
    assert jenkins["readinessProbe"]["httpGet"] == {"path": "/login", "port": "http"}
    env = {e["name"]: e.get("value", e.get("valueFrom")) for e in jenkins["env"]}
    assert "-Djenkins.install.runSetupWizard=false" in env["JAVA_OPTS"]
    assert env["JENKINS_ADMIN_ID"] == {"secretKeyRef": {"name": "jenkins-admin", "key": "jenkins-admin-user"}}
    assert env["JENKINS_ADMIN_PASSWORD"] == {
        "secretKeyRef": {"name": "jenkins-admin", "key": "jenkins-admin-password"}}
    assert jenkins["resources"] == {"requests": {"cpu": "500m", "memory": "2Gi"}, "limits": {"memory": "2Gi"}}
    # The admin script reaches the image's reference directory as one file, next to the image's own.
    mount = next(m for m in jenkins["volumeMounts"] if m["name"] == "init")
    assert mount["mountPath"] == "/usr/share/jenkins/ref/init.groovy.d/dtm-admin.groovy.override"
    script = live(cluster, "ConfigMap", "jenkins-init")["data"]["dtm-admin.groovy.override"]
    assert "System.getenv('JENKINS_ADMIN_PASSWORD')" in script and "HudsonPrivateSecurityRealm" in script
    volume = live(cluster, "PersistentVolumeClaim")
    assert volume["spec"]["resources"]["requests"]["storage"] == "8Gi"
    assert volume["spec"]["accessModes"] == ["ReadWriteOnce"] and "storageClassName" not in volume["spec"]
    assert live(cluster, "Service")["spec"]["type"] == "ClusterIP"
    assert live(cluster, "Service", "jenkins-agent")["spec"]["ports"][0]["port"] == 50000
    # The real kubectl agrees that the rollout is complete.
    assert "roll out complete" in kubectl.ok("-n", "jenkins", "rollout", "status", "statefulset/jenkins",
                                             "--timeout=10s")
    found = outputs(jenkins_dtm)
    assert {k: found[k] for k in ("url", "namespace", "admin_user", "version", "ready")} == {
        "url": "http://jenkins.jenkins.svc:8080/", "namespace": "jenkins", "admin_user": "admin",
        "version": LATEST, "ready": True}
    assert found["objects"] == OBJECTS
    assert status(jenkins_dtm)["live"] == "ok"


def test_the_admin_password_is_generated_into_a_secret_and_only_a_reference_is_kept(
        jenkins_dtm: DtmHarness, kubectl: Kubectl) -> None:
    result = install(jenkins_dtm)
    assert outputs(jenkins_dtm)["admin_password"] == PASSWORD_REF
    secret = password(jenkins_dtm)
    encoded = kubectl.ok("-n", "jenkins", "get", "secret", "jenkins-admin",
                         "-o", "jsonpath={.data.jenkins-admin-password}")
    assert base64.b64decode(encoded).decode() == secret and len(secret) >= 24
    user = kubectl.ok("-n", "jenkins", "get", "secret", "jenkins-admin",
                      "-o", "jsonpath={.data.jenkins-admin-user}")
    assert base64.b64decode(user).decode() == "admin"
    shown = [result.stdout, result.stderr, run_ok(jenkins_dtm, "list", "-o", "json").stdout,
             run_ok(jenkins_dtm, "status", "-o", "json").stdout]
    stored = [path.read_text(errors="replace") for path in jenkins_dtm.home.rglob("*") if path.is_file()]
    assert stored and not any(secret in text for text in shown + stored)


def test_upgrade_moves_the_image_and_keeps_the_password_and_the_volume(
        jenkins_dtm: DtmHarness, cluster: KubernetesEmulator, list_versions: Callable[..., None]) -> None:
    list_versions(OLDER)
    install(jenkins_dtm)
    assert container(cluster)["image"] == f"jenkins/jenkins:{OLDER}-lts-jdk21"
    before = password(jenkins_dtm), live(cluster, "PersistentVolumeClaim")["metadata"]["uid"]
    list_versions()
    upgraded = run_ok(jenkins_dtm, "upgrade", "-y")
    assert "generating" not in upgraded.stderr
    assert container(cluster)["image"] == f"jenkins/jenkins:{LATEST}-lts-jdk21"
    assert live(cluster, "StatefulSet")["status"]["readyReplicas"] == 1
    assert (password(jenkins_dtm), live(cluster, "PersistentVolumeClaim")["metadata"]["uid"]) == before
    recorded = jenkins_dtm.state()["instances"][ADDRESS]
    assert (recorded["version"], recorded["outputs"]["version"]) == (LATEST, LATEST)


def test_options_shape_the_objects_and_read_back_without_drift(
        jenkins_dtm: DtmHarness, cluster: KubernetesEmulator) -> None:
    install(jenkins_dtm, "--set", "namespace=ci", "--set", "service_type=NodePort", "--set", "storage=20Gi",
            "--set", "storage_class=fast", "--set", "cpu=1500m", "--set", "cpu_limit=\"2\"",
            "--set", "memory=4Gi", "--set", "admin_user=root", "--set", "java_opts=-Xmx2g",
            "--set", f"image=mirror.example/jenkins/jenkins:{LATEST}-lts-jdk21")
    assert cluster.get("Namespace", "jenkins") is None
    assert live(cluster, "Service", namespace="ci")["spec"]["type"] == "NodePort"
    assert live(cluster, "Service", "jenkins-agent", "ci")["spec"]["type"] == "ClusterIP"
    volume = live(cluster, "PersistentVolumeClaim", namespace="ci")["spec"]
    assert (volume["resources"]["requests"]["storage"], volume["storageClassName"]) == ("20Gi", "fast")
    jenkins = container(cluster, "ci")
    assert jenkins["image"] == f"mirror.example/jenkins/jenkins:{LATEST}-lts-jdk21"
    assert jenkins["resources"] == {"requests": {"cpu": "1500m", "memory": "4Gi"},
                                    "limits": {"cpu": "2", "memory": "4Gi"}}
    assert next(e for e in jenkins["env"] if e["name"] == "JAVA_OPTS")["value"] == (
        "-Djenkins.install.runSetupWizard=false -Xmx2g")
    found = outputs(jenkins_dtm)
    assert (found["url"], found["admin_user"], found["admin_password"]) == (
        "http://jenkins.ci.svc:8080/", "root", "k8s-secret:ci/jenkins-admin/jenkins-admin-password")
    assert status(jenkins_dtm)["live"] == "ok"


def test_a_toolchain_change_updates_in_place_and_a_new_namespace_leaves_the_old_volume(
        jenkins_dtm: DtmHarness, cluster: KubernetesEmulator, tmp_path: Path) -> None:
    toolchain = tmp_path / "toolchain.yaml"

    def apply(**options: str) -> Any:
        lines = "".join(f"      {key}: {value}\n" for key, value in options.items())
        toolchain.write_text(f"version: 1\ntools:\n  - tool: jenkins\n    options:\n{lines}",
                             encoding="utf-8")
        return run_ok(jenkins_dtm, "apply", "-f", str(toolchain), "-y")

    apply(memory="2Gi")
    first = password(jenkins_dtm), live(cluster, "StatefulSet")["metadata"]["generation"]
    apply(memory="3Gi", service_type="LoadBalancer")
    assert container(cluster)["resources"]["limits"] == {"memory": "3Gi"}
    assert live(cluster, "Service")["spec"]["type"] == "LoadBalancer"
    assert password(jenkins_dtm) == first[0]
    assert live(cluster, "StatefulSet")["metadata"]["generation"] > first[1]
    assert run_ok(jenkins_dtm, "plan", "-f", str(toolchain), "--detailed-exitcode").exit_code == 0
    # Another namespace: the objects move, but the old Jenkins home (and the namespace holding it) stay.
    moved = apply(memory="3Gi", namespace="ci")
    assert "keeping persistentvolumeclaim jenkins/jenkins (the Jenkins home: jobs and build history)" in (
        moved.stderr)
    assert live(cluster, "StatefulSet", namespace="ci")["status"]["readyReplicas"] == 1
    assert cluster.get("StatefulSet", "jenkins", "jenkins") is None
    assert cluster.get("Secret", "jenkins-admin", "jenkins") is None
    assert live(cluster, "PersistentVolumeClaim")["metadata"]["labels"]["dtm.dev/instance"] == ADDRESS
    assert live(cluster, "Namespace", "jenkins", "") is not None


def test_objects_deleted_with_kubectl_are_drift_and_reinstall_puts_them_back(
        jenkins_dtm: DtmHarness, cluster: KubernetesEmulator, kubectl: Kubectl) -> None:
    install(jenkins_dtm)
    old_password = password(jenkins_dtm)
    old_uid = live(cluster, "StatefulSet")["spec"]["template"]["metadata"]["annotations"][
        "dtm.dev/admin-secret-uid"]
    kubectl.ok("-n", "jenkins", "delete", "service", "jenkins-agent", "--wait=true")
    kubectl.ok("-n", "jenkins", "delete", "secret", "jenkins-admin", "--wait=true")
    row = status(jenkins_dtm)
    assert row["live"] == "drifted"
    assert row["reasons"] == ["drifted: secret jenkins/jenkins-admin is missing, "
                              "service jenkins/jenkins-agent is missing"]
    result = run_ok(jenkins_dtm, "reinstall", "jenkins", "-y")
    assert "generating the admin password into secret jenkins/jenkins-admin" in result.stderr
    assert live(cluster, "Service", "jenkins-agent") is not None
    # A new Secret means a new password; the pod restarts so Jenkins's start-up script sets it.
    assert password(jenkins_dtm) != old_password
    template = live(cluster, "StatefulSet")["spec"]["template"]["metadata"]["annotations"]
    assert template["dtm.dev/admin-secret-uid"] == live(cluster, "Secret", "jenkins-admin")["metadata"]["uid"]
    assert template["dtm.dev/admin-secret-uid"] != old_uid
    kubectl.ok("-n", "jenkins", "rollout", "status", "statefulset/jenkins", "--timeout=10s")
    assert status(jenkins_dtm)["live"] == "ok"


def test_an_image_changed_by_hand_is_drift_naming_the_version(
        jenkins_dtm: DtmHarness, cluster: KubernetesEmulator, kubectl: Kubectl) -> None:
    install(jenkins_dtm)
    kubectl.ok("-n", "jenkins", "set", "image", "statefulset/jenkins",
               f"jenkins=jenkins/jenkins:{OLDER}-lts-jdk21")
    row = status(jenkins_dtm)
    assert row["reasons"] == [f"drifted: Jenkins {OLDER} is running, not {LATEST}"]
    run_ok(jenkins_dtm, "reinstall", "jenkins", "-y")
    assert container(cluster)["image"] == f"jenkins/jenkins:{LATEST}-lts-jdk21"


def test_a_service_changed_by_hand_is_drift_by_option_name(
        jenkins_dtm: DtmHarness, cluster: KubernetesEmulator, kubectl: Kubectl) -> None:
    install(jenkins_dtm)
    kubectl.ok("-n", "jenkins", "patch", "service", "jenkins", "--type", "merge",
               "-p", '{"spec":{"type":"NodePort"}}')
    assert status(jenkins_dtm)["reasons"] == ["drifted: service_type (live 'NodePort', want 'ClusterIP')"]
    run_ok(jenkins_dtm, "reinstall", "jenkins", "-y")
    assert live(cluster, "Service")["spec"]["type"] == "ClusterIP"


@pytest.mark.parametrize(("live_value", "wanted", "same"), [
    ("500m", "0.5", True), ("8Gi", "8192Mi", True), ("1k", "1e3", True), ("2", "2000m", True),
    ("8Gi", "8G", False), ("8GB", "8GB", False), (None, "1", False)])
def test_quantities_compare_by_value_as_the_api_server_rewrites_them(
        live_value: str | None, wanted: str, same: bool) -> None:
    assert same_quantity(live_value, wanted) is same


@pytest.mark.parametrize(("image", "version"), [
    ("jenkins/jenkins:2.541.3-lts-jdk21", "2.541.3"),
    ("registry:5000/jenkins/jenkins:2.528.3-lts", "2.528.3"),
    ("jenkins/jenkins:lts-jdk21", None), ("registry:5000/jenkins/jenkins", None),
    ("jenkins/jenkins:2.541.3@sha256:" + "0" * 64, "2.541.3")])
def test_the_running_version_is_read_from_the_image_tag(image: str, version: str | None) -> None:
    assert image_version(image) == version


def test_remove_keeps_the_jenkins_home_and_a_later_install_takes_it_up_again(
        jenkins_dtm: DtmHarness, cluster: KubernetesEmulator) -> None:
    install(jenkins_dtm)
    volume_uid = live(cluster, "PersistentVolumeClaim")["metadata"]["uid"]
    result = run_ok(jenkins_dtm, "remove", "jenkins", "-y")
    assert "keeping persistentvolumeclaim jenkins/jenkins" in result.stderr
    assert ("keeping namespace jenkins: deleting it would delete the Jenkins home volume in it"
            in result.stderr)
    left = sorted(f"{o['kind']} {o['metadata']['name']}" for o in cluster.objects(namespace="jenkins"))
    assert left == ["PersistentVolumeClaim jenkins"]
    assert cluster.get("Namespace", "jenkins") is not None
    assert jenkins_dtm.state()["instances"] == {}
    install(jenkins_dtm)
    assert live(cluster, "PersistentVolumeClaim")["metadata"]["uid"] == volume_uid


@pytest.mark.parametrize("namespace_made_by", ["dtm", "someone else"])
def test_remove_with_delete_volume_deletes_the_volume_and_only_a_namespace_dtm_made(
        jenkins_dtm: DtmHarness, cluster: KubernetesEmulator, kubectl: Kubectl,
        namespace_made_by: str) -> None:
    if namespace_made_by != "dtm":
        kubectl.ok("create", "namespace", "jenkins")
    install(jenkins_dtm, "--set", "delete_volume=true")
    run_ok(jenkins_dtm, "remove", "jenkins", "-y")
    assert cluster.get("PersistentVolumeClaim", "jenkins", "jenkins") is None
    assert cluster.objects(namespace="jenkins") == []
    assert (cluster.get("Namespace", "jenkins") is None) == (namespace_made_by == "dtm")


@pytest.mark.parametrize(("setting", "message"), [
    ("storage=8GB", "options.storage: expected a positive Kubernetes quantity, got '8GB'"),
    ("memory=0Mi", "options.memory: expected a positive Kubernetes quantity, got '0Mi'"),
    ("cpu=2", "options.cpu: expected string, got integer 2"),  # the core's type check: write "2" or 2000m
    ("cpu_limit=100m", "options.cpu_limit: expected at least cpu (500m), got '100m'"),
    ("namespace=CI_Jobs", "options.namespace: expected a Kubernetes namespace name, got 'CI_Jobs'"),
    ("admin_user=a b", "options.admin_user: expected a Jenkins user ID, got 'a b'"),
    ("timeout=0", "options.timeout: expected a positive number of seconds, got 0"),
    ("service_type=Ingress", "options.service_type"),
])
def test_bad_options_exit_2_naming_the_option_and_change_nothing(
        jenkins_dtm: DtmHarness, cluster: KubernetesEmulator, setting: str, message: str) -> None:
    result = jenkins_dtm.run("install", "jenkins", "--set", setting, "-y")
    assert result.exit_code == 2, result.stderr
    assert message in result.stderr and "\nhint: " in result.stderr
    assert "Traceback" not in result.stderr
    assert not [o for o in cluster.objects() if o["metadata"].get("labels", {}).get("dtm.dev/instance")]
    assert ADDRESS not in jenkins_dtm.state().get("instances", {})


def test_a_controller_that_never_becomes_ready_times_out_naming_the_statefulset(
        jenkins_dtm: DtmHarness, cluster: KubernetesEmulator, kubectl: Kubectl) -> None:
    # Someone staged the StatefulSet with kubectl, annotated so that the emulator never readies it;
    # dtm's server-side apply takes over the fields it sets and leaves that annotation to its owner.
    kubectl.ok("create", "namespace", "jenkins")
    staged = {"apiVersion": "apps/v1", "kind": "StatefulSet",
              "metadata": {"name": "jenkins", "namespace": "jenkins",
                           "annotations": {"emulator.dtm.dev/never-ready": "true"}},
              "spec": {"replicas": 1, "serviceName": "jenkins", "selector": {"matchLabels": SELECTOR},
                       "template": {"metadata": {"labels": SELECTOR}, "spec": {"containers": [
                           {"name": "jenkins", "image": f"jenkins/jenkins:{LATEST}-lts-jdk21"}]}}}}
    kubectl.ok("create", "-f", "-", stdin=json.dumps(staged))
    result = jenkins_dtm.run("install", "jenkins", "--set", "timeout=2", "-y")
    assert result.exit_code == 1
    assert (f"error: transaction 1 failed: {ADDRESS}: timed out after 2 s waiting for statefulset "
            "jenkins/jenkins to become ready (0/1 replicas ready)") in result.stderr
    assert ("hint: see why with 'kubectl describe statefulset.apps jenkins -n jenkins' and "
            "'kubectl get events -n jenkins'") in result.stderr
    assert "Traceback" not in result.stderr
    controller = live(cluster, "StatefulSet")
    assert controller["metadata"]["annotations"] == {"emulator.dtm.dev/never-ready": "true"}
    assert controller["metadata"]["labels"]["dtm.dev/instance"] == ADDRESS
    assert ADDRESS not in jenkins_dtm.state().get("instances", {})


def test_a_second_instance_is_refused_in_a_namespace_whose_jenkins_another_runs(
        jenkins_dtm: DtmHarness, cluster: KubernetesEmulator) -> None:
    install(jenkins_dtm)
    result = jenkins_dtm.run("install", "jenkins", "--instance", "second", "-y")
    assert result.exit_code == 1
    assert "jenkins.second: namespace jenkins already runs the Jenkins of dtm instance jenkins.default" in (
        result.stderr)
    assert "hint: install this one into another namespace (--set namespace=NAME)" in result.stderr
    assert live(cluster, "StatefulSet")["metadata"]["labels"]["dtm.dev/instance"] == ADDRESS


def test_an_unreachable_cluster_is_one_line_and_records_nothing(
        jenkins_dtm: DtmHarness, tmp_path: Path) -> None:
    config = tmp_path / "unreachable"
    config.write_text(json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "gone",
        "clusters": [{"name": "gone", "cluster": {"server": "https://127.0.0.1:9"}}],
        "users": [{"name": "u", "user": {"token": "t"}}],
        "contexts": [{"name": "gone", "context": {"cluster": "gone", "user": "u"}}]}))
    result = jenkins_dtm.run("install", "jenkins", "--set", f"kubeconfig={config}", "-y")
    assert result.exit_code == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith(("error:", "hint:"))]
    assert errors[0] == (f"error: transaction 1 failed: {ADDRESS}: cannot reach the Kubernetes API at "
                         "https://127.0.0.1:9: connection refused")
    assert errors[1].startswith("hint: ")
    assert "Traceback" not in result.stderr
    assert ADDRESS not in jenkins_dtm.state().get("instances", {})
