"""The argocd-app tool on an emulated cluster: apply and wait, Argo CD's API shape, drift, timeouts, remove.

The Application is checked where users and real clients see it: in the cluster (read back
from the emulator and through the real kubectl), in dtm's state and in dtm's output. Its
shape is checked against Argo CD's own API description (``argocd_swagger``), made strict so
that a field Argo CD does not declare fails.
"""

from __future__ import annotations

import copy
import json
from datetime import datetime
from pathlib import Path
from typing import Any

# mypy finds neither the modules in tests/ nor the plugin (installed editable, by an import hook).
import pytest
import yaml
from click.testing import Result
from dtm_harness import DtmHarness  # type: ignore[import-not-found,unused-ignore]
from dtm_plugins_argocd.application import ArgoCDApp, application  # type: ignore[import-not-found,unused-ignore]
from jsonschema import Draft4Validator, FormatChecker  # type: ignore[import-untyped,unused-ignore]
from kubectl import Kubectl  # type: ignore[import-not-found,unused-ignore]

from dtm_core import ToolContext
from dtm_core.emulators.kubernetes import KubernetesEmulator
from dtm_core.options import validate_options

REPO_URL = "https://github.com/argoproj/argocd-example-apps"
IN_CLUSTER = "https://kubernetes.default.svc"
GUESTBOOK = ("--set", "name=guestbook", "--set", f"repo_url={REPO_URL}", "--set", "path=guestbook")
#: The emulator's annotation that keeps an object from ever becoming ready (Synced and Healthy).
NEVER_READY = {"emulator.dtm.dev/never-ready": "true"}
#: The Application as someone made it with kubectl before dtm, marked never to sync.
STUCK_APPLICATION = {
    "apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
    "metadata": {"name": "guestbook", "namespace": "argocd", "annotations": NEVER_READY},
    "spec": {"project": "default", "source": {"repoURL": REPO_URL, "path": "guestbook"},
             "destination": {"server": IN_CLUSTER, "namespace": "default"}},
}


def ok(result: Result) -> Result:
    assert result.exit_code == 0, result.stdout + result.stderr
    return result


def install_app(dtm: DtmHarness, *options: str) -> Result:
    result: Result = dtm.run("install", "argocd-app", *GUESTBOOK, *options, "-y")
    return result


def live_application(cluster: KubernetesEmulator) -> dict[str, Any]:
    app = cluster.get("Application", "guestbook", "argocd")
    assert app is not None, "the Application argocd/guestbook is not in the cluster"
    return app


def status_rows(dtm: DtmHarness) -> dict[str, dict[str, Any]]:
    result = ok(dtm.run("status", "-o", "json"))
    return {row["address"]: row for row in json.loads(result.stdout)}


@pytest.fixture
def guestbook(argocd_dtm: DtmHarness) -> DtmHarness:
    """dtm after 'dtm install argocd-app' of the guestbook example (argocd comes as a dependency)."""
    ok(install_app(argocd_dtm))
    return argocd_dtm


@pytest.fixture
def stuck(argocd_dtm: DtmHarness, kubectl: Kubectl) -> DtmHarness:
    """dtm after 'dtm install argocd'; the Application guestbook already exists and never syncs.

    kubectl made it, with the emulator's never-ready annotation: dtm's server-side apply leaves
    that annotation alone (another field manager owns it), so Argo CD never finds it Synced.
    """
    ok(argocd_dtm.run("install", "argocd", "-y"))
    kubectl.ok("apply", "-f", "-", stdin=json.dumps(STUCK_APPLICATION))
    kubectl.ok("-n", "argocd", "wait", "--for=jsonpath={.status.health.status}=Progressing",
               "application/guestbook", "--timeout=10s")
    return argocd_dtm


# -- Argo CD's API description, made strict --------------------------------------------------------


def _closed(schema: dict[str, Any]) -> None:
    """Make an object schema that declares properties reject any other, down through what it holds."""
    if "properties" in schema:
        schema.setdefault("additionalProperties", False)
        for declared in schema["properties"].values():
            _closed(declared)
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            _closed(schema[key])


def _date_time(value: object) -> bool:
    """RFC 3339 as Kubernetes writes it: a date, a time and a zone (jsonschema checks none without extras)."""
    return not isinstance(value, str) or ("T" in value and datetime.fromisoformat(value).tzinfo is not None)


DATE_TIME = FormatChecker(formats=())
DATE_TIME.checks("date-time", raises=ValueError)(_date_time)


