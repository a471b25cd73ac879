"""python-jenkins meets each injected fault as it would a real controller behind a flaky network."""

from __future__ import annotations

import jenkins
import pytest
import requests

from dtm_core.emulators.faults import FaultRates
from dtm_core.emulators.jenkins import JenkinsEmulator

JOB = "<?xml version='1.1' encoding='UTF-8'?><project><description>made</description></project>"


@pytest.fixture
def impatient(emulator: JenkinsEmulator) -> jenkins.Jenkins:
    server = jenkins.Jenkins(emulator.url, username="admin", password=emulator.api_token("admin"),
                             timeout=0.5)
    server.crumb = False  # an API token needs no crumb
    return server


@pytest.mark.parametrize(("rates", "status"), [(FaultRates(throttle=1.0), {429}),
                                               (FaultRates(server_error=1.0), {500, 502, 503})],
                         ids=["throttle", "server_error"])
def test_an_error_status_reaches_python_jenkins_with_jettys_page(impatient: jenkins.Jenkins,
                                                                 emulator: JenkinsEmulator, rates: FaultRates,
                                                                 status: set[int]) -> None:
    emulator.faults.set(rates)
    with pytest.raises(jenkins.JenkinsException) as caught:
        impatient.get_whoami()
    cause = caught.value.__context__  # python-jenkins raises its own error while handling requests'
    assert isinstance(cause, requests.HTTPError) and cause.response is not None
    assert cause.response.status_code in status
    assert "Powered by Jetty" in cause.response.text


def test_a_reset_and_a_timeout_reach_python_jenkins(impatient: jenkins.Jenkins,
                                                    emulator: JenkinsEmulator) -> None:
    emulator.faults.set(FaultRates(reset=1.0))
    with pytest.raises(requests.ConnectionError, match="Connection reset by peer"):
        impatient.get_whoami()
    emulator.faults.set(FaultRates(timeout=1.0, stall=1.0))
    with pytest.raises(jenkins.TimeoutException):
        impatient.get_whoami()


def test_a_create_item_whose_answer_was_lost_made_the_job(impatient: jenkins.Jenkins,
                                                          emulator: JenkinsEmulator) -> None:
    create = requests.Request("POST", f"{emulator.url}createItem", params={"name": "app"}, data=JOB,
                              headers={"Content-Type": "application/xml"})
    emulator.faults.set(FaultRates(reset=1.0, after=1.0))
    with pytest.raises(requests.ConnectionError):
        impatient.jenkins_request(create)  # create_job would look first, and that GET would fail instead
    assert "app" in emulator.jobs()
    emulator.faults.pause()
    with pytest.raises(jenkins.JenkinsException, match="job\\[app\\] already exists"):
        impatient.create_job("app", JOB)  # what a blind repeat gets
