"""The sandbox's Kubernetes: the API server emulator, a kubeconfig for it, and its objects kept on demand.

With ``--persist`` the whole object store (CRDs, namespaces, workloads, Applications …) is
saved as JSON on stop and put back before the next start; objects keep their uid and
creation time, and get new resourceVersions, as after an etcd restore.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .service import RunningService, SandboxService

if TYPE_CHECKING:
    from ..emulators.faults import FaultRates
    from ..emulators.kubernetes import KubernetesEmulator

SNAPSHOT = "objects.json"
CONTEXT = "dtm-sandbox"
_CRDS = ("apiextensions.k8s.io", "customresourcedefinitions")


class KubernetesService(SandboxService):
    name = "kubernetes"
    description = "Kubernetes API server emulator (kubectl and dtm's Kubernetes tools)"

    def __init__(self, ready_delay: float = 0.5, *, faults: FaultRates | None = None,
                 fault_seed: int = 0) -> None:
        self.ready_delay = ready_delay
        self.faults = faults
        self.fault_seed = fault_seed

    def start(self, workdir: Path, persist: bool) -> RunningService:
        from ..emulators.kubernetes import KubernetesEmulator

        # No token required: kubectl sends none over plain HTTP, and the emulator has no TLS. Any
        # local user can reach the loopback port (docs/sandbox.md says so).
        emulator = KubernetesEmulator(self.ready_delay, faults=self.faults, fault_seed=self.fault_seed)
        snapshot = workdir / SNAPSHOT
        if persist and snapshot.exists():
            restore(emulator, json.loads(snapshot.read_text(encoding="utf-8")))
        emulator.start()
        kubeconfig = emulator.write_kubeconfig(workdir / "kubeconfig", context=CONTEXT)
        return RunningKubernetes(emulator, kubeconfig, snapshot if persist else None)


class RunningKubernetes(RunningService):
    def __init__(self, emulator: KubernetesEmulator, kubeconfig: Path, snapshot: Path | None) -> None:
        super().__init__({"api": emulator.url}, {"KUBECONFIG": str(kubeconfig)})
        self.emulator = emulator
        self.kubeconfig = kubeconfig
        self.snapshot = snapshot

    def summary(self) -> dict[str, Any]:
        objects = self.emulator.objects

        def names(kind: str, namespaced: bool = True) -> list[str]:
            found = objects(kind)
            return [f'{o["metadata"]["namespace"]}/{o["metadata"]["name"]}' if namespaced
                    else o["metadata"]["name"] for o in found]

        def ready(obj: dict[str, Any]) -> str:
            status = obj.get("status") or {}
            return f'{status.get("readyReplicas", 0)}/{obj.get("spec", {}).get("replicas", 1)}'

        workloads = [f'{o["metadata"]["namespace"]}/{o["metadata"]["name"]} ({ready(o)} ready)'
                     for kind in ("Deployment", "StatefulSet") for o in objects(kind)]
        return {"namespaces": names("Namespace", namespaced=False), "workloads": workloads,
                "applications": names("Application") if self.emulator.registry.find("Application") else [],
                **self.emulator.faults.summary()}

    def stop(self) -> None:
        if self.snapshot is not None:
            self.snapshot.write_text(json.dumps(snapshot(self.emulator)), encoding="utf-8")
        self.emulator.stop()
        # The token in it dies with the emulator; a persisted sandbox writes a new one on start.
        self.kubeconfig.unlink(missing_ok=True)


def snapshot(emulator: KubernetesEmulator) -> dict[str, Any]:
    """Every stored object, as stored, by group resource."""
    store = emulator.store
    with store.lock:
        return {"format": 1, "objects": [{"group": group, "plural": plural, "object": obj}
                                         for group, plural in store.group_resources()
                                         for obj in store.items(group, plural)]}


def restore(emulator: KubernetesEmulator, data: dict[str, Any]) -> None:
    """Put a snapshot back into a fresh emulator, CRDs first so their types exist for the rest."""
    entries = sorted(data.get("objects") or [], key=lambda e: (e["group"], e["plural"]) != _CRDS)
    with emulator.store.lock:
        for entry in entries:
            stored = emulator.store.put(entry["group"], entry["plural"], entry["object"], "ADDED")
            if (entry["group"], entry["plural"]) == _CRDS:
                emulator.registry.add_crd(stored)