@pytest.fixture(scope="module")
def application_schema(argocd_swagger: dict[str, Any]) -> Any:
    """A Draft 4 validator for ``v1alpha1Application`` that rejects every undeclared field.

    One definition is replaced, not loosened: ``v1FieldsV1`` (in ``managedFields``) documents
    the Go struct, whose only field ``Raw`` is never on the wire; Kubernetes writes the field
    set itself, a trie whose keys are ``.``, ``f:``, ``v:``, ``i:`` or ``k:`` (as the
    definition's own description says). The replacement checks exactly that.
    """
    definitions = copy.deepcopy(argocd_swagger["definitions"])
    for definition in definitions.values():
        _closed(definition)
    definitions["v1FieldsV1"] = {
        "type": "object", "additionalProperties": False,
        "patternProperties": {r"^(\.|[fvik]:.*)$": {"$ref": "#/definitions/v1FieldsV1"}}}
    schema = {"$ref": "#/definitions/v1alpha1Application", "definitions": definitions}
    Draft4Validator.check_schema(schema)
    return Draft4Validator(schema, format_checker=DATE_TIME)


def nonconformities(validator: Any, obj: dict[str, Any]) -> list[str]:
    """What in ``obj`` Argo CD's API description does not allow; [] when it conforms.

    ``apiVersion`` and ``kind`` (Kubernetes' TypeMeta) are checked here and left out: Argo
    CD's description of the Application does not declare them, its CRD does.
    """
    body = dict(obj)
    assert (body.pop("apiVersion"), body.pop("kind")) == ("argoproj.io/v1alpha1", "Application")
    return sorted(f"{'.'.join(map(str, error.absolute_path)) or '(top)'}: {error.message}"
                  for error in validator.iter_errors(body))


def built_application(**options: Any) -> dict[str, Any]:
    """The Application dtm would apply for these options (defaults filled in as dtm fills them)."""
    values = validate_options(ArgoCDApp.options, {"name": "guestbook", "repo_url": REPO_URL, **options})
    built: dict[str, Any] = application(
        ToolContext(tool="argocd-app", instance="default", version="0.1.0", options=values))
    return built


# -- install ---------------------------------------------------------------------------------------


def test_install_applies_the_application_and_waits_until_it_is_synced_and_healthy(
        guestbook: DtmHarness, cluster: KubernetesEmulator, kubectl: Kubectl) -> None:
    app = live_application(cluster)
    assert app["spec"] == {
        "project": "default",
        "source": {"repoURL": REPO_URL, "path": "guestbook", "targetRevision": "HEAD"},
        "destination": {"server": IN_CLUSTER, "namespace": "default"},
        "syncPolicy": {"automated": {"prune": False, "selfHeal": False},
                       "syncOptions": ["CreateNamespace=true"]},
    }
    assert app["metadata"]["finalizers"] == ["resources-finalizer.argocd.argoproj.io"]
    assert app["metadata"]["labels"] == {"app.kubernetes.io/managed-by": "dtm",
                                         "dtm.dev/instance": "argocd-app.default"}

    instances = guestbook.state()["instances"]
    assert instances["argocd.default"]["reason"] == "auto"
    assert instances["argocd-app.default"]["requires"] == ["argocd.default"]
    assert instances["argocd-app.default"]["outputs"] == {
        "name": "guestbook", "namespace": "argocd", "sync_status": "Synced", "health_status": "Healthy",
        "revision": app["status"]["sync"]["revision"]}

    assert kubectl.ok("-n", "argocd", "get", "application", "guestbook",
                      "-o", "jsonpath={.status.sync.status}") == "Synced"
    kubectl.ok("-n", "argocd", "wait", "--for=jsonpath={.status.health.status}=Healthy",
               "application/guestbook", "--timeout=10s")


# -- conformance with Argo CD's API description ----------------------------------------------------


def test_the_application_in_the_cluster_conforms_to_argo_cds_api_description(
        guestbook: DtmHarness, cluster: KubernetesEmulator, application_schema: Any) -> None:
    app = live_application(cluster)
    # What the check covers: dtm's spec, the server's metadata and Argo CD's status.
    assert {"uid", "resourceVersion", "creationTimestamp", "managedFields"} <= app["metadata"].keys()
    assert app["status"]["sync"]["comparedTo"]["source"]["targetRevision"] == "HEAD"
    assert app["status"]["health"]["status"] == "Healthy"
    assert nonconformities(application_schema, app) == []


