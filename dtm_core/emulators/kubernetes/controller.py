"""Emulated controllers: workloads and Argo CD Applications turn ready after a delay; deletions finish.

Argo CD's server is emulated as far as the cluster sees it: the first time a Deployment named
``argocd-server`` is ready, its namespace gets the ``argocd-initial-admin-secret`` the real
server writes on first start (unless it exists already).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from typing import Any

from .api import Api, WriteOptions, now, write_status
from .errors import ApiError
from .lifecycle import reconcile_deletions
from .resources import ResourceType

NEVER_READY = "emulator.dtm.dev/never-ready"
WORKLOADS = (("apps", "deployments"), ("apps", "statefulsets"), ("", "persistentvolumeclaims"))
APPLICATIONS = ("argoproj.io", "applications")
ARGOCD_SERVER = "argocd-server"
INITIAL_ADMIN_SECRET = "argocd-initial-admin-secret"


def _digest(value: Any, length: int) -> str:
    return hashlib.sha1(json.dumps(value, sort_keys=True).encode()).hexdigest()[:length]


def _condition(previous: list[dict[str, Any]], kind: str, status: str, reason: str, message: str
               ) -> dict[str, Any]:
    """A condition that keeps its transition time while its status stays the same."""
    old = next((c for c in previous if c.get("type") == kind), {})
    stamp = now()
    same = old.get("status") == status and old.get("reason") == reason
    return {"type": kind, "status": status,
            "lastUpdateTime": old.get("lastUpdateTime", stamp) if same else stamp,
            "lastTransitionTime": (old.get("lastTransitionTime", stamp) if old.get("status") == status
                                   else stamp),
            "reason": reason, "message": message}


def deployment_status(obj: dict[str, Any], ready: bool) -> dict[str, Any]:
    replicas = obj["spec"].get("replicas", 1)
    previous = (obj.get("status") or {}).get("conditions", [])
    replica_set = f'{obj["metadata"]["name"]}-{_digest(obj["spec"].get("template"), 10)}'
    status: dict[str, Any] = {"observedGeneration": obj["metadata"].get("generation", 1)}
    if replicas:
        status.update(replicas=replicas, updatedReplicas=replicas)
    if ready or not replicas:
        if replicas:
            status.update(readyReplicas=replicas, availableReplicas=replicas)
        available = _condition(previous, "Available", "True", "MinimumReplicasAvailable",
                               "Deployment has minimum availability.")
        progressing = _condition(previous, "Progressing", "True", "NewReplicaSetAvailable",
                                 f'ReplicaSet "{replica_set}" has successfully progressed.')
    else:
        status["unavailableReplicas"] = replicas
        available = _condition(previous, "Available", "False", "MinimumReplicasUnavailable",
                               "Deployment does not have minimum availability.")
        progressing = _condition(previous, "Progressing", "True", "ReplicaSetUpdated",
                                 f'ReplicaSet "{replica_set}" is progressing.')
    status["conditions"] = [available, progressing]
    return status


def statefulset_status(obj: dict[str, Any], ready: bool) -> dict[str, Any]:
    replicas = obj["spec"].get("replicas", 1)
    revision = f'{obj["metadata"]["name"]}-{_digest(obj["spec"].get("template"), 10)}'
    status: dict[str, Any] = {"observedGeneration": obj["metadata"].get("generation", 1),
                              "replicas": replicas,
                              "availableReplicas": replicas if ready else 0, "currentRevision": revision,
                              "updateRevision": revision, "collisionCount": 0}
    if ready and replicas:
        status.update(readyReplicas=replicas, currentReplicas=replicas, updatedReplicas=replicas)
    return status


def application_status(obj: dict[str, Any], ready: bool) -> dict[str, Any]:
    spec = obj.get("spec", {})
    source = spec.get("source") or (spec.get("sources") or [{}])[0]
    status = dict(obj.get("status") or {})
    if not ready:
        status.update(sync={"status": "OutOfSync", "comparedTo": {"source": source,
                                                                 "destination": spec.get("destination", {})}},
                      health={"status": "Progressing"})
        return status
    previous = status.get("health", {})
    status.update(
        sync={"status": "Synced", "revision": _digest([source.get("repoURL"), source.get("path"),
                                                      source.get("targetRevision", "HEAD")], 40),
              "comparedTo": {"source": source, "destination": spec.get("destination", {})}},
        health={"status": "Healthy", "lastTransitionTime": previous.get("lastTransitionTime", now())
                if previous.get("status") == "Healthy" else now()},
        reconciledAt=(status.get("reconciledAt") if status.get("sync", {}).get("status") == "Synced"
                      else now()))
    return status


class Controller:
    """A background thread standing in for kube-controller-manager and Argo CD's application controller."""

    def __init__(self, api: Api, ready_delay: float, interval: float = 0.05) -> None:
        self.api = api
        self.ready_delay = ready_delay
        self.interval = interval
        self._since: dict[tuple[str, str, str, str], tuple[Any, float]] = {}
        self._deletions_seen = -1  # the store version the deletion pass last ran at
        self._servers_started: set[str] = set()  # uids of argocd-server Deployments seen ready
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="k8s-emulator-controller", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.reconcile()
            self._stop.wait(self.interval)

    def _ready(self, key: tuple[str, str, str, str], marker: Any, obj: dict[str, Any]) -> bool:
        """Whether ``ready_delay`` has passed since the object's last change of ``marker``."""
        seen = self._since.get(key)
        if seen is None or seen[0] != marker:
            seen = self._since[key] = (marker, time.monotonic())
        never = (obj["metadata"].get("annotations") or {}).get(NEVER_READY) == "true"
        return not never and time.monotonic() - seen[1] >= self.ready_delay

    def reconcile(self) -> None:
        # Scanning every object is only worth it after a change or while deletions are pending.
        version = self.api.store.rv
        if version != self._deletions_seen:
            pending = reconcile_deletions(self.api)
            self._deletions_seen = -1 if pending else version
        for group, plural in (*WORKLOADS, APPLICATIONS):
            served = self.api.registry.served(group, plural)
            if served:
                self._reconcile_kind(served[0], plural)

    def _reconcile_kind(self, rtype: ResourceType, plural: str) -> None:
        for obj in self.api.store.items(rtype.group, rtype.plural):
            meta = obj["metadata"]
            if meta.get("deletionTimestamp"):
                continue
            key = (rtype.group, plural, meta.get("namespace", ""), meta["name"])
            if plural == "applications":
                ready = self._ready(key, (meta["uid"], _digest(obj.get("spec"), 40)), obj)
                status, manager = application_status(obj, ready), "argocd-application-controller"
            elif plural == "persistentvolumeclaims":
                ready = self._ready(key, meta["uid"], obj)
                status = {**(obj.get("status") or {}), "phase": "Bound" if ready else "Pending"}
                manager = "kube-controller-manager"
            else:
                ready = self._ready(key, (meta["uid"], meta.get("generation")), obj)
                build = deployment_status if plural == "deployments" else statefulset_status
                status, manager = build(obj, ready), "kube-controller-manager"
            if status != obj.get("status"):
                write_status(self.api, rtype, obj, status, manager)
            if plural == "deployments" and meta["name"] == ARGOCD_SERVER and ready \
                    and meta["uid"] not in self._servers_started:
                # Only on the server's first start: deleting the secret later must stick.
                self._servers_started.add(meta["uid"])
                self._ensure_initial_admin_secret(meta.get("namespace", ""))

    def _ensure_initial_admin_secret(self, namespace: str) -> None:
        secrets_type = self.api.registry.lookup("", "v1", "secrets")
        if secrets_type is None or self.api.store.get("", "secrets", namespace, INITIAL_ADMIN_SECRET):
            return
        password = secrets.token_urlsafe(12)
        body = {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                "metadata": {"name": INITIAL_ADMIN_SECRET, "namespace": namespace},
                "data": {"password": base64.b64encode(password.encode()).decode()}}
        try:
            self.api.create(secrets_type, namespace, body, WriteOptions(manager="argocd-server"))
        except ApiError:
            pass  # the namespace is going away, or someone created it meanwhile
