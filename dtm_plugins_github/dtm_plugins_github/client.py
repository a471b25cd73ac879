"""The GitHub REST client: one httpx session with auth, pagination, rate-limit waits and safe retries.

Every call of the plugin goes through :class:`GitHubClient`, so headers, retries and error
wording are the same everywhere. Retries follow the core's policy (``dtm_core.retries``):

* a connection that could not be made (nothing reached GitHub) — any method, it is safe;
* 500/502/503/504 and a connection lost mid-answer — only GET, HEAD, DELETE and calls the
  caller marks ``idempotent`` (a PUT of a secret, a PATCH of settings, a content-addressed
  blob or tree): a POST that GitHub may have carried out is never sent twice — callers look
  first (``dtm_core.retries.create_once``);
* a rate limit (403/429 with ``x-ratelimit-remaining: 0`` or ``Retry-After``) — any method,
  since GitHub refused the call without acting, after waiting as long as GitHub asks, up to a cap.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator, Mapping
from types import TracebackType
from typing import Any
from urllib.parse import quote

import httpx

from dtm_core import RetryingTransport, RetryPolicy, attempts_of

from .errors import GitHubError, RateLimitError, body_of, http_error, missing_scopes, network_error

DEFAULT_API_URL = "https://api.github.com"
API_VERSION = "2022-11-28"
#: Methods that may be sent again after a failure: repeating them changes nothing more.
SAFE_METHODS = frozenset({"GET", "HEAD", "DELETE"})
#: GitHub asks for at least a minute after a secondary limit that names no Retry-After.
SECONDARY_DEFAULT_WAIT = 60.0


def segment(text: str) -> str:
    """One path segment, escaped (owner, repository and secret names)."""
    return quote(str(text), safe="")


def repo_path(owner: str, repo: str, *rest: str) -> str:
    """``/repos/OWNER/REPO/...``; ``rest`` is joined as given (callers escape file paths)."""
    tail = "/".join(rest)
    return f"/repos/{segment(owner)}/{segment(repo)}" + (f"/{tail}" if tail else "")


def file_path(path: str) -> str:
    """A file path or ref name in a URL: each part escaped, the slashes kept."""
    return quote(path, safe="/")


class GitHubClient:
    """A small GitHub REST client; use it as a context manager so its connections are closed.

    The class attributes are the defaults for every client; tests lower them to stay fast.
    How often and how long failures are retried is the core's :class:`~dtm_core.RetryPolicy`.
    """

    #: Longest dtm waits for a rate limit to reset before giving up (seconds).
    max_rate_limit_wait: float = 900.0
    #: How many times in a row one call may wait for a rate limit.
    rate_limit_waits: int = 5

    def __init__(self, token: str, base_url: str = DEFAULT_API_URL, *,
                 progress: Callable[[str], None] | None = None,
                 transport: httpx.BaseTransport | None = None, timeout: float = 30.0,
                 max_rate_limit_wait: float | None = None, user_agent: str | None = None,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.time) -> None:
        self.base_url = base_url.rstrip("/")
        self.progress = progress or (lambda message: None)
        if max_rate_limit_wait is not None:
            self.max_rate_limit_wait = max_rate_limit_wait
        self._sleep = sleep
        self._clock = clock
        if user_agent is None:
            from . import __version__  # the package is loaded by the time a client is made

            user_agent = f"dtm-plugins-github/{__version__}"
        # httpx masks the Authorization header in reprs, and its log lines carry no headers.
        self._http = httpx.Client(
            base_url=self.base_url + "/",
            headers={"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": API_VERSION,
                     "User-Agent": user_agent, "Authorization": f"Bearer {token}"},
            timeout=timeout,
            # GitHub's rate limits are waited out below, with GitHub's own words: the policy leaves
            # every 429 to this client (max_retry_after 0).
            transport=RetryingTransport(
                transport, service="GitHub", progress=self.progress,
                sleep=sleep, clock=clock,
                policy=RetryPolicy(max_retry_after=0, idempotent_methods=SAFE_METHODS)),
        )
        self._host = httpx.URL(self.base_url).host

    def __enter__(self) -> GitHubClient:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # -- requests --------------------------------------------------------------------------

    def request(self, method: str, path: str, *, json: Any = None, params: Mapping[str, Any] | None = None,
                idempotent: bool = False, allow: tuple[int, ...] = ()) -> httpx.Response:
        """Send one call, waiting out rate limits and retrying where safe.

        Returns the answer when it succeeded or its status is in ``allow``; raises
        :class:`GitHubError` otherwise.
        """
        method = method.upper()
        what = f"{method} {path.split('?', 1)[0]}"
        replayable = idempotent or method in SAFE_METHODS
        waits = 0
        while True:
            try:
                # Only reads follow redirects: a renamed repository answers 301 and is still it.
                response = self._http.request(method, path.lstrip("/") if "://" not in path else path,
                                              json=json, params=params,
                                              follow_redirects=method in {"GET", "HEAD"},
                                              extensions={"idempotent": replayable})
            except httpx.TransportError as exc:
                raise network_error(exc, self.base_url, what, attempts_of(exc.request)) from None
            status = response.status_code
            if status in {403, 429}:
                wait = self._rate_limit_wait(response)
                if wait is not None:
                    waits += 1
                    self._wait_for_reset(wait, what, secondary="retry-after" in response.headers,
                                         exhausted=waits > self.rate_limit_waits)
                    continue
            # A 404 for want of a scope is not "missing": reading it as gone would re-create things.
            if response.is_success or (status in allow and not missing_scopes(response)):
                return response
            error = http_error(response, what, attempts=attempts_of(response.request))
            if status >= 500 and not replayable:
                error.hint = ("GitHub may have carried it out anyway; run the command again: dtm "
                              "looks at what exists before it changes anything")
            raise error

    def _rate_limit_wait(self, response: httpx.Response) -> float | None:
        """Seconds GitHub asks us to wait, or None when the 403/429 is not a rate limit."""
        headers = response.headers
        if "retry-after" in headers:
            try:
                return max(0.0, float(headers["retry-after"]))
            except ValueError:
                return SECONDARY_DEFAULT_WAIT
        if headers.get("x-ratelimit-remaining") == "0" and "x-ratelimit-reset" in headers:
            try:
                return max(0.0, float(headers["x-ratelimit-reset"]) - self._clock())
            except ValueError:
                return SECONDARY_DEFAULT_WAIT
        if "secondary rate limit" in str(body_of(response).get("message", "")).lower():
            return SECONDARY_DEFAULT_WAIT
        return None

    def _wait_for_reset(self, wait: float, what: str, *, secondary: bool, exhausted: bool) -> None:
        # The reset time has whole-second precision: wait at least a second so the retry lands after it.
        seconds = max(1, math.ceil(wait))
        kind = "secondary rate limit" if secondary else "rate limit"
        if seconds > self.max_rate_limit_wait or exhausted:
            when = time.strftime("%H:%M:%S", time.localtime(self._clock() + seconds))
            raise RateLimitError(
                f"GitHub {kind} reached on {what}; it resets in {seconds} s, later than dtm waits "
                f"({self.max_rate_limit_wait:g} s)",
                hint=f"run the command again after {when}, or let dtm wait longer with "
                "DTM_GITHUB_MAX_WAIT=SECONDS", status=429)
        reason = "as GitHub asks" if secondary else "until it resets"
        self.progress(f"GitHub {kind} reached; waiting {seconds} s {reason}")
        self._sleep(seconds)

    # -- JSON helpers ----------------------------------------------------------------------

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        return self.request("GET", path, params=params).json()

    def find(self, path: str, params: Mapping[str, Any] | None = None, *,
             missing: tuple[int, ...] = (404,)) -> Any | None:
        """The JSON at ``path``, or None when GitHub answers a status in ``missing`` (404)."""
        response = self.request("GET", path, params=params, allow=missing)
        return None if response.status_code in missing else response.json()

    def post(self, path: str, body: Mapping[str, Any], *, idempotent: bool = False) -> Any:
        """POST; ``idempotent`` for calls whose repeat makes nothing new (content-addressed Git objects)."""
        return _json_or_none(self.request("POST", path, json=dict(body), idempotent=idempotent))

    def patch(self, path: str, body: Mapping[str, Any], *, idempotent: bool = False) -> Any:
        return _json_or_none(self.request("PATCH", path, json=dict(body), idempotent=idempotent))

    def put(self, path: str, body: Mapping[str, Any], *, idempotent: bool = False) -> Any:
        return _json_or_none(self.request("PUT", path, json=dict(body), idempotent=idempotent))

    def delete(self, path: str, body: Mapping[str, Any] | None = None) -> bool:
        """Delete; False when it was already gone (404)."""
        response = self.request("DELETE", path, json=dict(body) if body is not None else None, allow=(404,))
        return response.status_code != 404

    def paginate(self, path: str, *, key: str | None = None,
                 params: Mapping[str, Any] | None = None) -> Iterator[Any]:
        """Every item of a listing, following ``Link: <...>; rel="next"`` 100 items at a time."""
        url: str | None = path
        query: dict[str, Any] | None = {**(params or {}), "per_page": 100}
        while url:
            response = self.request("GET", url, params=query)
            data = response.json()
            items = data.get(key, []) if key and isinstance(data, dict) else data
            yield from items or []
            url = response.links.get("next", {}).get("url")
            query = None  # the next link carries the query
            if url and httpx.URL(url).host != self._host:
                # Never send the token to another host, whatever a header says.
                raise GitHubError(f"GitHub's next-page link points to another host ({httpx.URL(url).host})",
                                  hint="check GITHUB_API_URL / api_url")


def _json_or_none(response: httpx.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return None