@pytest.mark.parametrize("options", [
    {},
    {"auto_sync": False, "create_namespace": False, "cascade_delete": False},
    {"prune": True, "self_heal": True, "target_revision": "v1.2.0", "project": "apps",
     "destination_server": "https://10.0.0.1:6443", "destination_namespace": "guestbook"},
], ids=["defaults", "everything-off", "everything-set"])
def test_the_application_dtm_builds_conforms_to_argo_cds_api_description(
        options: dict[str, Any], application_schema: Any) -> None:
    """What dtm sends, checked too: the cluster drops fields the CRD lacks, so reading back hides them."""
    assert nonconformities(application_schema, built_application(**options)) == []


@pytest.mark.parametrize(("where", "field", "value"), [
    (("spec",), "syncOptions", ["CreateNamespace=true"]),
    (("spec", "source"), "revision", "HEAD"),
    (("spec", "syncPolicy", "automated"), "pruneAll", True),
    (("metadata",), "label", {"a": "b"}),
    (("metadata",), "creationTimestamp", "2026-11-24 18:23"),
], ids=["spec.syncOptions", "spec.source.revision", "automated.pruneAll", "metadata.label", "not-date-time"])
def test_the_strict_description_rejects_what_argo_cd_does_not_declare(
        where: tuple[str, ...], field: str, value: Any, application_schema: Any) -> None:
    """The checks above can fail: a field in the wrong place, an invented one, a malformed time."""
    app = built_application()
    target = app
    for key in where:
        target = target[key]
    target[field] = value
    assert [problem for problem in nonconformities(application_schema, app) if field in problem] != []


# -- read and drift --------------------------------------------------------------------------------


def test_a_change_made_behind_dtms_back_shows_as_drift_and_reinstall_undoes_it(
        guestbook: DtmHarness, cluster: KubernetesEmulator, kubectl: Kubectl) -> None:
    kubectl.ok("-n", "argocd", "patch", "application", "guestbook", "--type", "merge",
               "-p", json.dumps({"spec": {"source": {"targetRevision": "v2"}}}))

    rows = status_rows(guestbook)
    assert rows["argocd-app.default"]["live"] == "drifted"
    assert rows["argocd-app.default"]["action"] == "update"
    assert rows["argocd-app.default"]["reasons"] == ["drifted: target_revision (live 'v2', want 'HEAD')"]
    assert rows["argocd.default"]["live"] == "ok"
    assert guestbook.run("status", "--detailed-exitcode").exit_code == 2

    ok(guestbook.run("reinstall", "argocd-app", "-y"))
    app = live_application(cluster)
    assert app["spec"]["source"]["targetRevision"] == "HEAD"
    assert app["status"]["sync"]["status"] == "Synced"
    assert app["status"]["sync"]["comparedTo"]["source"]["targetRevision"] == "HEAD"
    assert status_rows(guestbook)["argocd-app.default"]["live"] == "ok"
    assert guestbook.run("status", "--detailed-exitcode").exit_code == 0


def test_an_application_deleted_behind_dtms_back_is_reported_gone_and_reinstall_recreates_it(
        guestbook: DtmHarness, cluster: KubernetesEmulator, kubectl: Kubectl) -> None:
    kubectl.ok("-n", "argocd", "delete", "application", "guestbook", "--timeout=10s")
    assert cluster.get("Application", "guestbook", "argocd") is None

    row = status_rows(guestbook)["argocd-app.default"]
    assert (row["live"], row["action"]) == ("gone", "create")
    assert row["reasons"] == ["gone: deleted outside dtm; will re-create"]

    ok(guestbook.run("reinstall", "argocd-app", "-y"))
    assert live_application(cluster)["status"]["sync"]["status"] == "Synced"
    assert status_rows(guestbook)["argocd-app.default"]["live"] == "ok"


def test_a_new_destination_counts_only_once_argo_cd_compared_against_it(
        argocd_dtm: DtmHarness, cluster: KubernetesEmulator, tmp_path: Path) -> None:
    toolchain = tmp_path / "toolchain.yaml"

    def apply(destination_namespace: str) -> None:
        options = {"name": "guestbook", "repo_url": REPO_URL, "path": "guestbook",
                   "destination_namespace": destination_namespace}
        app = {"tool": "argocd-app", "options": options}
        toolchain.write_text(yaml.safe_dump({"version": 1, "tools": [{"tool": "argocd"}, app]}))
        ok(argocd_dtm.run("apply", "-f", str(toolchain), "-y"))

    apply("default")
    apply("guestbook")
    # dtm said done: the status it recorded is Argo CD's verdict on the new destination, not the old one's.
    status = live_application(cluster)["status"]
    assert status["sync"]["status"] == "Synced"
    assert status["sync"]["comparedTo"]["destination"] == {"server": IN_CLUSTER, "namespace": "guestbook"}
    assert argocd_dtm.state()["instances"]["argocd-app.default"]["outputs"]["sync_status"] == "Synced"


