"""dtm_core.retries: what the transport repeats, how long it waits, and look-before-create."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import httpx
import pytest

from dtm_core.errors import OperationError
from dtm_core.retries import (
    RetryingTransport,
    RetryPolicy,
    UncertainWrite,
    attempts_of,
    create_once,
    is_uncertain,
    network_transport,
)

Handler = Callable[[httpx.Request], httpx.Response]


class Recorder:
    """A stand-in network: answers from a script, records what was sent and how long dtm slept."""

    def __init__(self, *script: httpx.Response | Exception) -> None:
        self.script = list(script)
        self.sent: list[str] = []
        self.slept: list[float] = []
        self.progress: list[str] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(f"{request.method} {request.url.path}")
        step = self.script.pop(0) if len(self.script) > 1 else self.script[0]
        if isinstance(step, Exception):
            raise step
        return step

    def client(self, policy: RetryPolicy | None = None) -> httpx.Client:
        transport = RetryingTransport(httpx.MockTransport(self.handle), policy=policy, service="Thing API",
                                      progress=self.progress.append, sleep=self.slept.append,
                                      clock=lambda: sum(self.slept))
        return httpx.Client(base_url="https://thing.test", transport=transport)


def reset() -> httpx.ReadError:
    return httpx.ReadError("[Errno 104] Connection reset by peer")


def test_a_read_is_retried_after_5xx_and_resets_with_a_doubling_backoff() -> None:
    net = Recorder(httpx.Response(503), reset(), httpx.Response(502), httpx.Response(200, json={"ok": 1}))
    with net.client(RetryPolicy(backoff=0.5, max_backoff=8.0)) as http:
        answer = http.get("/things/a")
    assert answer.json() == {"ok": 1} and attempts_of(answer.request) == 4
    assert net.slept == [0.5, 1.0, 2.0]
    assert net.progress == ["Thing API: 503 on GET /things/a; retrying in 0.5 s (try 2 of 5)",
                            "Thing API: lost connection on GET /things/a; retrying in 1 s (try 3 of 5)",
                            "Thing API: 502 on GET /things/a; retrying in 2 s (try 4 of 5)"]


def test_the_backoff_is_capped_and_the_last_answer_is_handed_back() -> None:
    net = Recorder(httpx.Response(500))
    with net.client(RetryPolicy(attempts=6, backoff=1.0, max_backoff=3.0)) as http:
        answer = http.get("/things/a")
    assert answer.status_code == 500 and attempts_of(answer.request) == 6
    assert net.slept == [1.0, 2.0, 3.0, 3.0, 3.0]


def test_the_time_budget_stops_the_retries_early() -> None:
    net = Recorder(httpx.Response(503))
    with net.client(RetryPolicy(attempts=10, backoff=1.0, max_backoff=8.0, budget=10.0)) as http:
        assert http.get("/things/a").status_code == 503
    assert net.slept == [1.0, 2.0, 4.0]  # the next wait (8 s) would pass the 10 s budget


def test_a_429_waits_as_long_as_retry_after_asks_for_any_method() -> None:
    net = Recorder(httpx.Response(429, headers={"Retry-After": "3"}), httpx.Response(201))
    with net.client() as http:
        assert http.post("/things", json={"name": "a"}).status_code == 201
    assert net.slept == [3.0] and net.sent == ["POST /things"] * 2
    assert net.progress == ["Thing API: 429 on POST /things; retrying in 3 s as it asks"]


def test_a_429_asking_for_longer_than_the_policy_allows_is_the_callers() -> None:
    net = Recorder(httpx.Response(429, headers={"Retry-After": "600"}))
    with net.client(RetryPolicy(max_retry_after=60)) as http:
        assert http.get("/things/a").status_code == 429
    assert net.sent == ["GET /things/a"] and net.slept == []


@pytest.mark.parametrize("failure", [httpx.Response(502), reset(), httpx.ReadTimeout("timed out")],
                         ids=["502", "reset", "timeout"])
def test_a_create_that_may_have_happened_is_never_sent_twice(failure: httpx.Response | Exception) -> None:
    net = Recorder(failure, httpx.Response(201))
    with net.client() as http:
        if isinstance(failure, Exception):
            with pytest.raises(type(failure)):
                http.post("/things", json={"name": "a"})
        else:
            assert http.post("/things", json={"name": "a"}).status_code == 502
    assert net.sent == ["POST /things"]


def test_a_refused_connection_is_tried_again_only_briefly() -> None:
    refusal = httpx.ConnectError("[Errno 111] Connection refused")
    net = Recorder(*[refusal] * RetryPolicy.attempts, httpx.Response(200))
    with net.client() as http, pytest.raises(httpx.ConnectError):
        http.get("/things")
    assert net.sent == ["GET /things"] * RetryPolicy.refused_attempts
    timeout = httpx.ConnectTimeout("timed out")
    net = Recorder(*[timeout] * (RetryPolicy.attempts - 1), httpx.Response(200))
    with net.client() as http:
        assert http.get("/things").status_code == 200
    assert net.sent == ["GET /things"] * RetryPolicy.attempts


def test_a_request_that_never_left_is_retried_whatever_its_method() -> None:
    net = Recorder(httpx.ConnectError("[Errno 111] Connection refused"), httpx.Response(201))
    with net.client() as http:
        assert http.post("/things", json={"name": "a"}).status_code == 201
    assert net.sent == ["POST /things"] * 2


@pytest.mark.parametrize(("method", "headers", "extensions", "retried"), [
    ("PUT", {}, {}, True),
    ("DELETE", {}, {}, True),
    ("PATCH", {"Content-Type": "application/apply-patch+yaml"}, {}, True),
    ("PATCH", {"Content-Type": "application/merge-patch+json"}, {}, False),
    ("POST", {}, {"idempotent": True}, True),
    ("GET", {}, {"idempotent": False}, False),
], ids=["put", "delete", "server-side-apply", "merge-patch", "post-marked", "get-unmarked"])
def test_what_counts_as_idempotent(method: str, headers: dict[str, str], extensions: dict[str, bool],
                                   retried: bool) -> None:
    net = Recorder(httpx.Response(503), httpx.Response(200))
    with net.client() as http:
        answer = http.request(method, "/things/a", headers=headers, extensions=extensions, content=b"{}")
    assert (answer.status_code == 200) is retried
    assert len(net.sent) == (2 if retried else 1)


def test_a_client_may_narrow_the_statuses_and_methods_retried() -> None:
    net = Recorder(httpx.Response(503), httpx.Response(200))
    with net.client(RetryPolicy(statuses=frozenset({500}), idempotent_methods=frozenset({"GET"}))) as http:
        assert http.get("/things/a").status_code == 503
        assert http.put("/things/a", content=b"x").status_code == 200  # PUT is not idempotent here: sent once
    assert net.sent == ["GET /things/a", "PUT /things/a"]


def test_the_class_defaults_apply_to_transports_made_before_they_changed(
        monkeypatch: pytest.MonkeyPatch) -> None:
    net = Recorder(httpx.Response(503))
    http = net.client()
    monkeypatch.setattr(RetryPolicy, "attempts", 2)
    with http:
        http.get("/things/a")
    assert len(net.sent) == 2


# -- uncertainty and create_once -------------------------------------------------------------------


def test_what_leaves_a_write_uncertain() -> None:
    assert is_uncertain(reset()) and is_uncertain(httpx.ReadTimeout("t"))
    assert is_uncertain(UncertainWrite("x"))
    assert not is_uncertain(httpx.ConnectError("refused"))
    assert not is_uncertain(httpx.UnsupportedProtocol("Request URL is missing an 'http://' protocol."))
    assert not is_uncertain(httpx.LocalProtocolError("Illegal header value"))
    assert not is_uncertain(OperationError("422: name taken"))
    marked = OperationError("lost")
    marked.uncertain = True  # type: ignore[attr-defined]  # how a plugin's own error says so
    assert is_uncertain(marked)


class Service:
    """A remote collection whose create may do its work and still fail (``lose`` the answer)."""

    def __init__(self, *failures: Exception | None, done_anyway: bool = False) -> None:
        self.failures = list(failures)
        self.done_anyway = done_anyway
        self.items: list[str] = []
        self.calls: list[str] = []

    def create(self) -> str:
        self.calls.append("create")
        failure = self.failures.pop(0) if self.failures else None
        if failure is None or self.done_anyway:
            self.items.append("thing")
        if failure is not None:
            raise failure
        return "thing"

    def look(self) -> str | None:
        self.calls.append("look")
        return "thing" if self.items else None


def test_create_once_adopts_what_a_lost_create_made() -> None:
    service, notes = Service(UncertainWrite("502"), done_anyway=True), []
    assert create_once(service.create, service.look, what="creating thing", progress=notes.append) == "thing"
    assert service.calls == ["create", "look"] and service.items == ["thing"]
    assert notes == ["creating thing may or may not have happened (502); looking before trying again",
                     "creating thing had happened; carrying on with it"]


def test_create_once_creates_again_when_nothing_was_made() -> None:
    service = Service(UncertainWrite("reset"), UncertainWrite("reset"))
    assert create_once(service.create, service.look, what="creating thing") == "thing"
    assert service.calls == ["create", "look", "create", "look", "create"] and service.items == ["thing"]


def test_create_once_lets_certain_failures_and_the_last_uncertain_one_through() -> None:
    refused = Service(OperationError("422: name taken"))
    with pytest.raises(OperationError, match="422"):
        create_once(refused.create, refused.look, what="creating thing")
    assert refused.calls == ["create"]
    flaky = Service(*[UncertainWrite("reset")] * 10)
    with pytest.raises(UncertainWrite):
        create_once(flaky.create, flaky.look, what="creating thing", policy=RetryPolicy(attempts=3))
    assert flaky.calls.count("create") == 3 and flaky.items == []


class _Server(HTTPServer):
    """A loopback server that answers with its ``name`` and keeps the request ``lines`` it got."""

    def __init__(self, name: str) -> None:
        super().__init__(("127.0.0.1", 0), _Answering)
        self.name = name
        self.lines: list[str] = []


class _Answering(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        self.server.lines.append(self.requestline)
        body = self.server.name.encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def answering() -> Iterator[Callable[[str], _Server]]:
    servers: list[_Server] = []

    def start(name: str) -> _Server:
        server = _Server(name)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_the_network_transport_goes_through_the_environments_proxy_unless_no_proxy_says(
        answering: Callable[[str], _Server], monkeypatch: pytest.MonkeyPatch) -> None:
    proxy, origin = answering("proxy"), answering("origin")
    origin_url = f"http://127.0.0.1:{origin.server_address[1]}"
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{proxy.server_address[1]}")

    with httpx.Client(transport=RetryingTransport(network_transport(origin_url))) as http:
        assert http.get(f"{origin_url}/user").text == "proxy"
    with httpx.Client(transport=RetryingTransport()) as http:  # no inner transport: the same
        assert http.get(f"{origin_url}/orgs").text == "proxy"
    # The absolute form a proxy is sent.
    assert proxy.lines == [f"GET {origin_url}/user HTTP/1.1", f"GET {origin_url}/orgs HTTP/1.1"]

    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    with httpx.Client(transport=RetryingTransport(network_transport(origin_url))) as http:
        assert http.get(f"{origin_url}/user").text == "origin"
    assert origin.lines == ["GET /user HTTP/1.1"]
