"""Watches: chunked JSON lines of ADDED, MODIFIED and DELETED, from a resourceVersion, until the timeout."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx

CONFIGMAPS = "/api/v1/namespaces/default/configmaps"
DEPLOYMENTS = "/apis/apps/v1/namespaces/default/deployments"
MERGE = {"Content-Type": "application/merge-patch+json"}


Events = list[tuple[str, dict[str, Any]]]


def _watch(client: httpx.Client, url: str, **params: str) -> tuple[Events, httpx.Headers]:
    events = []
    with client.stream("GET", url, params={"watch": "true", "timeoutSeconds": "1", **params}) as response:
        assert response.status_code == 200
        for line in response.iter_lines():
            if line:
                event = json.loads(line)
                events.append((event["type"], event["object"]))
        return events, response.headers


def _configmap(name: str, **labels: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "labels": labels}}


def test_a_watch_replays_changes_after_its_resource_version(client: httpx.Client) -> None:
    start = client.get(CONFIGMAPS).json()["metadata"]["resourceVersion"]
    client.post(CONFIGMAPS, json=_configmap("a"))
    client.patch(f"{CONFIGMAPS}/a", json={"data": {"k": "v"}}, headers=MERGE)
    client.delete(f"{CONFIGMAPS}/a")
    client.post("/api/v1/namespaces/kube-system/configmaps", json=_configmap("elsewhere"))
    began = time.monotonic()
    events, headers = _watch(client, CONFIGMAPS, resourceVersion=start)
    assert 0.9 < time.monotonic() - began < 3  # ends at timeoutSeconds
    assert headers["Transfer-Encoding"] == "chunked"
    assert [(kind, obj["metadata"]["name"]) for kind, obj in events] == [
        ("ADDED", "a"), ("MODIFIED", "a"), ("DELETED", "a")]
    versions = [int(obj["metadata"]["resourceVersion"]) for _, obj in events]
    assert versions == sorted(versions) and versions[0] > int(start)
    assert events[1][1]["data"] == {"k": "v"} and events[0][1]["kind"] == "ConfigMap"


def test_a_watch_without_version_starts_with_the_current_state(client: httpx.Client) -> None:
    client.post(CONFIGMAPS, json=_configmap("one"))
    client.post(CONFIGMAPS, json=_configmap("two"))
    events, _ = _watch(client, CONFIGMAPS, watch="1")
    assert [(kind, obj["metadata"]["name"]) for kind, obj in events] == [("ADDED", "one"), ("ADDED", "two")]


def test_a_single_object_watch_sees_only_that_object_and_selectors_see_objects_leave(
        client: httpx.Client) -> None:
    start = client.get(CONFIGMAPS).json()["metadata"]["resourceVersion"]
    client.post(CONFIGMAPS, json=_configmap("mine", team="a"))
    client.post(CONFIGMAPS, json=_configmap("other", team="a"))
    client.patch(f"{CONFIGMAPS}/mine", json={"metadata": {"labels": {"team": "b"}}}, headers=MERGE)
    single, _ = _watch(client, CONFIGMAPS, resourceVersion=start, fieldSelector="metadata.name=mine")
    assert [kind for kind, _ in single] == ["ADDED", "MODIFIED"]
    labelled, _ = _watch(client, CONFIGMAPS, resourceVersion=start, labelSelector="team=a")
    assert [(kind, obj["metadata"]["name"]) for kind, obj in labelled] == [
        ("ADDED", "mine"), ("ADDED", "other"), ("DELETED", "mine")]


def test_a_live_watch_streams_the_controller_making_a_deployment_ready(
        client: httpx.Client, make_deployment: Callable[..., dict[str, Any]]) -> None:
    start = client.get(DEPLOYMENTS).json()["metadata"]["resourceVersion"]
    created = threading.Timer(0.2, lambda: client.post(DEPLOYMENTS, json=make_deployment("web")))
    created.start()
    events, _ = _watch(client, DEPLOYMENTS, resourceVersion=start, timeoutSeconds="2",
                       fieldSelector="metadata.name=web")
    created.join()
    available = [next((c["status"] for c in obj["status"].get("conditions", []) if c["type"] == "Available"),
                      None) for _, obj in events]
    assert events[0][0] == "ADDED" and available[0] is None
    assert "False" in available and available[-1] == "True"
    assert events[-1][1]["status"]["readyReplicas"] == 1


def test_a_watch_from_a_malformed_version_is_refused(client: httpx.Client) -> None:
    answer = client.get(CONFIGMAPS, params={"watch": "true", "resourceVersion": "abc"})
    assert answer.status_code == 422 and answer.json()["reason"] == "Invalid"


def test_the_old_watch_path_works_too(client: httpx.Client) -> None:
    start = client.get(CONFIGMAPS).json()["metadata"]["resourceVersion"]
    client.post(CONFIGMAPS, json=_configmap("legacy"))
    with client.stream("GET", "/api/v1/watch/namespaces/default/configmaps",
                       params={"resourceVersion": start, "timeoutSeconds": "1"}) as response:
        lines = [json.loads(line) for line in response.iter_lines() if line]
    assert [event["type"] for event in lines] == ["ADDED"]