# -- without auto sync, and never synced -----------------------------------------------------------


def test_without_auto_sync_install_returns_at_once_with_the_status_it_read(
        stuck: DtmHarness, cluster: KubernetesEmulator, application_schema: Any) -> None:
    # Waiting would fail: this Application never syncs and the timeout is 2 s.
    result = ok(install_app(stuck, "--set", "auto_sync=false", "--set", "timeout=2"))
    assert "waiting for guestbook" not in result.stderr

    outputs = stuck.state()["instances"]["argocd-app.default"]["outputs"]
    assert (outputs["sync_status"], outputs["health_status"], outputs["revision"]) == (
        "OutOfSync", "Progressing", None)
    app = live_application(cluster)
    assert app["spec"]["syncPolicy"] == {"syncOptions": ["CreateNamespace=true"]}
    assert app["spec"]["source"]["targetRevision"] == "HEAD"
    assert nonconformities(application_schema, app) == []
    assert status_rows(stuck)["argocd-app.default"]["live"] == "ok"


def test_an_application_that_never_syncs_fails_after_the_timeout_with_one_clear_error(
        stuck: DtmHarness, cluster: KubernetesEmulator) -> None:
    result = install_app(stuck, "--set", "timeout=1")

    assert result.exit_code == 1
    assert "Traceback" not in result.stdout + result.stderr
    lines = result.stderr.splitlines()
    errors = [n for n, line in enumerate(lines) if line.startswith("error: ")]
    assert len(errors) == 1, result.stderr
    assert lines[errors[0]].endswith(
        "argocd-app.default: timed out after 1 s waiting for application argocd/guestbook to be Synced "
        "and Healthy (sync OutOfSync, health Progressing)"), result.stderr
    hints = [n for n, line in enumerate(lines) if line.startswith("hint: ")]
    assert hints == [errors[0] + 1], result.stderr
    assert lines[hints[0]].startswith("hint: see why with 'kubectl -n argocd get application guestbook "
                                      "-o yaml' or 'argocd app get guestbook'"), result.stderr
    # The Application stays, for the user to see why.
    assert live_application(cluster)["spec"]["syncPolicy"]["automated"] == {"prune": False, "selfHeal": False}


# -- bad options -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("options", "error"), [
    (("--set", f"repo_url={REPO_URL}", "--set", "auto_sync=maybe"),
     "error: argocd-app.default: options.auto_sync: expected boolean, got string 'maybe'"),
    ((), "error: argocd-app.default: options.repo_url: required option is missing"),
], ids=["auto_sync=maybe", "no-repo_url"])
def test_bad_options_are_refused_naming_the_option_before_anything_is_installed(
        argocd_dtm: DtmHarness, cluster: KubernetesEmulator, options: tuple[str, ...], error: str) -> None:
    result = argocd_dtm.run("install", "argocd-app", "--set", "name=guestbook", *options, "-y")

    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == error
    assert "Traceback" not in result.stdout + result.stderr
    assert argocd_dtm.state().get("instances", {}) == {}
    assert cluster.get("Namespace", "argocd") is None


# -- remove ----------------------------------------------------------------------------------------


def test_remove_deletes_the_application_and_keeps_argocd_which_cannot_go_before_it(
        guestbook: DtmHarness, cluster: KubernetesEmulator, kubectl: Kubectl) -> None:
    refused = guestbook.run("remove", "argocd", "-y")
    assert refused.exit_code == 3
    assert "argocd-app.default needs it" in refused.stderr
    assert live_application(cluster)["status"]["sync"]["status"] == "Synced"

    ok(guestbook.run("remove", "argocd-app", "-y"))
    assert cluster.get("Application", "guestbook", "argocd") is None
    missing = kubectl("-n", "argocd", "get", "application", "guestbook")
    assert missing.returncode == 1 and "NotFound" in missing.stderr
    assert list(guestbook.state()["instances"]) == ["argocd.default"]
    assert cluster.get("Deployment", "argocd-server", "argocd") is not None
    assert status_rows(guestbook)["argocd.default"]["live"] == "ok"
