"""Retrying HTTP calls that failed for passing reasons: one policy, as an httpx transport, for every client.

:class:`RetryingTransport` wraps the transport a client would use and sends a request again,
after a capped exponential backoff, when that cannot do anything twice:

* the request never reached the server (connection refused, connect timeout) — any method;
* the server refused it with 429 and a ``Retry-After`` it may be waited for — any method,
  since the server did nothing; the wait is what the server asks;
* a 500, 502, 503 or 504, a connection lost before the answer, a read timeout — only
  *idempotent* requests: GET, HEAD, OPTIONS, PUT, DELETE (404 on the repeat means done), a
  Kubernetes server-side apply PATCH, and any request sent with
  ``extensions={"idempotent": True}``.

Everything else (a POST that creates) is handed back to the caller as it failed: the server
may have carried it out. The caller then looks before it creates again — :func:`create_once`
is that rule in one place. Waits are bounded by the policy's ``budget`` and reported on
``progress``. :func:`attempts_of` says how many tries a request took, for the final error.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable
from typing import TypeVar

import httpx

from .errors import OperationError

__all__ = ["RetryPolicy", "RetryingTransport", "UncertainWrite", "attempts_of", "create_once",
           "is_uncertain", "network_transport"]

T = TypeVar("T")
RETRY_STATUSES = frozenset({500, 502, 503, 504})
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
APPLY_PATCH = "application/apply-patch+yaml"
#: Errors raised before any byte of the request left: repeating cannot do anything twice.
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
#: Errors after the request may have reached the server: it may have been carried out.
LOST = (httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError, httpx.ReadTimeout, httpx.WriteTimeout)


class RetryPolicy:
    """How often and how long a request is retried. Class attributes are the defaults for every client.

    ``attempts``: tries in all, the first included. ``refused_attempts``: the same for a
    connection refused or a name that did not resolve, which rarely passes within seconds: a
    wrong URL or a server that is down should be said at once, not after ``attempts`` waits.
    ``backoff``: seconds before the second try, doubled for each next one up to
    ``max_backoff``. ``max_retry_after``: the longest ``Retry-After`` of a 429 honoured (a
    longer one, or a 429 without one, is handed to the caller, whose API may say more about
    its limits); a 5xx's ``Retry-After`` is waited within the budget. ``budget``: seconds of
    waiting one request may spend in all. Tests lower them to stay fast.
    ``idempotent_methods`` and ``statuses`` narrow what is retried for a client that knows better.
    """

    attempts: int = 5
    refused_attempts: int = 2
    backoff: float = 0.5
    max_backoff: float = 8.0
    max_retry_after: float = 60.0
    budget: float = 120.0

    def __init__(self, *, attempts: int | None = None, refused_attempts: int | None = None,
                 backoff: float | None = None,
                 max_backoff: float | None = None, max_retry_after: float | None = None,
                 budget: float | None = None,
                 idempotent_methods: frozenset[str] = IDEMPOTENT_METHODS,
                 statuses: frozenset[int] = RETRY_STATUSES) -> None:
        cls = type(self)
        self.attempts = max(1, cls.attempts if attempts is None else attempts)
        self.refused_attempts = min(self.attempts, max(1, cls.refused_attempts if refused_attempts is None
                                                       else refused_attempts))
        self.backoff = cls.backoff if backoff is None else backoff
        self.max_backoff = cls.max_backoff if max_backoff is None else max_backoff
        self.max_retry_after = cls.max_retry_after if max_retry_after is None else max_retry_after
        self.budget = cls.budget if budget is None else budget
        self.idempotent_methods = idempotent_methods
        #: The 5xx statuses retried (a client that handles one itself leaves it out).
        self.statuses = statuses

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed try number ``attempt`` (1 for the first)."""
        return float(min(self.max_backoff, self.backoff * 2 ** (attempt - 1)))

    def idempotent(self, request: httpx.Request) -> bool:
        """Whether sending ``request`` twice leaves the server as sending it once."""
        marked = request.extensions.get("idempotent")
        if marked is not None:
            return bool(marked)
        if request.method == "PATCH":
            content_type: str = request.headers.get("Content-Type", "")
            return content_type.split(";")[0].strip() == APPLY_PATCH
        return request.method in self.idempotent_methods


def retry_after(response: httpx.Response) -> float | None:
    """The seconds a ``Retry-After`` header asks for (None without one, or with an HTTP date)."""
    value = response.headers.get("Retry-After")
    try:
        return None if value is None else max(0.0, float(value))
    except ValueError:
        return None


def attempts_of(request: httpx.Request) -> int:
    """How many times :class:`RetryingTransport` sent ``request`` (1 when it was not retried)."""
    return int(request.extensions.get("dtm_attempts", 1))


def network_transport(url: str, *, verify: ssl.SSLContext | str | bool = True) -> httpx.HTTPTransport:
    """The transport an httpx client would make for ``url`` itself: the environment's proxy
    (``HTTPS_PROXY``, ``HTTP_PROXY``, ``ALL_PROXY``, unless ``NO_PROXY`` covers the host) and
    ``verify``.

    httpx reads proxies from the environment only when it builds its own transport, so a client
    given one -- every client wrapped in :class:`RetryingTransport` -- must be handed the proxy
    too, or users behind a corporate proxy cannot reach the API at all.
    """
    import urllib.request

    parsed = httpx.URL(url)
    proxies = urllib.request.getproxies()
    proxy = proxies.get(parsed.scheme) or proxies.get("all")
    if proxy and urllib.request.proxy_bypass(parsed.host):
        proxy = None
    return httpx.HTTPTransport(verify=verify, proxy=proxy or None)


