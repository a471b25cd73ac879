"""Rate limits (primary and secondary), injected faults, pagination and the request log."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from dtm_core.emulators.github import GitHubEmulator


@pytest.fixture
def small() -> Iterator[tuple[GitHubEmulator, httpx.Client]]:
    """An emulator allowing 3 requests per hour, and a client for its only user."""
    with GitHubEmulator(rate_limit=3) as emulator:
        token = emulator.add_user("dana")
        with httpx.Client(base_url=emulator.url, headers={"Authorization": f"token {token}"}) as http:
            yield emulator, http


def test_every_request_spends_the_primary_limit_until_it_is_gone(small: tuple[GitHubEmulator, httpx.Client]
                                                                 ) -> None:
    _, http = small
    seen = [http.get("/user") for _ in range(3)]
    assert [int(reply.headers["X-RateLimit-Remaining"]) for reply in seen] == [2, 1, 0]
    assert {reply.headers["X-RateLimit-Limit"] for reply in seen} == {"3"}
    assert [reply.headers["X-RateLimit-Used"] for reply in seen] == ["1", "2", "3"]
    assert seen[0].headers["X-RateLimit-Resource"] == "core"
    assert int(seen[0].headers["X-RateLimit-Reset"]) > time.time() + 3000  # an hour's window
    spent = http.get("/user")
    assert spent.status_code == 403
    assert spent.json()["message"] == "API rate limit exceeded for user ID 1001."
    assert spent.headers["X-RateLimit-Remaining"] == "0"
    limits = http.get("/rate_limit")  # reading the limits is free, even when they are spent
    assert limits.status_code == 200
    assert limits.json()["resources"]["core"] == limits.json()["rate"]
    assert limits.json()["rate"]["remaining"] == 0 and limits.json()["rate"]["used"] == 3


def test_an_exhausted_primary_limit_recovers_at_its_reset(client: httpx.Client,
                                                          emulator: GitHubEmulator) -> None:
    emulator.exhaust_rate_limit(reset_in=0.4)
    refused = client.get("/user")
    assert refused.status_code == 403 and refused.headers["X-RateLimit-Remaining"] == "0"
    assert refused.json()["message"].startswith("API rate limit exceeded for user ID ")
    assert int(refused.headers["X-RateLimit-Reset"]) <= time.time() + 2
    time.sleep(0.5)
    again = client.get("/user")
    assert again.status_code == 200
    assert int(again.headers["X-RateLimit-Remaining"]) == 4999


def test_the_secondary_limit_answers_with_retry_after(client: httpx.Client, emulator: GitHubEmulator) -> None:
    emulator.exhaust_rate_limit(secondary=True, reset_in=0.3)
    refused = client.get("/user")
    assert refused.status_code == 403
    assert refused.headers["Retry-After"] == "1"
    assert refused.json()["message"].startswith("You have exceeded a secondary rate limit.")
    assert int(refused.headers["X-RateLimit-Remaining"]) > 0  # the primary limit is not what ran out
    time.sleep(0.35)
    assert client.get("/user").status_code == 200


@pytest.mark.parametrize(("status", "message"), [
    (401, "Bad credentials"), (403, "Forbidden"), (404, "Not Found"), (409, "Conflict"),
    (422, "Validation Failed"), (500, "Server Error"), (502, "Server Error"), (503, "Service Unavailable"),
])
def test_injected_faults_use_githubs_error_shape(client: httpx.Client, emulator: GitHubEmulator, status: int,
                                                 message: str) -> None:
    emulator.fail_next("GET", "/user", status)
    failed = client.get("/user")
    assert (failed.status_code, failed.json()["message"]) == (status, message)
    assert failed.json()["documentation_url"].startswith("https://docs.github.com/")
    assert client.get("/user").status_code == 200  # once only


def test_faults_match_method_and_prefix_and_take_headers_bodies_and_counts(client: httpx.Client,
                                                                           emulator: GitHubEmulator) -> None:
    emulator.add_repo("alice", "app", files={"a": "1"})
    emulator.fail_next("*", "/repos/alice/app/contents", 429, times=2, headers={"Retry-After": "7"})
    emulator.fail_next("PATCH", "/repos/alice/app", 500, body={"message": "boom", "documentation_url": "x"})
    assert client.get("/repos/alice/app").status_code == 200  # other paths and methods pass
    throttled = [client.get("/repos/alice/app/contents/a") for _ in range(3)]
    assert [reply.status_code for reply in throttled] == [429, 429, 200]
    assert throttled[0].headers["Retry-After"] == "7"
    assert throttled[0].json()["message"].startswith("You have exceeded a secondary rate limit")
    broken = client.patch("/repos/alice/app", json={"description": "x"})
    assert (broken.status_code, broken.json()) == (500, {"message": "boom", "documentation_url": "x"})
    assert emulator.repo("alice", "app")["description"] is None  # type: ignore[index]


def test_lists_paginate_with_link_headers_like_github(client: httpx.Client, emulator: GitHubEmulator) -> None:
    emulator.add_repo("alice", "hooked")
    hooks = "/repos/alice/hooked/hooks"
    for number in range(65):
        assert client.post(hooks, json={"config": {"url": f"https://ci.example/{number}"}}).status_code == 201
    first = client.get(hooks)
    assert len(first.json()) == 30
    assert first.headers["Link"] == (f'<{emulator.url}{hooks}?page=2>; rel="next", '
                                     f'<{emulator.url}{hooks}?page=3>; rel="last"')
    middle = client.get(hooks, params={"per_page": 30, "page": 2})
    assert [rel.split('rel="')[1].rstrip('"') for rel in middle.headers["Link"].split(", ")] == [
        "prev", "next", "last", "first"]
    assert f"<{emulator.url}{hooks}?per_page=30&page=1>" in middle.headers["Link"]
    last = client.get(hooks, params={"page": 3})
    assert len(last.json()) == 5 and 'rel="next"' not in last.headers["Link"]
    assert 'rel="prev"' in last.headers["Link"] and 'rel="first"' in last.headers["Link"]
    everything = client.get(hooks, params={"per_page": 500})  # capped at 100
    assert len(everything.json()) == 65 and "Link" not in everything.headers
    ids = [hook["id"] for page in (1, 2, 3) for hook in client.get(hooks, params={"page": page}).json()]
    assert ids == sorted(ids) and len(set(ids)) == 65


def test_the_request_log_keeps_order_and_separates_writes(client: httpx.Client,
                                                          emulator: GitHubEmulator) -> None:
    client.get("/user")
    client.post("/user/repos", json={"name": "logged"})
    client.get("/repos/alice/logged", params={"x": "1"})
    client.delete("/repos/alice/logged")
    assert emulator.requests == [("GET", "/user"), ("POST", "/user/repos"),
                                 ("GET", "/repos/alice/logged?x=1"), ("DELETE", "/repos/alice/logged")]
    assert emulator.writes() == [("POST", "/user/repos"), ("DELETE", "/repos/alice/logged")]
    assert [exchange.status for exchange in emulator.exchanges] == [200, 201, 200, 204]


def test_conditional_requests_get_304_and_do_not_spend_the_limit(client: httpx.Client) -> None:
    first = client.get("/user")
    again = client.get("/user", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["X-RateLimit-Remaining"] == first.headers["X-RateLimit-Remaining"]


def test_concurrent_writers_all_land_on_the_same_branch(emulator: GitHubEmulator) -> None:
    emulator.add_repo("alice", "busy", files={"README.md": "x"})

    def write(number: int) -> int:
        with httpx.Client(base_url=emulator.url, headers={"Authorization": "Bearer alice-token"}) as http:
            body = {"message": f"file {number}", "content": base64.b64encode(str(number).encode()).decode()}
            return http.put(f"/repos/alice/busy/contents/parallel/{number}.txt", json=body).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(write, range(40)))
    assert statuses == [201] * 40
    files = emulator.files("alice", "busy")
    assert {path: files[path] for path in files if path.startswith("parallel/")} == {
        f"parallel/{number}.txt": str(number).encode() for number in range(40)}
    assert len(emulator.commits("alice", "busy")) == 41  # one linear history: no write was lost
