"""The GitHub client on a mock transport: headers, pagination, rate limits, retries and error wording."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from dtm_plugins_github.client import GitHubClient
from dtm_plugins_github.connection import api_url, max_wait, token
from dtm_plugins_github.errors import GitHubError, RateLimitError

from dtm_core import OperationError, RetryPolicy, Secret, SecretRef, ToolContext
from dtm_plugins_github import __version__

TOKEN = "ghp_canary_5e1f0c0ffee"
Handler = Callable[[httpx.Request], httpx.Response]


class Clock:
    """A fake clock and sleep: sleeping moves time on and is recorded."""

    def __init__(self) -> None:
        self.now = 1_700_000_000.0
        self.slept: list[float] = []

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def client(handler: Handler, clock: Clock | None = None, *, base: str = "https://api.github.test",
           progress: list[str] | None = None, **kwargs: Any) -> GitHubClient:
    clock = clock or Clock()
    notes = progress if progress is not None else []
    return GitHubClient(TOKEN, base, transport=httpx.MockTransport(handler), sleep=clock.sleep,
                        clock=clock.time, progress=notes.append, **kwargs)


def answers(*responses: httpx.Response) -> tuple[Handler, list[httpx.Request]]:
    """A handler giving ``responses`` in turn (the last one repeated), and the requests it saw."""
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return responses[min(len(seen), len(responses)) - 1]

    return handle, seen


def test_every_call_carries_githubs_headers_and_the_token_only_in_authorization() -> None:
    handle, seen = answers(httpx.Response(200, json={"login": "octo"}))
    with client(handle) as gh:
        assert gh.get("/user") == {"login": "octo"}
    headers = seen[0].headers
    assert headers["accept"] == "application/vnd.github+json"
    assert headers["x-github-api-version"] == "2022-11-28"
    assert headers["user-agent"] == f"dtm-plugins-github/{__version__}"
    assert headers["authorization"] == f"Bearer {TOKEN}"
    assert TOKEN not in str(seen[0].url)
    assert TOKEN not in repr(gh.__dict__)


def test_an_enterprise_base_url_keeps_its_path() -> None:
    handle, seen = answers(httpx.Response(200, json={}))
    with client(handle, base="https://ghe.example.test/api/v3/") as gh:
        gh.get("/repos/acme/app")
    assert str(seen[0].url) == "https://ghe.example.test/api/v3/repos/acme/app"


def test_pagination_follows_link_next_100_at_a_time() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params.get("page", "1"))
        headers = {}
        if page < 3:
            url = f"https://api.github.test/repos/a/b/actions/secrets?per_page=100&page={page + 1}"
            headers["Link"] = f'<{url}>; rel="next", <https://api.github.test/x?page=3>; rel="last"'
        body = {"total_count": 3, "secrets": [{"name": f"S{page}"}]}
        return httpx.Response(200, headers=headers, json=body)

    seen: list[httpx.Request] = []
    with client(lambda r: (seen.append(r), handle(r))[1]) as gh:
        names = [s["name"] for s in gh.paginate("/repos/a/b/actions/secrets", key="secrets")]
    assert names == ["S1", "S2", "S3"]
    assert all(r.url.params["per_page"] == "100" for r in seen)


def test_a_next_link_to_another_host_is_not_followed_with_the_token() -> None:
    evil = {"Link": '<https://evil.test/x>; rel="next"'}
    handle, seen = answers(httpx.Response(200, json=[1], headers=evil))
    with client(handle) as gh, pytest.raises(GitHubError, match="another host"):
        list(gh.paginate("/things"))
    assert len(seen) == 1


def test_primary_rate_limit_waits_until_reset_then_retries_and_shows_progress() -> None:
    clock = Clock()
    headers = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(clock.now) + 12)}
    limited = httpx.Response(403, json={"message": "API rate limit exceeded for user ID 1."}, headers=headers)
    handle, seen = answers(limited, httpx.Response(201, json={"id": 1}))
    notes: list[str] = []
    with client(handle, clock, progress=notes) as gh:
        assert gh.post("/user/repos", {"name": "x"}) == {"id": 1}
    assert notes == ["GitHub rate limit reached; waiting 12 s until it resets"]
    assert clock.slept == [12] and len(seen) == 2


def test_secondary_rate_limit_waits_as_long_as_retry_after_says() -> None:
    clock = Clock()
    handle, seen = answers(httpx.Response(429, json={"message": "You have exceeded a secondary rate limit."},
                                          headers={"retry-after": "3"}), httpx.Response(200, json={}))
    notes: list[str] = []
    with client(handle, clock, progress=notes) as gh:
        gh.get("/user")
    assert clock.slept == [3]
    assert notes == ["GitHub secondary rate limit reached; waiting 3 s as GitHub asks"]


def test_a_rate_limit_resetting_too_late_is_a_clear_error() -> None:
    clock = Clock()
    handle, seen = answers(httpx.Response(403, json={}, headers={
        "x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(clock.now) + 3600)}))
    with client(handle, clock, max_rate_limit_wait=900) as gh, pytest.raises(RateLimitError) as caught:
        gh.get("/user")
    assert caught.value.message == ("GitHub rate limit reached on GET /user; it resets in 3600 s, later than "
                                    "dtm waits (900 s)")
    assert "DTM_GITHUB_MAX_WAIT" in (caught.value.hint or "")
    assert clock.slept == [] and len(seen) == 1


def test_reads_are_retried_on_502_and_fail_after_the_last_attempt() -> None:
    clock = Clock()
    handle, seen = answers(httpx.Response(502), httpx.Response(200, json={"ok": True}))
    with client(handle, clock) as gh:
        assert gh.get("/repos/a/b") == {"ok": True}
    assert len(seen) == 2 and clock.slept == [RetryPolicy().delay(1)]

    handle, seen = answers(httpx.Response(503))
    with client(handle) as gh, pytest.raises(GitHubError) as caught:
        gh.get("/repos/a/b")
    assert caught.value.message == ("GitHub answered 503 Service Unavailable to GET /repos/a/b after "
                                    f"{RetryPolicy.attempts} attempts")
    assert len(seen) == RetryPolicy.attempts


def test_a_post_github_may_have_carried_out_is_never_sent_twice() -> None:
    handle, seen = answers(httpx.Response(502), httpx.Response(201, json={}))
    with client(handle) as gh, pytest.raises(GitHubError) as caught:
        gh.post("/user/repos", {"name": "x"})
    assert len(seen) == 1
    assert caught.value.message == "GitHub answered 502 Bad Gateway to POST /user/repos"
    assert "may have carried it out" in (caught.value.hint or "")


def test_an_idempotent_put_is_retried() -> None:
    handle, seen = answers(httpx.Response(504), httpx.Response(204))
    with client(handle) as gh:
        gh.put("/repos/a/b/actions/secrets/X", {"encrypted_value": "e", "key_id": "k"}, idempotent=True)
    assert len(seen) == 2


def test_connection_refused_is_retried_even_for_a_post_then_explained() -> None:
    seen: list[httpx.Request] = []

    def refuse(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request)

    with client(refuse) as gh, pytest.raises(GitHubError) as caught:
        gh.post("/user/repos", {"name": "x"})
    # Nothing reached GitHub, so sending again was safe; a refusal is tried again only briefly.
    assert len(seen) == RetryPolicy.refused_attempts == 2
    assert caught.value.message == ("cannot reach GitHub API URL https://api.github.test for POST "
                                    "/user/repos after 2 attempts: [Errno 111] "
                                    "Connection refused")
    assert "HTTPS_PROXY" in (caught.value.hint or "") and "GITHUB_API_URL" in (caught.value.hint or "")


def test_a_timeout_after_sending_a_post_is_not_retried() -> None:
    seen: list[httpx.Request] = []

    def slow(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        raise httpx.ReadTimeout("timed out", request=request)

    with client(slow) as gh, pytest.raises(GitHubError) as caught:
        gh.post("/user/repos", {"name": "x"})
    assert len(seen) == 1
    assert caught.value.message == ("GitHub API URL https://api.github.test dropped POST /user/repos: "
                                    "timed out")
    assert caught.value.uncertain and "dtm looks at what exists" in (caught.value.hint or "")


def test_401_says_the_token_is_bad_without_showing_it() -> None:
    handle, _ = answers(httpx.Response(401, json={"message": "Bad credentials"}))
    with client(handle) as gh, pytest.raises(GitHubError) as caught:
        gh.get("/user")
    assert caught.value.message == "GitHub rejected the token as bad or expired (401 on GET /user)"
    assert TOKEN not in caught.value.message + (caught.value.hint or "")


@pytest.mark.parametrize(("status", "accepted", "held", "message"), [
    (403, "workflow", "repo", "the token lacks the `workflow` scope (it has: repo)"),
    (404, "workflow", "repo, gist", "the token lacks the `workflow` scope (it has: gist, repo)"),
    (404, "public_repo, repo", "gist", "the token lacks the `public_repo` or `repo` scope (it has: gist)"),
    (403, "read:org", "", "the token lacks the `read:org` scope (it has: no scopes)"),
])
def test_a_missing_scope_is_named(status: int, accepted: str, held: str, message: str) -> None:
    handle, _ = answers(httpx.Response(status, json={"message": "Not Found"}, headers={
        "x-accepted-oauth-scopes": accepted, "x-oauth-scopes": held}))
    with client(handle) as gh, pytest.raises(GitHubError) as caught:
        gh.request("PATCH", "/repos/a/b/git/refs/heads/main", json={"sha": "0" * 40})
    assert caught.value.message.startswith(message)


def test_a_scope_implied_by_another_is_not_reported_missing() -> None:
    headers = {"x-accepted-oauth-scopes": "read:org", "x-oauth-scopes": "admin:org"}
    handle, _ = answers(httpx.Response(403, json={"message": "Must have admin rights to Repository."},
                                       headers=headers))
    with client(handle) as gh, pytest.raises(GitHubError) as caught:
        gh.get("/orgs/acme")
    assert caught.value.message == ("GitHub refused GET /orgs/acme (403: Must have admin rights to "
                                    "Repository.)")


def test_a_404_for_want_of_a_scope_is_not_taken_for_missing() -> None:
    hidden = httpx.Response(404, json={"message": "Not Found"},
                            headers={"x-accepted-oauth-scopes": "repo", "x-oauth-scopes": "public_repo"})
    handle, _ = answers(hidden)
    with client(handle) as gh, pytest.raises(GitHubError, match="lacks the `repo` scope"):
        gh.find("/repos/acme/secret")
    gone = httpx.Response(404, json={"message": "Not Found"},
                          headers={"x-accepted-oauth-scopes": "repo", "x-oauth-scopes": "repo"})
    handle, _ = answers(gone)
    with client(handle) as gh:
        assert gh.find("/repos/acme/deleted") is None


def test_422_keeps_githubs_validation_errors() -> None:
    body = {"message": "Repository creation failed.", "errors": [
        {"resource": "Repository", "code": "custom", "field": "name",
         "message": "name already exists on this account"}]}
    handle, _ = answers(httpx.Response(422, json=body))
    with client(handle) as gh, pytest.raises(GitHubError) as caught:
        gh.post("/user/repos", {"name": "x"})
    assert caught.value.status == 422 and caught.value.mentions("already exists")
    assert caught.value.message == ("GitHub answered 422 to POST /user/repos (Repository creation failed.: "
                                    "name already exists on this account)")


def context(options: dict[str, Any], environ: dict[str, str]) -> ToolContext:
    return ToolContext(tool="github-repo", instance="t", version="0.1.0", options=options, environ=environ)


def test_the_token_comes_from_the_option_then_github_token_then_gh_token() -> None:
    ref = SecretRef("env", "MY_TOKEN")
    assert token(context({"token": Secret("from-option", ref)}, {"GITHUB_TOKEN": "env"})) == "from-option"
    assert token(context({}, {"GITHUB_TOKEN": "a", "GH_TOKEN": "b"})) == "a"
    assert token(context({}, {"GH_TOKEN": "b"})) == "b"
    with pytest.raises(OperationError) as caught:
        token(context({}, {}))
    assert caught.value.message.startswith("no GitHub token: ")
    assert "GITHUB_TOKEN" in (caught.value.hint or "") and "env:NAME" in (caught.value.hint or "")


def test_the_api_url_comes_from_the_option_then_github_api_url() -> None:
    assert api_url(context({"api_url": "https://ghe/api/v3"}, {"GITHUB_API_URL": "x"})) == "https://ghe/api/v3"
    assert api_url(context({}, {"GITHUB_API_URL": "http://127.0.0.1:1"})) == "http://127.0.0.1:1"
    assert api_url(context({}, {})) == "https://api.github.com"


def test_request_bodies_are_json() -> None:
    handle, seen = answers(httpx.Response(200, json={}))
    with client(handle) as gh:
        gh.patch("/repos/a/b", {"archived": True}, idempotent=True)
    assert json.loads(seen[0].content) == {"archived": True}


def test_the_rate_limit_wait_setting_must_be_seconds() -> None:
    assert max_wait({}) is None
    assert max_wait({"DTM_GITHUB_MAX_WAIT": "90"}) == 90.0
    with pytest.raises(OperationError) as caught:
        max_wait({"DTM_GITHUB_MAX_WAIT": "soon"})
    assert caught.value.message == "DTM_GITHUB_MAX_WAIT must be a number of seconds, not 'soon'"
    assert caught.value.hint == "unset it or set e.g. DTM_GITHUB_MAX_WAIT=120"
    assert caught.value.exit_code == 1
