"""When a workload counts as ready and a CustomResourceDefinition as established, from its status alone.

The rules are ``kubectl rollout status``'s: a status describing an older generation says nothing
about the current spec, so ``observedGeneration`` must have caught up before replicas count.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["WORKLOAD_KINDS", "Readiness", "crd_established", "workload_readiness"]

#: (apiVersion, kind) of the objects ``KubeClient.wait_ready`` waits for; others are ready once applied.
WORKLOAD_KINDS = frozenset({("apps/v1", "Deployment"), ("apps/v1", "StatefulSet"), ("apps/v1", "DaemonSet")})


@dataclass(frozen=True)
class Readiness:
    """Whether a workload is ready, and ``ready`` of ``desired`` replicas for progress messages."""

    done: bool
    ready: int
    desired: int
    failure: str | None = None  # set when the rollout cannot finish without a change (deadline exceeded)


def _conditions(status: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    items = status.get("conditions") or []
    return {str(item.get("type")): item for item in items if isinstance(item, Mapping)}


def _observed(obj: Mapping[str, Any]) -> bool:
    generation = (obj.get("metadata") or {}).get("generation")
    observed = (obj.get("status") or {}).get("observedGeneration")
    return generation is None or (observed is not None and observed >= generation)


def workload_readiness(obj: Mapping[str, Any]) -> Readiness:
    """Readiness of a Deployment, StatefulSet or DaemonSet as the server returned it."""
    kind = obj.get("kind")
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    if kind == "DaemonSet":
        desired = int(status.get("desiredNumberScheduled") or 0)
        ready = int(status.get("numberReady") or 0)
        updated = int(status.get("updatedNumberScheduled") or 0)
        return Readiness(_observed(obj) and ready >= desired and updated >= desired, ready, desired)
    desired = int(spec.get("replicas", 1) if spec.get("replicas") is not None else 1)
    ready = int(status.get("readyReplicas") or 0)
    if kind == "Deployment":
        conditions = _conditions(status)
        progressing = conditions.get("Progressing") or {}
        if progressing.get("reason") == "ProgressDeadlineExceeded":
            why = str(progressing.get("message") or "progress deadline exceeded")
            return Readiness(False, ready, desired, failure=why)
        available = (conditions.get("Available") or {}).get("status") == "True"
        updated = int(status.get("updatedReplicas") or 0)
        total = int(status.get("replicas") or 0)
        done = _observed(obj) and (desired == 0 or (
            available and updated >= desired and total <= updated
            and int(status.get("availableReplicas") or 0) >= desired))
        return Readiness(done, ready, desired)
    # StatefulSet: all replicas ready and, during a rolling update, all on the new revision.
    revisions_match = status.get("updateRevision") in (None, status.get("currentRevision"))
    done = _observed(obj) and ready >= desired and (desired == 0 or revisions_match)
    return Readiness(done, ready, desired)


def crd_established(obj: Mapping[str, Any]) -> bool:
    """Whether the API server serves the kinds a CustomResourceDefinition defines."""
    return (_conditions(obj.get("status") or {}).get("Established") or {}).get("status") == "True"
