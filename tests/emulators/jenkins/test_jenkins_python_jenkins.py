"""python-jenkins 1.8.3 as a second client: if it cannot drive the emulator, the emulator is wrong."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import jenkins
import pytest
import requests

from dtm_core.emulators.jenkins import JenkinsEmulator


def _wait_for_build(server: jenkins.Jenkins, queue_id: int) -> dict[str, Any]:
    deadline = time.monotonic() + 5
    item: dict[str, Any] = server.get_queue_item(queue_id)
    assert item["_class"] == "hudson.model.Queue$WaitingItem"  # the first look finds it still waiting
    while "executable" not in item:
        assert time.monotonic() < deadline, item
        time.sleep(0.05)
        item = server.get_queue_item(queue_id)
    assert item["_class"] == "hudson.model.Queue$LeftItem"
    return item


@pytest.mark.parametrize("auth", ["password", "token"])
def test_a_pipeline_job_from_creation_to_deletion(python_jenkins: Callable[..., jenkins.Jenkins],
                                                   emulator: JenkinsEmulator, xml: Any, auth: str) -> None:
    server = python_jenkins(auth)
    assert server.get_whoami()["id"] == "admin"
    assert server.get_version() == "2.541.3"
    assert not server.job_exists("app")

    server.create_job("app", xml.pipeline)
    assert server.job_exists("app")
    assert server.get_job_config("app") == xml.pipeline
    assert emulator.jobs() == {"app": xml.pipeline}

    server.reconfig_job("app", xml.scm_pipeline)
    assert server.get_job_config("app") == xml.scm_pipeline
    info = server.get_job_info("app")
    assert info["_class"] == "org.jenkinsci.plugins.workflow.job.WorkflowJob"
    assert (info["name"], info["fullName"], info["url"]) == ("app", "app", f"{emulator.url}job/app/")
    assert (info["description"], info["buildable"], info["color"]) == ("built from Git", True, "notbuilt")
    assert (info["nextBuildNumber"], info["builds"], info["lastBuild"]) == (1, [], None)

    queue_id = server.build_job("app")
    left = _wait_for_build(server, queue_id)
    assert left["executable"] == {"_class": "org.jenkinsci.plugins.workflow.job.WorkflowRun", "number": 1,
                                  "url": f"{emulator.url}job/app/1/"}
    assert server.get_build_info("app", 1)["result"] == "SUCCESS"
    info = server.get_job_info("app")
    assert (info["color"], info["lastBuild"]["number"], info["nextBuildNumber"]) == ("blue", 1, 2)
    assert emulator.builds("app") == [{"number": 1, "queue_id": queue_id, "params": None}]

    server.delete_job("app")  # POST doDelete, follows the 302, then checks the job is gone
    assert not server.job_exists("app")
    assert emulator.jobs() == {}


def test_python_jenkins_keeps_the_session_cookie_its_crumb_is_tied_to(
        python_jenkins: Callable[..., jenkins.Jenkins], emulator: JenkinsEmulator, xml: Any) -> None:
    server = python_jenkins("password")
    server.create_job("app", xml.pipeline)
    cookies = [cookie.name for cookie in server._session.cookies]
    assert len(cookies) == 1 and cookies[0].startswith("JSESSIONID.")
    assert emulator.requests.count(("GET", "/crumbIssuer/api/json")) == 1

    server._session.cookies.clear()  # the crumb alone, without its session, is worth nothing
    refused = r"(?s)\[403\]: Forbidden.*No valid crumb was included in the request"
    with pytest.raises(jenkins.JenkinsException, match=refused):
        server.reconfig_job("app", xml.scm_pipeline)
    assert emulator.job_config("app") == xml.pipeline


def test_an_api_token_needs_no_crumb_and_a_password_does(python_jenkins: Callable[..., jenkins.Jenkins],
                                                         emulator: JenkinsEmulator, xml: Any) -> None:
    by_token = python_jenkins("token", crumb_lookup=False)
    by_token.create_job("app", xml.pipeline)
    assert "app" in emulator.jobs()

    by_password = python_jenkins("password", crumb_lookup=False)
    with pytest.raises(jenkins.JenkinsException, match=r"\[403\]"):
        by_password.reconfig_job("app", xml.scm_pipeline)
    assert all(path != "/crumbIssuer/api/json" for _, path in emulator.requests)


def test_get_version_as_the_first_call_fails_as_against_a_secured_jenkins(
        python_jenkins: Callable[..., jenkins.Jenkins]) -> None:
    # get_version() sends no credentials until another call has set them up (python-jenkins PR #1,
    # never merged); a default Jenkins refuses anonymous readers, so it fails there too.
    server = python_jenkins("password")
    with pytest.raises(jenkins.BadHTTPException):
        server.get_version()
    assert server.job_exists("anything") is None
    assert server.get_version() == "2.541.3"


@pytest.mark.parametrize("auth", ["password", "token"])
def test_jobs_inside_folders(python_jenkins: Callable[..., jenkins.Jenkins], emulator: JenkinsEmulator,
                             xml: Any, auth: str) -> None:
    server = python_jenkins(auth)
    server.create_job("team", xml.folder)
    server.create_job("team/app", xml.pipeline)
    assert server.job_exists("team/app")
    assert server.get_job_config("team/app") == xml.pipeline
    folder = server.get_job_info("team")
    assert folder["_class"] == "com.cloudbees.hudson.plugins.folder.Folder"
    assert [job["name"] for job in folder["jobs"]] == ["app"]
    assert server.get_job_info("team/app")["url"] == f"{emulator.url}job/team/job/app/"
    assert sorted(job["fullname"] for job in server.get_all_jobs()) == ["team", "team/app"]
    assert (emulator.folders(), list(emulator.jobs())) == (["team"], ["team/app"])

    with pytest.raises(jenkins.JenkinsException, match="folder for the job does not exist"):
        server.create_job("ghost/app", xml.pipeline)

    server.delete_job("team")
    assert (emulator.folders(), emulator.jobs()) == ([], {})


def test_create_folder_uses_the_form_mode(python_jenkins: Callable[..., jenkins.Jenkins],
                                          emulator: JenkinsEmulator) -> None:
    server = python_jenkins("password")
    server.create_folder("team")
    assert emulator.folders() == ["team"]
    assert server.get_job_info("team")["_class"] == "com.cloudbees.hudson.plugins.folder.Folder"


def test_builds_with_parameters(python_jenkins: Callable[..., jenkins.Jenkins], emulator: JenkinsEmulator,
                                xml: Any) -> None:
    server = python_jenkins("password")
    server.create_job("param", xml.parameterized)
    queue_id = server.build_job("param", {"BRANCH": "dev", "IGNORED": "x"})
    assert server.get_queue_item(queue_id)["params"] == "\nBRANCH=dev\nDEPLOY=false"
    _wait_for_build(server, queue_id)
    assert emulator.builds("param") == [{"number": 1, "queue_id": queue_id,
                                         "params": {"BRANCH": "dev", "DEPLOY": "false"}}]
    definitions = server.get_job_info("param")["property"][0]["parameterDefinitions"]
    assert [(d["name"], d["type"], d["defaultParameterValue"]["value"]) for d in definitions] == [
        ("BRANCH", "StringParameterDefinition", "main"), ("DEPLOY", "BooleanParameterDefinition", "false")]


def test_a_disabled_job_is_not_buildable(python_jenkins: Callable[..., jenkins.Jenkins],
                                         emulator: JenkinsEmulator, xml: Any) -> None:
    server = python_jenkins("password")
    server.create_job("app", xml.pipeline)
    server.disable_job("app")
    info = server.get_job_info("app")
    assert (info["color"], info["buildable"], info["disabled"]) == ("disabled", False, True)
    with pytest.raises(requests.HTTPError) as refused:  # python-jenkins passes a 409 through as is
        server.build_job("app")
    assert refused.value.response.status_code == 409
    server.enable_job("app")
    assert "<disabled>false</disabled>" in server.get_job_config("app")
    assert server.build_job("app") > 0
