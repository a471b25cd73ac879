"""PyGithub, a client written against the real GitHub, meets each injected fault as it would on github.com."""

from __future__ import annotations

import pytest
import requests
from github import Auth, Github, GithubException

from dtm_core.emulators.faults import FaultRates
from dtm_core.emulators.github import GitHubEmulator


@pytest.fixture
def impatient(emulator: GitHubEmulator, token: str) -> Github:
    """PyGithub with a one-second timeout (PyGithub takes whole seconds) and no retries of its own."""
    return Github(base_url=emulator.url, auth=Auth.Token(token), retry=None, timeout=1,
                  seconds_between_requests=None, seconds_between_writes=None)


def test_a_throttle_is_a_secondary_rate_limit_with_retry_after(impatient: Github,
                                                               emulator: GitHubEmulator) -> None:
    emulator.faults.set(FaultRates(throttle=1.0, retry_after=3))
    with pytest.raises(GithubException) as caught:
        impatient.get_user().login  # noqa: B018 - the property fetches
    assert caught.value.status == 429
    assert caught.value.headers is not None and caught.value.headers["retry-after"] == "3"
    assert "secondary rate limit" in caught.value.data["message"]


def test_a_server_error_carries_githubs_error_body(impatient: Github, emulator: GitHubEmulator) -> None:
    emulator.faults.set(FaultRates(server_error=1.0), seed=5)
    with pytest.raises(GithubException) as caught:
        impatient.get_user().login  # noqa: B018
    assert caught.value.status in (500, 502, 503)
    assert caught.value.data["documentation_url"] == "https://docs.github.com/rest"


def test_a_reset_and_a_timeout_reach_pygithub_as_requests_errors(impatient: Github,
                                                                 emulator: GitHubEmulator) -> None:
    emulator.faults.set(FaultRates(reset=1.0, after=0.0))
    with pytest.raises(requests.ConnectionError, match="Connection reset by peer"):
        impatient.get_user().login  # noqa: B018
    emulator.faults.set(FaultRates(timeout=1.0, stall=2.0, after=0.0))
    with pytest.raises(requests.ReadTimeout):
        impatient.get_user().login  # noqa: B018
    assert emulator.faults.counts() == {"reset": 1, "timeout": 1, "before": 2}


def test_a_create_whose_answer_was_lost_made_the_repository(impatient: Github,
                                                             emulator: GitHubEmulator) -> None:
    me = impatient.get_user()  # lazy: no request yet
    emulator.faults.set(FaultRates(reset=1.0, after=1.0))
    with pytest.raises(requests.ConnectionError):
        me.create_repo("service")
    emulator.faults.pause()
    assert impatient.get_repo("alice/service").full_name == "alice/service"
