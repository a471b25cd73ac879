"""The emulators' shared fault layer: rates, a reproducible draw, each fault as an httpx client sees it."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from dtm_core.emulators.faults import FaultPlan, FaultRates
from dtm_core.emulators.github import GitHubEmulator
from dtm_core.emulators.jenkins import JenkinsEmulator
from dtm_core.emulators.kubernetes import KubernetesEmulator
from dtm_core.emulators.serving import Emulator

JOB = b"<?xml version='1.1' encoding='UTF-8'?><project><description>made</description></project>"


@dataclass
class Vendor:
    """One emulator, a client for it, a write that creates something, and how to see that it exists."""

    emulator: Emulator
    client: httpx.Client
    create: Callable[[httpx.Client], httpx.Response]
    created: Callable[[], bool]
    error_type: str  # the Content-Type of the vendor's error replies


def _github() -> tuple[Emulator, Callable[[], Vendor]]:
    gh = GitHubEmulator()

    def ready() -> Vendor:
        token = gh.add_user("octo")
        client = httpx.Client(base_url=gh.url, headers={"Authorization": f"Bearer {token}"}, timeout=0.5)
        return Vendor(gh, client, lambda http: http.post("/user/repos", json={"name": "app"}),
                      lambda: gh.repo("octo", "app") is not None, "application/json; charset=utf-8")

    return gh, ready


def _kubernetes() -> tuple[Emulator, Callable[[], Vendor]]:
    cluster = KubernetesEmulator()

    def ready() -> Vendor:
        client = httpx.Client(base_url=cluster.url, timeout=0.5)
        return Vendor(cluster, client,
                      lambda http: http.post("/api/v1/namespaces/default/configmaps",
                                             json={"metadata": {"name": "app"}}),
                      lambda: cluster.get("ConfigMap", "app", "default") is not None, "application/json")

    return cluster, ready


def _jenkins() -> tuple[Emulator, Callable[[], Vendor]]:
    jenkins = JenkinsEmulator()

    def ready() -> Vendor:
        client = httpx.Client(base_url=jenkins.url, auth=("admin", jenkins.api_token("admin")), timeout=0.5)
        return Vendor(jenkins, client,
                      lambda http: http.post("createItem", params={"name": "app"}, content=JOB,
                                             headers={"Content-Type": "application/xml"}),
                      lambda: "app" in jenkins.jobs(), "text/html;charset=iso-8859-1")

    return jenkins, ready


@pytest.fixture(params=[_github, _kubernetes, _jenkins], ids=["github", "kubernetes", "jenkins"])
def vendor(request: pytest.FixtureRequest) -> Iterator[Vendor]:
    emulator, ready = request.param()
    with emulator:
        made = ready()
        with made.client:
            yield made


# -- rates and the draw -------------------------------------------------------------------------------


def test_mixed_rates_split_the_failures_evenly_and_slow_as_many_down() -> None:
    rates = FaultRates.mixed(0.2)
    assert (rates.throttle, rates.server_error, rates.reset, rates.timeout) == (0.05, 0.05, 0.05, 0.05)
    assert rates.latency == 0.2 and rates.failing == pytest.approx(0.2)


def test_rates_parse_from_one_number_or_named_fields() -> None:
    assert FaultRates.parse("0.2") == FaultRates.mixed(0.2)
    assert FaultRates.parse("reset=0.1, stall=2, retry-after=3") == FaultRates(reset=0.1, stall=2.0,
                                                                               retry_after=3)
    with pytest.raises(ValueError, match="unknown fault setting 'resets'"):
        FaultRates.parse("resets=0.1")
    with pytest.raises(ValueError, match="add up to 1.2, more than 1"):
        FaultRates(reset=0.6, timeout=0.6)
    with pytest.raises(ValueError, match="is not between 0 and 1"):
        FaultRates.parse("2")
    with pytest.raises(ValueError, match="fault setting delay=-1.0 is negative"):
        FaultRates.parse("latency=1,delay=-1")


def test_rates_survive_their_text_form_exactly() -> None:
    # The sandbox hands its background process the rates as text.
    for rates in (FaultRates.mixed(1 / 3), FaultRates(reset=0.1, stall=2.5, retry_after=3), FaultRates()):
        assert FaultRates.parse(rates.text()) == rates


def test_the_same_seed_draws_the_same_faults() -> None:
    def draws(seed: int) -> list[Any]:
        plan = FaultPlan(FaultRates.mixed(0.5), seed=seed)
        return [plan.draw() for _ in range(200)]

    assert draws(7) == draws(7)
    assert draws(7) != draws(8)


def test_the_plan_counts_what_it_injected_by_kind_and_by_when() -> None:
    plan = FaultPlan(FaultRates.mixed(0.4, after=0.5), seed=3)
    drawn = [plan.draw() for _ in range(500)]
    counts = plan.counts()
    failures = [fault for fault in drawn if fault is not None and fault.kind is not None]
    assert plan.failures == len(failures) == counts["before"] + counts["after"]
    assert {kind: counts[kind] for kind in ("throttle", "server_error", "reset", "timeout")} == {
        kind: sum(fault.kind == kind for fault in failures) for kind in ("throttle", "server_error", "reset",
                                                                         "timeout")}
    assert all(not fault.after for fault in failures if fault.kind == "throttle")  # a 429 did nothing
    assert 0 < counts["after"] < len(failures)
    plan.pause()
    assert [plan.draw() for _ in range(50)] == [None] * 50
    assert plan.counts() == counts


# -- each fault as a client sees it -----------------------------------------------------------------


def test_a_throttled_request_gets_429_with_retry_after_in_the_vendors_words(vendor: Vendor) -> None:
    vendor.emulator.faults.set(FaultRates(throttle=1.0, retry_after=7))
    answer = vendor.create(vendor.client)
    assert (answer.status_code, answer.headers["Retry-After"]) == (429, "7")
    assert answer.headers["Content-Type"] == vendor.error_type
    assert not vendor.created()
    assert vendor.emulator.faults.counts() == {"throttle": 1, "before": 1}


@pytest.mark.parametrize("after", [False, True], ids=["before", "after"])
def test_a_server_error_answers_500_502_or_503_and_after_the_work_it_was_done(vendor: Vendor,
                                                                              after: bool) -> None:
    vendor.emulator.faults.set(FaultRates(server_error=1.0, after=1.0 if after else 0.0), seed=1)
    answer = vendor.create(vendor.client)
    assert answer.status_code in (500, 502, 503)
    assert answer.headers["Content-Type"] == vendor.error_type
    assert vendor.created() is after
    vendor.emulator.faults.pause()
    assert vendor.client.get("/").status_code < 500  # the connection and the emulator still work


def test_github_and_kubernetes_error_bodies_are_their_vendors(vendor: Vendor) -> None:
    vendor.emulator.faults.set(FaultRates(server_error=1.0))
    body = vendor.create(vendor.client).text
    if isinstance(vendor.emulator, GitHubEmulator):
        assert json.loads(body)["documentation_url"].startswith("https://docs.github.com/")
    elif isinstance(vendor.emulator, KubernetesEmulator):
        assert json.loads(body)["kind"] == "Status"
    else:
        assert "<h2>HTTP ERROR 50" in body and "Powered by Jetty" in body


@pytest.mark.parametrize("after", [False, True], ids=["before", "after"])
def test_a_reset_loses_the_answer_and_after_the_work_the_write_happened(vendor: Vendor, after: bool) -> None:
    vendor.emulator.faults.set(FaultRates(reset=1.0, after=1.0 if after else 0.0))
    with pytest.raises(httpx.ReadError, match="Connection reset by peer"):
        vendor.create(vendor.client)
    assert vendor.created() is after
    assert vendor.emulator.faults.counts() == {"reset": 1, "after" if after else "before": 1}


def test_a_timeout_holds_the_request_past_the_clients_patience(vendor: Vendor) -> None:
    vendor.emulator.faults.set(FaultRates(timeout=1.0, stall=1.0, after=1.0))
    with pytest.raises(httpx.ReadTimeout):
        vendor.create(vendor.client)
    assert vendor.created()  # the server did the work; the client will never know


def test_latency_slows_a_request_without_failing_it(vendor: Vendor) -> None:
    vendor.emulator.faults.set(FaultRates(latency=1.0, delay=0.01))
    assert vendor.create(vendor.client).status_code in (200, 201)
    assert vendor.emulator.faults.counts() == {"latency": 1}


def test_a_kubernetes_watch_streams_whatever_the_rates() -> None:
    watching = {"watch": "true", "timeoutSeconds": "1"}
    with KubernetesEmulator(faults=FaultRates(reset=1.0)) as cluster:
        with httpx.Client(base_url=cluster.url) as http, \
                http.stream("GET", "/api/v1/namespaces", params=watching) as watch:
            events = [json.loads(line) for line in watch.iter_lines() if line]
        assert {event["object"]["metadata"]["name"] for event in events} >= {"default", "kube-system"}
        assert cluster.faults.failures == 0
