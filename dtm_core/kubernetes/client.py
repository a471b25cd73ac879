"""``KubeClient``: what plugins do to a cluster — apply manifests, wait for readiness, read, delete.

Built on lightkube rather than the official ``kubernetes`` client: lightkube is built on httpx,
which dtm already uses (one HTTP stack, one family of transport errors to map); it is typed
(``py.typed``, models as dataclasses) so mypy checks plugin code; and it is small and imports
only the models it is asked for, where the official client loads a generated module per API
group and brings urllib3, six and a websocket client. lightkube is pinned below 1.0 because
1.0 moved to httpx2.

Server-side apply goes through ``Client.patch(..., patch_type=PatchType.APPLY)`` — what
``Client.apply`` does — with the manifest as a plain dict: ``Client.apply`` needs a model
instance, and decoding a manifest into lightkube's models drops any field the models do not
know (newer API fields, typos), so the server would never see or reject them.

Every request goes through the core's :class:`~dtm_core.retries.RetryingTransport`: reads,
server-side applies and deletes are idempotent and are retried after a 429, a 5xx, a reset or
a timeout (a delete answered 404 on the repeat is done); each wait is a line of ``progress``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from types import TracebackType
from typing import Any, Literal

import httpx
from lightkube import ApiError, Client
from lightkube.config.client_adapter import verify_cluster
from lightkube.types import CascadeType, PatchType

from ..errors import OperationError
from ..retries import RetryingTransport, network_transport
from .apierrors import ErrorMapper, status_code
from .config import ClusterChoice, choose_cluster
from .kinds import KindResolver, ResourceType, is_namespaced
from .manifests import INSTANCE_LABEL, Manifests, ObjectRef, labelled, load_manifests, managed_labels, tier
from .readiness import WORKLOAD_KINDS, Readiness, crd_established, workload_readiness

__all__ = ["DEFAULT_MANAGED_KINDS", "KubeClient", "Propagation", "load_kube_client"]

Propagation = Literal["Foreground", "Background", "Orphan"]
Progress = Callable[[str], None]

#: The kinds ``list_managed`` looks through unless told otherwise: what install manifests contain.
DEFAULT_MANAGED_KINDS: tuple[tuple[str, str], ...] = (
    ("v1", "Namespace"), ("apiextensions.k8s.io/v1", "CustomResourceDefinition"),
    ("v1", "ServiceAccount"), ("v1", "ConfigMap"), ("v1", "Secret"), ("v1", "Service"),
    ("v1", "PersistentVolumeClaim"), ("rbac.authorization.k8s.io/v1", "ClusterRole"),
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"), ("rbac.authorization.k8s.io/v1", "Role"),
    ("rbac.authorization.k8s.io/v1", "RoleBinding"), ("networking.k8s.io/v1", "NetworkPolicy"),
    ("networking.k8s.io/v1", "Ingress"), ("policy/v1", "PodDisruptionBudget"), ("apps/v1", "Deployment"),
    ("apps/v1", "StatefulSet"), ("apps/v1", "DaemonSet"), ("batch/v1", "Job"), ("batch/v1", "CronJob"),
)


def load_kube_client(environ: Mapping[str, str] | None = None, *,
                     kubeconfig: str | os.PathLike[str] | None = None, context: str | None = None,
                     namespace: str | None = None, timeout: float = 30.0,
                     transport: httpx.BaseTransport | None = None,
                     progress: Progress | None = None) -> KubeClient:
    """A client for the cluster kubectl would use with the same environment and options.

    ``environ``: the environment dtm runs with (``KUBECONFIG``, ``HOME``); default ``os.environ``.
    ``kubeconfig``: one kubeconfig file instead of ``KUBECONFIG`` / ``~/.kube/config``.
    ``context``: instead of the current context. ``namespace``: instead of the context's namespace.
    ``timeout``: seconds for each HTTP request. ``transport``: an httpx transport, for tests.
    ``progress`` (e.g. ``ctx.progress``) gets a line for each retry after a passing failure.
    No request is made until the client is used.
    """
    choice = choose_cluster(os.environ if environ is None else environ, kubeconfig=kubeconfig,
                            context=context, namespace=namespace)
    return KubeClient(choice, timeout=timeout, transport=transport, progress=progress)


class KubeClient:
    """One cluster, as dtm works with it. Every failure is a :class:`~dtm_core.errors.DtmError`."""

    def __init__(self, choice: ClusterChoice, *, timeout: float = 30.0,
                 transport: httpx.BaseTransport | None = None, poll_interval: float = 0.5,
                 progress: Progress | None = None) -> None:
        self._choice = choice
        if transport is None:
            # An httpx client ignores ``verify`` once given a transport: the transport carries the TLS.
            config = choice.config
            assert config.user is not None
            verify = verify_cluster(config.cluster, config.user, config.abs_file)
            transport = network_transport(choice.server, verify=verify)
        retrying = RetryingTransport(transport, service=f"Kubernetes API server {choice.server}",
                                     progress=progress)
        self._client = Client(choice.config, namespace=choice.namespace, timeout=httpx.Timeout(timeout),
                              transport=retrying)
        self._errors = ErrorMapper(choice.server, choice.context)
        self._kinds = KindResolver(self._client, self._errors)
        self.poll_interval = poll_interval

    @property
    def server(self) -> str:
        """The API server's URL."""
        return self._choice.server

    @property
    def context(self) -> str:
        """The kubeconfig context in use."""
        return self._choice.context

    @property
    def namespace(self) -> str:
        """Where namespaced objects without a namespace go."""
        return self._choice.namespace

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> KubeClient:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()

    # -- kinds and references -------------------------------------------------------------------------

    def _resource(self, api_version: str, kind: str, *, doing: str) -> ResourceType:
        found = self._kinds.resolve(api_version, kind)
        if found is None:
            raise OperationError(f"cannot {doing}: the cluster does not serve kind {kind} of {api_version}",
                                 hint="install the CustomResourceDefinition that defines it first "
                                      "(or put it in the same manifests)")
        return found

    def _place(self, obj: dict[str, Any], resource: ResourceType, namespace: str | None) -> ObjectRef:
        """Give a namespaced object its namespace and take it off a cluster-scoped one."""
        meta = obj.setdefault("metadata", {})
        if is_namespaced(resource):
            meta["namespace"] = meta.get("namespace") or namespace or self.namespace
        else:
            meta.pop("namespace", None)
        return ObjectRef.of(obj)

    def refs(self, manifests: Manifests, *, namespace: str | None = None) -> list[ObjectRef]:
        """The objects ``apply`` would write, in its order, without writing anything."""
        objects = sorted(load_manifests(manifests), key=lambda obj: tier(obj["kind"], obj["apiVersion"]))
        for obj in objects:
            if tier(obj["kind"], obj["apiVersion"]) == 1:
                self._kinds.learn(obj)
        return [self._place(obj, self._resource(obj["apiVersion"], obj["kind"], doing=f"read {obj['kind']}"),
                            namespace) for obj in objects]

    # -- apply ------------------------------------------------------------------------------------------

    def apply(self, manifests: Manifests, *, instance: str, namespace: str | None = None,
              field_manager: str = "dtm", labels: Mapping[str, str] | None = None, force: bool = True,
              create_namespace: bool = False, timeout: float = 60.0) -> list[ObjectRef]:
        """Server-side apply ``manifests``; returns what was applied, in the order it was applied.

        Namespaces and CustomResourceDefinitions go first; dtm then waits (up to ``timeout``
        seconds) until the CRDs are established, and applies the rest in manifest order. Every
        object gets ``labels`` and dtm's own (``app.kubernetes.io/managed-by: dtm``,
        ``dtm.dev/instance: <instance>``). Namespaced objects without a namespace go to
        ``namespace`` (default: the context's). ``create_namespace`` applies that Namespace first
        unless it already exists without this instance's label: dtm never adopts (and so never
        deletes) a namespace someone else made.
        ``force`` takes over fields another field manager owns, as ``kubectl apply --server-side
        --force-conflicts`` does.
        """
        marks = {**(labels or {}), **managed_labels(instance)}
        objects = load_manifests(manifests)
        target = namespace or self.namespace
        if create_namespace and self._may_create_namespace(target, instance, objects):
            objects.insert(0, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": target}})
        objects = sorted((labelled(obj, marks) for obj in objects),
                         key=lambda obj: tier(obj["kind"], obj["apiVersion"]))
        for crd in (obj for obj in objects if tier(obj["kind"], obj["apiVersion"]) == 1):
            self._kinds.learn(crd)
        # Resolve every kind before the first write, so an unknown kind fails before anything changes.
        placed = []
        for obj in objects:
            doing = f"apply {obj['kind']} {obj['metadata']['name']}"
            resource = self._resource(obj["apiVersion"], obj["kind"], doing=doing)
            placed.append((obj, resource, self._place(obj, resource, target)))
        first = [item for item in placed if tier(item[2].kind, item[2].api_version) < 2]
        for obj, resource, ref in first:
            self._apply_one(obj, resource, ref, field_manager, force)
        self._wait_established([ref for _, _, ref in first if tier(ref.kind, ref.api_version) == 1], timeout)
        for obj, resource, ref in placed[len(first):]:
            self._apply_one(obj, resource, ref, field_manager, force)
        return [ref for _, _, ref in placed]

    def _apply_one(self, obj: dict[str, Any], resource: ResourceType, ref: ObjectRef, field_manager: str,
                   force: bool) -> None:
        with self._errors("patch", ref):
            self._client.patch(resource, ref.name, obj, namespace=ref.namespace, patch_type=PatchType.APPLY,
                               field_manager=field_manager, force=force)

    def _may_create_namespace(self, name: str, instance: str, objects: Sequence[Mapping[str, Any]]) -> bool:
        if any(ObjectRef.of(obj) == ObjectRef("v1", "Namespace", name) for obj in objects):
            return False  # the manifests bring it themselves
        live = self.get(ObjectRef("v1", "Namespace", name))
        labels = ((live or {}).get("metadata") or {}).get("labels") or {}
        return live is None or labels.get(INSTANCE_LABEL) == instance

    def _wait_established(self, crds: Sequence[ObjectRef], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        for ref in crds:
            while True:
                live = self.get(ref)
                if live is not None and crd_established(live):
                    break
                if time.monotonic() >= deadline:
                    raise OperationError(
                        f"timed out after {timeout:g} s waiting for {ref} to be established",
                        hint=f"see its conditions with 'kubectl get crd {ref.name} -o yaml'")
                time.sleep(self.poll_interval)

    # -- readiness --------------------------------------------------------------------------------------

    def wait_ready(self, refs: Iterable[ObjectRef], *, timeout: float = 300.0,
                   progress: Progress | None = None) -> None:
        """Wait until every Deployment, StatefulSet and DaemonSet in ``refs`` is ready; others are ignored.

        ``progress`` (e.g. ``ctx.progress``) gets a line whenever a workload's count of ready
        replicas changes. Raises :class:`OperationError` naming a workload still unready after
        ``timeout`` seconds, or one whose rollout failed.
        """
        report = progress or (lambda message: None)
        pending = [ref for ref in refs if (ref.api_version, ref.kind) in WORKLOAD_KINDS]
        deadline = time.monotonic() + timeout
        shown: dict[ObjectRef, tuple[int, int]] = {}
        while True:
            states: dict[ObjectRef, Readiness] = {}
            for ref in pending:
                live = self.get(ref)
                if live is None:
                    raise OperationError(f"{ref} was deleted while dtm waited for it to become ready",
                                         hint="something else removed it; run dtm again to re-create it")
                state = workload_readiness(live)
                if state.failure:
                    raise OperationError(f"{ref} cannot become ready: {state.failure}",
                                         hint=_describe_hint(ref))
                if not state.done:
                    states[ref] = state
                    if shown.get(ref) != (state.ready, state.desired):
                        shown[ref] = (state.ready, state.desired)
                        report(f"waiting for {ref} ({state.ready}/{state.desired} ready)")
            pending = list(states)
            if not pending:
                return
            if time.monotonic() >= deadline:
                first, state = pending[0], states[pending[0]]
                others = f"; also not ready: {', '.join(map(str, pending[1:]))}" if pending[1:] else ""
                raise OperationError(
                    f"timed out after {timeout:g} s waiting for {first} to become ready "
                    f"({state.ready}/{state.desired} replicas ready){others}", hint=_describe_hint(first))
            time.sleep(max(0.0, min(self.poll_interval, deadline - time.monotonic())))

    # -- reading ----------------------------------------------------------------------------------------

    def not_ready(self, refs: Iterable[ObjectRef]) -> list[ObjectRef]:
        """The Deployments, StatefulSets and DaemonSets among ``refs`` that are missing or not ready now."""
        pending = []
        for ref in refs:
            if (ref.api_version, ref.kind) not in WORKLOAD_KINDS:
                continue
            live = self.get(ref)
            if live is None or not workload_readiness(live).done:
                pending.append(ref)
        return pending

    def get(self, ref: ObjectRef) -> dict[str, Any] | None:
        """The live object as the server returns it (a plain dict), or None when it does not exist."""
        resource = self._kinds.resolve(ref.api_version, ref.kind)
        if resource is None:
            return None  # no CRD serves the kind, so no object of it can exist
        namespace = (ref.namespace or self.namespace) if is_namespaced(resource) else None
        with self._errors("get", ref):
            try:
                found = self._client.get(resource, ref.name, namespace=namespace)
            except (ApiError, httpx.HTTPStatusError) as error:
                if status_code(error) == 404:
                    return None
                raise
        return _plain(found)

    def exists(self, ref: ObjectRef) -> bool:
        """Whether the object exists (and is not being deleted)."""
        live = self.get(ref)
        return live is not None and not (live.get("metadata") or {}).get("deletionTimestamp")

    def list_managed(self, instance: str, *, kinds: Iterable[tuple[str, str]] = DEFAULT_MANAGED_KINDS,
                     namespace: str | None = None) -> list[ObjectRef]:
        """The objects dtm applied for ``instance`` (found by its labels), in apply order.

        ``kinds``: the (apiVersion, kind) pairs to look through — add your custom kinds; kinds the
        cluster does not serve are skipped. ``namespace``: look only there for namespaced kinds
        (default: all namespaces, which needs cluster-wide list permission).
        """
        selector = managed_labels(instance)
        found: list[ObjectRef] = []
        for api_version, kind in kinds:
            resource = self._kinds.resolve(api_version, kind)
            if resource is None:
                continue
            scope = (namespace or "*") if is_namespaced(resource) else None
            with self._errors("list", f"{kind} objects"):
                try:
                    items = list(self._client.list(resource, namespace=scope, labels=dict(selector)))
                except (ApiError, httpx.HTTPStatusError) as error:
                    if status_code(error) == 404:
                        continue
                    raise
            for item in map(_plain, items):
                meta = item.get("metadata") or {}
                found.append(ObjectRef(api_version, kind, meta["name"], meta.get("namespace") or None))
        return sorted(found, key=lambda ref: tier(ref.kind, ref.api_version))

    # -- delete -----------------------------------------------------------------------------------------

    def delete(self, refs: Iterable[ObjectRef], *, propagation: Propagation = "Foreground", wait: bool = True,
               timeout: float = 300.0) -> list[ObjectRef]:
        """Delete ``refs`` in reverse apply order; returns those that existed. Already gone is fine.

        Ordinary objects go first, then CustomResourceDefinitions, then Namespaces; with ``wait``,
        each group is gone (finalizers and ``propagation`` done) before the next is deleted.
        """
        refs = list(refs)
        deadline = time.monotonic() + timeout
        deleted: list[ObjectRef] = []
        for level in (2, 1, 0):
            batch = [ref for ref in reversed(refs) if tier(ref.kind, ref.api_version) == level]
            hit = [ref for ref in batch if self._delete_one(ref, propagation)]
            deleted.extend(hit)
            if wait:
                self._wait_gone(hit, deadline, timeout)
        return deleted

    def _delete_one(self, ref: ObjectRef, propagation: Propagation) -> bool:
        resource = self._kinds.resolve(ref.api_version, ref.kind)
        if resource is None:
            return False
        namespace = (ref.namespace or self.namespace) if is_namespaced(resource) else None
        with self._errors("delete", ref):
            try:
                self._client.delete(resource, ref.name, namespace=namespace, cascade=CascadeType(propagation))
            except (ApiError, httpx.HTTPStatusError) as error:
                if status_code(error) == 404:
                    return False
                raise
        return True

    def _wait_gone(self, refs: Sequence[ObjectRef], deadline: float, timeout: float) -> None:
        pending = list(refs)
        while pending:
            pending = [ref for ref in pending if self.get(ref) is not None]
            if not pending:
                return
            if time.monotonic() >= deadline:
                first = pending[0]
                others = f"; also still there: {', '.join(map(str, pending[1:]))}" if pending[1:] else ""
                raise OperationError(
                    f"timed out after {timeout:g} s waiting for {first} to be deleted{others}",
                    hint="a finalizer may be holding it; see 'metadata.finalizers' in "
                         f"'kubectl get {_kubectl_name(first)} -o yaml'")
            time.sleep(max(0.0, min(self.poll_interval, deadline - time.monotonic())))


def _plain(found: Any) -> dict[str, Any]:
    """A lightkube object (model or generic) as the JSON-shaped dict the server sent."""
    result: dict[str, Any] = found.to_dict()
    return result


def _kubectl_name(ref: ObjectRef) -> str:
    where = f" -n {ref.namespace}" if ref.namespace else ""
    group = f".{ref.group.split('/')[0]}" if ref.group else ""
    return f"{ref.kind.lower()}{group} {ref.name}{where}"


def _describe_hint(ref: ObjectRef) -> str:
    events = f"'kubectl get events -n {ref.namespace}'" if ref.namespace else "'kubectl get events'"
    return f"see why with 'kubectl describe {_kubectl_name(ref)}' and {events}"