class RetryingTransport(httpx.BaseTransport):
    """An httpx transport that retries ``inner``'s failures as :class:`RetryPolicy` allows.

    ``service`` names the API in progress lines ("GitHub", "Jenkins at http://…");
    ``progress`` gets one line per wait. ``sleep`` and ``clock`` are for tests.
    """

    def __init__(self, inner: httpx.BaseTransport | None = None, *, policy: RetryPolicy | None = None,
                 service: str = "the server", progress: Callable[[str], None] | None = None,
                 sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic) -> None:
        #: Without one, a :func:`network_transport` per origin: the environment's proxy applies.
        self.inner = inner
        self._by_origin: dict[tuple[str, str, int | None], httpx.BaseTransport] = {}
        self._policy = policy
        self.service = service
        self.progress = progress or (lambda message: None)
        self._sleep = sleep
        self._clock = clock

    @property
    def policy(self) -> RetryPolicy:
        """The policy given, or one with the class defaults as they are now (tests lower them)."""
        return self._policy or RetryPolicy()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        policy = self.policy
        idempotent = policy.idempotent(request)
        started = self._clock()
        attempt = 0
        while True:
            attempt += 1
            request.extensions["dtm_attempts"] = attempt
            try:
                response = self._transport_for(request.url).handle_request(request)
            except NOT_SENT as error:
                tries = policy.refused_attempts if isinstance(error, httpx.ConnectError) else policy.attempts
                wait = self._next_wait(policy, attempt, started, None, tries)
                if wait is None:
                    raise
                self._wait(request, type(error).__name__, wait, attempt, tries)
                continue
            except LOST as error:
                wait = None
                if idempotent:
                    wait = self._next_wait(policy, attempt, started, None, policy.attempts)
                if wait is None:
                    raise
                self._wait(request, "lost connection" if not isinstance(error, httpx.TimeoutException)
                           else "timeout", wait, attempt, policy.attempts)
                continue
            status = response.status_code
            if status == 429 or (status in policy.statuses and idempotent):
                asked = retry_after(response)
                if status == 429 and (asked is None or asked > policy.max_retry_after):
                    return response  # a long rate limit is the caller's to explain
                wait = self._next_wait(policy, attempt, started, asked, policy.attempts)
                if wait is not None:
                    response.close()
                    self._wait(request, str(status), wait, attempt, policy.attempts, asked is not None)
                    continue
            return response

    def _next_wait(self, policy: RetryPolicy, attempt: int, started: float,
                   asked: float | None, attempts: int) -> float | None:
        """Seconds to wait before the next try, or None when the tries or the time budget are spent."""
        if attempt >= attempts:
            return None
        wait = asked if asked is not None else policy.delay(attempt)
        if self._clock() - started + wait > policy.budget:
            return None
        return wait

    def _wait(self, request: httpx.Request, what: str, wait: float, attempt: int, attempts: int,
              asked: bool = False) -> None:
        why = "as it asks" if asked else f"(try {attempt + 1} of {attempts})"
        self.progress(f"{self.service}: {what} on {request.method} {request.url.path}; "
                      f"retrying in {wait:.3g} s {why}")
        self._sleep(wait)

    def _transport_for(self, url: httpx.URL) -> httpx.BaseTransport:
        if self.inner is not None:
            return self.inner
        origin = (url.scheme, url.host, url.port)
        if origin not in self._by_origin:
            self._by_origin[origin] = network_transport(str(url))
        return self._by_origin[origin]

    def close(self) -> None:
        for transport in [self.inner, *self._by_origin.values()]:
            if transport is not None:
                transport.close()

    def __deepcopy__(self, memo: dict[int, object]) -> RetryingTransport:
        # lightkube copies its connection parameters with dataclasses.asdict, which deep-copies the
        # transport; one holding an SSL context cannot be copied, and a transport is meant to be shared.
        return self


class UncertainWrite(OperationError):
    """A write that was not repeated failed without saying whether the server carried it out."""


def is_uncertain(error: BaseException) -> bool:
    """Whether ``error`` leaves a write's outcome unknown: a lost connection, a timeout, a 5xx.

    A plugin's own error says so with an ``uncertain`` attribute; an httpx error by its kind.
    """
    if isinstance(error, UncertainWrite):
        return True
    marked = getattr(error, "uncertain", None)
    if isinstance(marked, bool):
        return marked
    # Only what may have reached the server: a URL without a scheme (UnsupportedProtocol) or a
    # malformed request (LocalProtocolError) never left, and is no reason to look and resend.
    return isinstance(error, LOST)


def create_once(create: Callable[[], T], look: Callable[[], T | None], *, what: str,
                policy: RetryPolicy | None = None,
                progress: Callable[[str], None] | None = None) -> T:
    """Create something with a non-idempotent call, never twice: look first after an uncertain failure.

    ``create`` makes it and returns it; ``look`` returns it when it exists *as asked for* (None
    otherwise). When ``create`` fails in a way that leaves its outcome unknown
    (:func:`is_uncertain`), ``look`` decides: found, it is adopted; not found, ``create`` runs
    again, up to the policy's attempts. Other failures propagate at once.
    """
    policy = policy or RetryPolicy()
    report = progress or (lambda message: None)
    attempt = 0
    while True:
        attempt += 1
        try:
            return create()
        except Exception as error:
            if not is_uncertain(error) or attempt >= policy.attempts:
                raise
            report(f"{what} may or may not have happened ({_one_line(error)}); looking before trying again")
            time.sleep(policy.delay(attempt))
            found = look()
            if found is not None:
                report(f"{what} had happened; carrying on with it")
                return found


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    return text if len(text) <= 120 else text[:117] + "..."
