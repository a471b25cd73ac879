"""The ``jenkins`` tool: a Jenkins LTS controller in a Kubernetes cluster, applied, read back and removed.

dtm writes the objects itself (no Helm): a StatefulSet of one replica running the official
``jenkins/jenkins`` image on a PersistentVolumeClaim, its Services, and the admin account's
Secret. The admin account is made by a Groovy hook script, the mechanism the official image
documents (``/usr/share/jenkins/ref/init.groovy.d``): it needs no plugin, where Configuration
as Code needs the ``configuration-as-code`` plugin downloaded into the image or at start-up.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import secrets
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from dtm_core import (
    GONE,
    KubeClient,
    Live,
    ObjectRef,
    OperationError,
    Option,
    OptionError,
    OutputSpec,
    ReadResult,
    ToolContext,
    ToolKind,
    kube_secret_ref,
)

from .cluster import CONTEXT, KUBECONFIG, kube_client, quantity, same_quantity

NAME = "jenkins"
AGENT_SERVICE = "jenkins-agent"
ADMIN_SECRET = "jenkins-admin"
INIT_CONFIGMAP = "jenkins-init"
# The key names of the Jenkins Helm chart's admin Secret, so existing habits and scripts carry over.
USER_KEY, PASSWORD_KEY = "jenkins-admin-user", "jenkins-admin-password"
HTTP_PORT, AGENT_PORT = 8080, 50000
HOME = "/var/jenkins_home"
# jenkins.sh copies reference files into JENKINS_HOME only when absent, except '*.override' ones,
# which it copies at every start: a changed script takes effect on the next restart.
INIT_SCRIPT = "dtm-admin.groovy.override"
INIT_DIR = "/usr/share/jenkins/ref/init.groovy.d"
INSTANCE_LABEL = "dtm.dev/instance"  # set by KubeClient.apply on every object (docs/kubernetes.md)
SECRET_UID = "dtm.dev/admin-secret-uid"
CONFIG_SUM = "dtm.dev/config-sha256"

ADMIN_SCRIPT = """\
// Written by dtm (tool "jenkins"): the first admin account, from the environment the pod takes from
// the Secret jenkins-admin. It runs at every start, so that Secret stays the source of the password.
import hudson.model.User
import hudson.security.AuthorizationStrategy
import hudson.security.FullControlOnceLoggedInAuthorizationStrategy
import hudson.security.HudsonPrivateSecurityRealm
import hudson.security.SecurityRealm
import jenkins.model.Jenkins

