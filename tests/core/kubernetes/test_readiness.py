"""Readiness rules on statuses the emulator does not produce: lagging generations, DaemonSets, deadlines."""

from __future__ import annotations

from typing import Any

import pytest

from dtm_core.kubernetes.readiness import Readiness, crd_established, workload_readiness


def deployment(status: dict[str, Any], *, replicas: int = 2, generation: int = 2) -> dict[str, Any]:
    return {"kind": "Deployment", "metadata": {"generation": generation}, "spec": {"replicas": replicas},
            "status": status}


AVAILABLE = {"type": "Available", "status": "True"}
READY = {"observedGeneration": 2, "replicas": 2, "updatedReplicas": 2, "readyReplicas": 2,
         "availableReplicas": 2, "conditions": [AVAILABLE]}


@pytest.mark.parametrize(("obj", "expected"), [
    pytest.param(deployment(READY), Readiness(True, 2, 2), id="deployment-ready"),
    pytest.param(deployment({**READY, "observedGeneration": 1}), Readiness(False, 2, 2), id="old-generation"),
    pytest.param(deployment({**READY, "replicas": 3}), Readiness(False, 2, 2), id="old-replicas-left"),
    pytest.param(deployment({"observedGeneration": 2}, replicas=0), Readiness(True, 0, 0),
                 id="scaled-to-zero"),
    pytest.param(deployment({"observedGeneration": 2, "conditions": [
        {"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded",
         "message": 'ReplicaSet "web-1" has timed out progressing.'}]}),
        Readiness(False, 0, 2, failure='ReplicaSet "web-1" has timed out progressing.'), id="deadline"),
    pytest.param({"kind": "StatefulSet", "metadata": {"generation": 1}, "spec": {},
                  "status": {"observedGeneration": 1, "readyReplicas": 1, "currentRevision": "a",
                             "updateRevision": "b"}}, Readiness(False, 1, 1), id="statefulset-rolling"),
    pytest.param({"kind": "DaemonSet", "metadata": {"generation": 1},
                  "status": {"observedGeneration": 1, "desiredNumberScheduled": 3, "numberReady": 3,
                             "updatedNumberScheduled": 3}}, Readiness(True, 3, 3), id="daemonset"),
])
def test_workload_readiness(obj: dict[str, Any], expected: Readiness) -> None:
    assert workload_readiness(obj) == expected


def test_crd_established() -> None:
    assert crd_established({"status": {"conditions": [{"type": "Established", "status": "True"}]}})
    assert not crd_established({"status": {"conditions": [{"type": "NamesAccepted", "status": "True"}]}})
    assert not crd_established({})