def id = System.getenv('JENKINS_ADMIN_ID')
def password = System.getenv('JENKINS_ADMIN_PASSWORD')
def jenkins = Jenkins.get()
if (!id || !password) {
    println('dtm: JENKINS_ADMIN_ID or JENKINS_ADMIN_PASSWORD is unset; the admin account is left alone')
    return
}
def realm = jenkins.getSecurityRealm()
if (realm == SecurityRealm.NO_AUTHENTICATION) {
    realm = new HudsonPrivateSecurityRealm(false)  // no self sign-up
    jenkins.setSecurityRealm(realm)
}
if (!(realm instanceof HudsonPrivateSecurityRealm)) {
    println('dtm: Jenkins authenticates with ' + realm.getClass().getName() + '; no admin account made')
    return
}
def user = User.getById(id, false)
if (user == null) {
    realm.createAccount(id, password)
} else {
    user.addProperty(HudsonPrivateSecurityRealm.Details.fromPlainPassword(password))
}
// Only a fresh install is unsecured: an authorization strategy an admin chose later is kept.
if (jenkins.getAuthorizationStrategy() instanceof AuthorizationStrategy.Unsecured) {
    def strategy = new FullControlOnceLoggedInAuthorizationStrategy()
    strategy.setAllowAnonymousRead(false)
    jenkins.setAuthorizationStrategy(strategy)
}
jenkins.save()
"""

_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
_DNS_NAME = re.compile(r"[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?")
_USER_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
_VERSION = re.compile(r"[0-9]+(\.[0-9]+)+")


def check_options(options: Mapping[str, Any]) -> None:
    """Refuse values the cluster or Jenkins would reject, before anything is written."""

    def bad(name: str, wanted: str, hint: str) -> OptionError:
        return OptionError(f"options.{name}: expected {wanted}, got {options[name]!r}", hint=hint)

    if not _DNS_LABEL.fullmatch(str(options["namespace"])):
        raise bad("namespace", "a Kubernetes namespace name",
                  "use at most 63 lower-case letters, digits and '-', with a letter or digit at each end")
    if not _USER_ID.fullmatch(str(options["admin_user"])):
        raise bad("admin_user", "a Jenkins user ID", "use letters, digits, '.', '_', '@' or '-' (at most 64)")
    sizes: dict[str, Decimal] = {}
    for name in (name for name in ("storage", "memory", "cpu", "cpu_limit") if options.get(name) is not None):
        size = quantity(str(options[name]))
        if size is None or size <= 0:
            raise bad(name, "a positive Kubernetes quantity", "write it like 8Gi, 512Mi, 1 or 500m")
        sizes[name] = size
    if "cpu_limit" in sizes and "cpu" in sizes and sizes["cpu_limit"] < sizes["cpu"]:
        raise bad("cpu_limit", f"at least cpu ({options['cpu']})", "raise cpu_limit, or lower cpu")
    if options.get("storage_class") is not None and not _DNS_NAME.fullmatch(str(options["storage_class"])):
        raise bad("storage_class", "a StorageClass name", "list them with 'kubectl get storageclass'")
    if options.get("image") is not None and (not options["image"] or re.search(r"\s", str(options["image"]))):
        raise bad("image", "an image reference",
                  "write it like registry.example/jenkins/jenkins:2.541.3-lts-jdk21")
    if int(options["timeout"]) <= 0:
        raise bad("timeout", "a positive number of seconds", "600 leaves Jenkins ten minutes to start")


def wanted_image(ctx: ToolContext) -> str:
    """The image to run: the option, else the registry's artifact for this version, else Docker Hub's tag."""
    listed = ctx.artifacts.get("image")
    return str(ctx.options.get("image") or (listed if isinstance(listed, str) and listed
                                              else f"jenkins/jenkins:{ctx.version}-lts-jdk21"))


def image_version(image: str) -> str | None:
    """The Jenkins version an image tag names (``jenkins/jenkins:2.541.3-lts-jdk21`` → ``2.541.3``)."""
    name = image.split("@", 1)[0]
    repository, _, tag = name.rpartition(":")
    if not repository or "/" in tag:
        return None  # no tag, only a registry port
    version = tag.split("-", 1)[0]
    return version if _VERSION.fullmatch(version) else None


def _labels(ctx: ToolContext) -> dict[str, str]:
    return {"app.kubernetes.io/name": NAME, "app.kubernetes.io/instance": ctx.instance}


def admin_secret(ctx: ToolContext, namespace: str, password: str) -> dict[str, Any]:
    def encoded(text: str) -> str:
        return base64.b64encode(text.encode()).decode()

    return {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": ADMIN_SECRET, "namespace": namespace, "labels": _labels(ctx)},
            "data": {USER_KEY: encoded(str(ctx.options["admin_user"])), PASSWORD_KEY: encoded(password)}}


def controller_objects(ctx: ToolContext, namespace: str, secret_uid: str) -> list[dict[str, Any]]:
    """Everything but the Secret, in apply order; ``secret_uid`` restarts Jenkins on a new Secret."""
    options = ctx.options
    labels = _labels(ctx)

    def meta(name: str) -> dict[str, Any]:
        return {"name": name, "namespace": namespace, "labels": labels}

    volume: dict[str, Any] = {"accessModes": ["ReadWriteOnce"],
                              "resources": {"requests": {"storage": str(options["storage"])}}}
    if options.get("storage_class"):
        volume["storageClassName"] = str(options["storage_class"])

    def service(name: str, kind: str, port_name: str, port: int) -> dict[str, Any]:
        return {"apiVersion": "v1", "kind": "Service", "metadata": meta(name),
                "spec": {"type": kind, "selector": labels,
                         "ports": [{"name": port_name, "port": port, "targetPort": port_name}]}}

    return [
        # dtm grants Jenkins no Kubernetes permissions, so a mounted token would only be a risk.
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta(NAME),
         "automountServiceAccountToken": False},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta(INIT_CONFIGMAP),
         "data": {INIT_SCRIPT: ADMIN_SCRIPT}},
        {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": meta(NAME), "spec": volume},
        service(NAME, str(options["service_type"]), "http", HTTP_PORT),
        # Inbound agents connect here; it stays inside the cluster whatever the web UI's exposure.
        service(AGENT_SERVICE, "ClusterIP", "agent", AGENT_PORT),
        statefulset(ctx, meta(NAME), secret_uid),
    ]


def statefulset(ctx: ToolContext, metadata: dict[str, Any], secret_uid: str) -> dict[str, Any]:
    """One Jenkins controller: a StatefulSet never runs two pods on the home volume, even mid-rollout."""
    options = ctx.options
    labels = _labels(ctx)
    limits = {"memory": str(options["memory"])}  # the JVM sizes its heap from the memory limit
    if options.get("cpu_limit"):
        limits["cpu"] = str(options["cpu_limit"])
    java_opts = " ".join(["-Djenkins.install.runSetupWizard=false", str(options.get("java_opts") or "")])

    def from_secret(key: str) -> dict[str, Any]:
        return {"secretKeyRef": {"name": ADMIN_SECRET, "key": key}}

    def probe(**extra: int) -> dict[str, Any]:
        return {"httpGet": {"path": "/login", "port": "http"}, "periodSeconds": 10, "timeoutSeconds": 5,
                **extra}

    # The admin user lives in the Secret, whose change alone would not restart the pod.
    config = hashlib.sha256(f"{ADMIN_SCRIPT}\0{options['admin_user']}".encode()).hexdigest()[:16]
    container = {
        "name": NAME, "image": wanted_image(ctx), "imagePullPolicy": "IfNotPresent",
        "env": [{"name": "JAVA_OPTS", "value": java_opts.strip()},
                {"name": "JENKINS_OPTS", "value": f"--httpPort={HTTP_PORT}"},
                {"name": "JENKINS_SLAVE_AGENT_PORT", "value": str(AGENT_PORT)},  # the image's own name
                {"name": "JENKINS_ADMIN_ID", "valueFrom": from_secret(USER_KEY)},
                {"name": "JENKINS_ADMIN_PASSWORD", "valueFrom": from_secret(PASSWORD_KEY)}],
        "ports": [{"name": "http", "containerPort": HTTP_PORT},
                  {"name": "agent", "containerPort": AGENT_PORT}],
        # A first start unpacks the war and loads plugins: give it two minutes before liveness counts.
        "startupProbe": probe(failureThreshold=12),
        "livenessProbe": probe(failureThreshold=5),
        "readinessProbe": probe(failureThreshold=3),
        "resources": {"requests": {"cpu": str(options["cpu"]), "memory": str(options["memory"])},
                      "limits": limits},
        "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
        "volumeMounts": [{"name": "home", "mountPath": HOME},
                         # One file, not the directory: the image ships its own scripts there.
                         {"name": "init", "mountPath": f"{INIT_DIR}/{INIT_SCRIPT}", "subPath": INIT_SCRIPT}],
    }
    return {
        "apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": metadata,
        "spec": {
            "replicas": 1, "serviceName": NAME, "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels, "annotations": {SECRET_UID: secret_uid, CONFIG_SUM: config}},
                "spec": {
                    "serviceAccountName": NAME,
                    # The image runs as jenkins (uid 1000); fsGroup lets it write the volume.
                    "securityContext": {"runAsUser": 1000, "runAsGroup": 1000, "fsGroup": 1000,
                                        "runAsNonRoot": True, "fsGroupChangePolicy": "OnRootMismatch",
                                        "seccompProfile": {"type": "RuntimeDefault"}},
                    "containers": [container],
                    "volumes": [{"name": "home", "persistentVolumeClaim": {"claimName": NAME}},
                                {"name": "init", "configMap": {"name": INIT_CONFIGMAP}}],
                },
            },
        },
    }


def sparing_volumes(refs: Sequence[ObjectRef], delete_volume: bool
                    ) -> tuple[list[ObjectRef], list[ObjectRef]]:
    """(to delete, to keep): the Jenkins home volume, and any namespace holding it, stay unless asked.

    Deleting a namespace deletes everything in it, so a namespace dtm made must outlive a kept volume.
    """
    if delete_volume:
        return list(refs), []
    volumes = [ref for ref in refs if ref.kind == "PersistentVolumeClaim"]
    holding = {ref.namespace for ref in volumes}
    kept = volumes + [ref for ref in refs if ref.kind == "Namespace" and ref.name in holding]
    return [ref for ref in refs if ref not in kept], kept


def _report_kept(ctx: ToolContext, kept: Sequence[ObjectRef]) -> None:
    for ref in kept:
        if ref.kind == "Namespace":
            ctx.progress(f"keeping {ref}: deleting it would delete the Jenkins home volume in it")
        else:
            ctx.progress(f"keeping {ref} (the Jenkins home: jobs and build history); with delete_volume=true "
                         f"dtm deletes it, or run 'kubectl delete pvc {ref.name} -n {ref.namespace}'")


class Jenkins(ToolKind):
    name = "jenkins"
    description = "A Jenkins LTS controller run in a Kubernetes cluster (StatefulSet and volume)."
    options = (
        Option("namespace", default="jenkins", description="namespace Jenkins runs in"),
        Option("service_type", default="ClusterIP", choices=("ClusterIP", "NodePort", "LoadBalancer"),
               description="how the web UI is exposed"),
        Option("admin_user", default="admin", description="name of the first admin account"),
        Option("storage", default="8Gi", description="size of the Jenkins home volume (jobs, build history)"),
        Option("storage_class", description="StorageClass of that volume; the cluster's default when unset"),
        Option("cpu", default="500m", description="CPU requested for the controller"),
        Option("cpu_limit",
               description="CPU limit of the controller; none when unset, as start-up is CPU-hungry"),
        Option("memory", default="2Gi", description="memory requested for the controller, and its limit"),
        Option("java_opts", description="extra JVM options, such as -Xmx1g or -Dhudson.footerURL=…"),
        Option("image", description="run this image instead of the registry's (a mirror); same version"),
        Option("timeout", "integer", default=600, description="seconds to wait for Jenkins to become ready"),
        Option("delete_volume", "boolean", default=False,
               description="on delete, remove the Jenkins home volume too, and with it every job and build"),
        KUBECONFIG,
        CONTEXT,
    )
    outputs = (
        OutputSpec("url", "in-cluster address of the Jenkins web UI"),
        OutputSpec("namespace", "namespace Jenkins runs in"),
        OutputSpec("admin_user", "name of the first admin account"),
        OutputSpec("admin_password", "its password (a k8s-secret: reference)", secret=True),
        OutputSpec("version", "the Jenkins version running, as read from the cluster"),
        OutputSpec("ready", "whether the controller was ready when last read"),
        OutputSpec("objects", "the objects dtm applied, as 'kind namespace/name'"),
    )

    def create(self, ctx: ToolContext) -> dict[str, Any]:
        return self._install(ctx)

    def update(self, ctx: ToolContext, live: Live) -> dict[str, Any]:
        return self._install(ctx)

    def _install(self, ctx: ToolContext) -> dict[str, Any]:
        """Apply every object (a repeat changes nothing), prune leftovers, wait until Jenkins is ready."""
        check_options(ctx.options)
        namespace = str(ctx.options["namespace"])
        timeout = float(ctx.options["timeout"])
        with kube_client(ctx) as kube:
            self._check_owner(ctx, kube, namespace)
            ctx.progress(f"applying Jenkins {ctx.version} to namespace {namespace} ({kube.context})")
            secret_ref = ObjectRef("v1", "Secret", ADMIN_SECRET, namespace)
            # The Secret goes first so the pod template can name its uid, and always with the password
            # it holds: dtm's field manager owns its data, so an apply without it would remove it.
            applied = kube.apply(admin_secret(ctx, namespace, self._password(ctx, kube, secret_ref)),
                                 instance=ctx.address, namespace=namespace, create_namespace=True)
            live_secret = kube.get(secret_ref) or {}
            uid = str((live_secret.get("metadata") or {}).get("uid", ""))
            applied += kube.apply(controller_objects(ctx, namespace, uid), instance=ctx.address,
                                  namespace=namespace)
            self._prune(ctx, kube, applied, timeout)
            kube.wait_ready(applied, timeout=timeout, progress=ctx.progress)
        return {
            "url": f"http://{NAME}.{namespace}.svc:{HTTP_PORT}/",
            "namespace": namespace,
            "admin_user": str(ctx.options["admin_user"]),
            "admin_password": kube_secret_ref(namespace, ADMIN_SECRET, PASSWORD_KEY,
                                              context=ctx.options.get("context"),
                                              kubeconfig=ctx.options.get("kubeconfig")),
            "version": ctx.version,
            "ready": True,
            "objects": [str(ref) for ref in applied],
        }

    @staticmethod
    def _check_owner(ctx: ToolContext, kube: KubeClient, namespace: str) -> None:
        """Refuse to take over the Jenkins another dtm instance runs in this namespace."""
        found = kube.get(ObjectRef("apps/v1", "StatefulSet", NAME, namespace))
        owner = ((found or {}).get("metadata", {}).get("labels") or {}).get(INSTANCE_LABEL)
        if owner and owner != ctx.address:
            raise OperationError(f"namespace {namespace} already runs the Jenkins of dtm instance {owner}",
                                 hint="install this one into another namespace (--set namespace=NAME)")

    @staticmethod
    def _password(ctx: ToolContext, kube: KubeClient, ref: ObjectRef) -> str:
        """The password the Secret holds; a new random one only when there is none (never on update)."""
        live = kube.get(ref)
        encoded = ((live or {}).get("data") or {}).get(PASSWORD_KEY)
        if encoded:
            try:
                return base64.b64decode(encoded, validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                ctx.progress(f"{ref} holds no readable password; generating a new one")
        else:
            ctx.progress(f"generating the admin password into {ref}")
        return secrets.token_urlsafe(24)

    @staticmethod
    def _prune(ctx: ToolContext, kube: KubeClient, applied: list[ObjectRef], timeout: float) -> None:
        """Delete what an earlier apply made and this one does not (another namespace, say)."""
        keep = set(applied)
        stale = [ref for ref in kube.list_managed(ctx.address) if ref not in keep]
        doomed, kept = sparing_volumes(stale, bool(ctx.options["delete_volume"]))
        _report_kept(ctx, kept)
        if doomed:
            ctx.progress(f"removing {len(doomed)} objects no longer wanted")
            kube.delete(doomed, timeout=timeout)

    def read(self, ctx: ToolContext) -> ReadResult:
        namespace = str(ctx.outputs.get("namespace") or ctx.options["namespace"])

        def ref(api_version: str, kind: str, name: str) -> ObjectRef:
            return ObjectRef(api_version, kind, name, namespace)

        with kube_client(ctx) as kube:
            live = {str(found): found for found in kube.list_managed(ctx.address)}
            if not live:
                return GONE  # nothing of this instance is left: the next apply installs it again
            controller = kube.get(ref("apps/v1", "StatefulSet", NAME))
            service = kube.get(ref("v1", "Service", NAME))
            volume = kube.get(ref("v1", "PersistentVolumeClaim", NAME))
            secret = kube.get(ref("v1", "Secret", ADMIN_SECRET))
            ready = controller is not None and not kube.not_ready([ref("apps/v1", "StatefulSet", NAME)])
        drift = [f"{name} is missing" for name in ctx.outputs.get("objects") or [] if name not in live]
        observed: dict[str, Any] = {"namespace": namespace}
        running = None
        if controller is not None:
            container = _container(controller)
            image = str(container.get("image", ""))
            running = image_version(image)
            if running and running != ctx.version:
                drift.append(f"Jenkins {running} is running, not {ctx.version}")
            elif image != wanted_image(ctx) and not ctx.options.get("image"):  # else drift by option
                drift.append(f"statefulset {namespace}/{NAME} runs {image}, not {wanted_image(ctx)}")
            resources = container.get("resources") or {}
            requests, limits = resources.get("requests") or {}, resources.get("limits") or {}
            observed.update(cpu=_as_option(requests.get("cpu"), ctx.options.get("cpu")),
                            memory=_as_option(requests.get("memory"), ctx.options.get("memory")))
            if ctx.options.get("cpu_limit"):
                observed["cpu_limit"] = _as_option(limits.get("cpu"), ctx.options["cpu_limit"])
            if ctx.options.get("image"):
                observed["image"] = image
        if service is not None:
            observed["service_type"] = (service.get("spec") or {}).get("type", "ClusterIP")
        if volume is not None:
            spec = volume.get("spec") or {}
            stored = ((spec.get("resources") or {}).get("requests") or {}).get("storage")
            observed["storage"] = _as_option(stored, ctx.options.get("storage"))
            if ctx.options.get("storage_class"):  # else the cluster's default class fills it in
                observed["storage_class"] = spec.get("storageClassName")
        user = ((secret or {}).get("data") or {}).get(USER_KEY)
        if user:
            observed["admin_user"] = base64.b64decode(user).decode("utf-8", "replace")
        return Live(observed=observed, drift=drift,
                    outputs={**ctx.outputs, "version": running, "ready": ready})

    def delete(self, ctx: ToolContext) -> None:
        with kube_client(ctx) as kube:
            doomed, kept = sparing_volumes(kube.list_managed(ctx.address), bool(ctx.options["delete_volume"]))
            _report_kept(ctx, kept)
            ctx.progress(f"deleting {len(doomed)} objects")
            kube.delete(doomed, timeout=float(ctx.options["timeout"]))


def _container(controller: dict[str, Any]) -> dict[str, Any]:
    template = (controller.get("spec") or {}).get("template") or {}
    containers = (template.get("spec") or {}).get("containers") or []
    found = next((c for c in containers if c.get("name") == NAME), containers[0] if containers else {})
    return dict(found)


def _as_option(live: Any, wanted: Any) -> Any:
    """A live quantity as the option wrote it when equal in value, so ``500m`` and ``0.5`` are no drift."""
    return wanted if same_quantity(live, wanted) else live
