"""Items over raw HTTP: createItem's checks and messages, job JSON, config.xml, deletion, builds, queue."""

from __future__ import annotations

import html
import time
from typing import Any

import httpx
import pytest

from dtm_core.emulators.jenkins import JenkinsEmulator

XML = {"Content-Type": "application/xml"}


def _create(client: httpx.Client, name: str, body: str, parent: str = "") -> httpx.Response:
    return client.post(f"{parent}createItem", params={"name": name}, content=body, headers=XML)


def _x_error(answer: httpx.Response) -> str:
    return answer.headers["X-Error"]


def _page_message(answer: httpx.Response) -> str:
    body = html.unescape(answer.text)
    return body[body.index("<p>") + 3:body.index("</p>")]


@pytest.fixture
def app(token_client: httpx.Client, xml: Any) -> httpx.Client:
    """``token_client`` with the Pipeline job ``app`` created (API token: no crumbs to handle)."""
    assert _create(token_client, "app", xml.pipeline).status_code == 200
    return token_client


# -- createItem ------------------------------------------------------------------------------------------


def test_create_item_answers_200_with_an_empty_body(token_client: httpx.Client, emulator: JenkinsEmulator,
                                                    xml: Any) -> None:
    answer = _create(token_client, "app", xml.pipeline)
    assert (answer.status_code, answer.content, answer.headers.get("Location")) == (200, b"", None)
    assert emulator.job_config("app") == xml.pipeline


@pytest.mark.parametrize(("name", "message"), [
    ("", "No name is specified"),
    ("   ", "No name is specified"),
    ("a?b", "‘?’ is an unsafe character"),
    ("team/app", "‘/’ is an unsafe character"),
    ("a:b", "‘:’ is an unsafe character"),
    ("50%", "‘%’ is an unsafe character"),
    ("[x]", "‘[’ is an unsafe character"),
    (".", "“.” is not an allowed name"),
    ("..", "“..” is not an allowed name"),
    ("app.", "A name cannot end with ‘.’"),
    ("a\tb", "No control code is allowed: a\\u9;b"),
])
def test_bad_names_get_400_with_checkgoodname_messages(token_client: httpx.Client, emulator: JenkinsEmulator,
                                                       xml: Any, name: str, message: str) -> None:
    answer = _create(token_client, name, xml.pipeline)
    assert answer.status_code == 400
    assert _page_message(answer) == message
    # Jetty cannot write ‘’“” into a header: they arrive as spaces (httpx strips the outer ones)
    assert _x_error(answer) == message.translate({0x2018: " ", 0x2019: " ", 0x201C: " ", 0x201D: " "}).strip()
    assert emulator.jobs() == {}


def test_an_existing_name_in_any_case_is_taken(app: httpx.Client, xml: Any) -> None:
    for name in ("app", "APP", " app "):
        answer = _create(app, name, xml.pipeline)
        assert answer.status_code == 400
        assert _page_message(answer) == f"A job already exists with the name ‘{name.strip()}’"
        assert _x_error(answer) == f"A job already exists with the name  {name.strip()}"
    assert app.get("job/APP/api/json", params={"tree": "name"}).json()["name"] == "app"


def test_create_item_request_errors(token_client: httpx.Client, emulator: JenkinsEmulator, xml: Any) -> None:
    no_type = token_client.post("createItem", params={"name": "a"}, content=xml.pipeline)
    assert (no_type.status_code, _x_error(no_type)) == (400, "No Content-Type header set")
    no_name = token_client.post("createItem", content=xml.pipeline, headers=XML)
    assert (no_name.status_code, _x_error(no_name)) == (400, "Query parameter 'name' is required")
    assert _page_message(no_name) == "Query parameter 'name' is required"
    json_body = token_client.post("createItem", params={"name": "a"}, json={"x": 1})
    assert (json_body.status_code, _x_error(json_body)) == (400, "No mode given")
    unknown = token_client.post("createItem", params={"name": "a", "mode": "nope"},
                                headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert _page_message(unknown) == "No item type ‘nope’ is known"
    get = token_client.get("createItem", params={"name": "a"})
    assert (get.status_code, get.headers["Allow"]) == (405, "POST")
    assert emulator.jobs() == {}


@pytest.mark.parametrize("body", [
    "<flow-definition>",
    "",
    "<!DOCTYPE x [<!ENTITY boom 'boom'>]><flow-definition><description>&boom;</description>"
    "</flow-definition>",
])
def test_unreadable_xml_is_refused_and_creates_nothing(token_client: httpx.Client, emulator: JenkinsEmulator,
                                                       body: str) -> None:
    answer = _create(token_client, "app", body)
    assert (answer.status_code, _x_error(answer)) == (400, "Failed to persist config.xml")
    assert emulator.jobs() == {}


def test_an_unknown_root_element_is_a_server_error(token_client: httpx.Client,
                                                   emulator: JenkinsEmulator) -> None:
    answer = _create(token_client, "app", "<flow-defintion/>")
    assert answer.status_code == 500
    assert "CannotResolveClassException: flow-defintion" in answer.text
    assert emulator.jobs() == {}


def test_folders_hold_items(token_client: httpx.Client, emulator: JenkinsEmulator, xml: Any) -> None:
    assert _create(token_client, "team", xml.folder).status_code == 200
    assert _create(token_client, "infra", xml.folder, "job/team/").status_code == 200
    assert _create(token_client, "app", xml.pipeline, "job/team/job/infra/").status_code == 200
    assert _create(token_client, "app", xml.pipeline, "job/ghost/").status_code == 404
    assert _create(token_client, "x", xml.pipeline, "job/team/job/infra/job/app/").status_code == 404
    assert emulator.folders() == ["team", "team/infra"]
    assert list(emulator.jobs()) == ["team/infra/app"]
    folder = token_client.get("job/team/job/infra/api/json").json()
    assert folder["fullName"] == "team/infra" and folder["fullDisplayName"] == "team » infra"
    assert folder["jobs"] == [{"_class": "org.jenkinsci.plugins.workflow.job.WorkflowJob", "name": "app",
                               "url": f"{emulator.url}job/team/job/infra/job/app/", "color": "notbuilt"}]


def test_copy_and_form_modes_redirect_to_the_configure_page(token_client: httpx.Client,
                                                            emulator: JenkinsEmulator, xml: Any) -> None:
    _create(token_client, "app", xml.pipeline)
    copied = token_client.post("createItem", params={"name": "app2", "mode": "copy", "from": "app"})
    assert (copied.status_code, copied.headers["Location"]) == (302, f"{emulator.url}job/app2/configure")
    assert emulator.job_config("app2") == xml.pipeline
    missing = token_client.post("createItem", params={"name": "app3", "mode": "copy", "from": "nope"})
    assert _x_error(missing) == "No such job: nope"
    blank = token_client.post("createItem", data={"name": "free", "mode": "hudson.model.FreeStyleProject"})
    assert blank.status_code == 302
    assert token_client.get("job/free/api/json").json()["_class"] == "hudson.model.FreeStyleProject"


# -- reading and writing items -------------------------------------------------------------------------


def test_job_json_and_tree(app: httpx.Client, emulator: JenkinsEmulator) -> None:
    answer = app.get("job/app/api/json", params={"depth": "0"})
    info = answer.json()
    assert answer.headers["X-Jenkins"] == "2.541.3"
    expected = {"_class", "name", "displayName", "displayNameOrNull", "description", "fullName",
                "fullDisplayName", "url", "buildable", "builds", "color", "firstBuild", "lastBuild",
                "lastCompletedBuild", "lastFailedBuild", "lastStableBuild", "lastSuccessfulBuild",
                "lastUnstableBuild", "lastUnsuccessfulBuild", "healthReport", "inQueue", "queueItem",
                "keepDependencies", "nextBuildNumber", "property", "concurrentBuild", "resumeBlocked",
                "disabled"}
    assert expected <= set(info)
    assert (info["inQueue"], info["queueItem"], info["concurrentBuild"]) == (False, None, True)
    assert app.get("job/app/api/json", params={"tree": "name"}).json() == {
        "_class": "org.jenkinsci.plugins.workflow.job.WorkflowJob", "name": "app"}
    assert app.get("job/app/api/json", params={"tree": "name,lastBuild"}).json()["lastBuild"] is None
    assert app.get("job/nope/api/json").status_code == 404
    assert app.get("job/app/api/json", params={"tree": "builds[number"}).status_code == 400


def test_config_xml_read_write(app: httpx.Client, emulator: JenkinsEmulator, xml: Any) -> None:
    read = app.get("job/app/config.xml")
    assert (read.status_code, read.headers["Content-Type"]) == (200, "application/xml")
    assert read.text == xml.pipeline
    written = app.post("job/app/config.xml", content=xml.scm_pipeline, headers={"Content-Type": "text/xml"})
    assert (written.status_code, written.content) == (200, b"")
    assert emulator.job_config("app") == xml.scm_pipeline
    assert app.put("job/app/config.xml", content=xml.pipeline).status_code == 400
    broken = app.post("job/app/config.xml", content="<flow-definition>", headers=XML)
    assert (broken.status_code, _x_error(broken)) == (400, "Failed to process config.xml")
    other_type = app.post("job/app/config.xml", content=xml.folder, headers=XML)
    assert other_type.status_code == 500 and "Expecting class" in other_type.text
    assert emulator.job_config("app") == xml.scm_pipeline
    assert app.get("job/nope/config.xml").status_code == 404


def test_do_delete_redirects_to_the_parent_and_delete_answers_204(
        token_client: httpx.Client, emulator: JenkinsEmulator, xml: Any) -> None:
    _create(token_client, "app", xml.pipeline)
    _create(token_client, "team", xml.folder)
    _create(token_client, "web", xml.pipeline, "job/team/")
    refused = token_client.get("job/app/doDelete")
    assert (refused.status_code, refused.headers["Allow"]) == (405, "POST")
    top = token_client.post("job/app/doDelete")
    assert (top.status_code, top.headers["Location"]) == (302, emulator.url)
    nested = token_client.post("job/team/job/web/doDelete")
    assert (nested.status_code, nested.headers["Location"]) == (302, f"{emulator.url}job/team/")
    assert token_client.delete("job/team/").status_code == 204
    assert token_client.delete("job/team/").status_code == 404
    assert token_client.post("job/app/doDelete").status_code == 404
    assert (emulator.jobs(), emulator.folders()) == ({}, [])


def test_a_job_deleted_by_hand_is_gone_for_the_client(app: httpx.Client, emulator: JenkinsEmulator) -> None:
    emulator.delete_job("app")
    assert app.get("job/app/api/json").status_code == 404
    assert emulator.job_config("app") is None
    with pytest.raises(KeyError):
        emulator.delete_job("app")


# -- builds and the queue --------------------------------------------------------------------------------


def _left(client: httpx.Client, location: str) -> dict[str, Any]:
    deadline = time.monotonic() + 5
    while True:
        item: dict[str, Any] = client.get(location + "api/json").json()
        if "executable" in item:
            return item
        assert time.monotonic() < deadline, item
        time.sleep(0.05)


def test_build_answers_201_with_the_queue_item_location(app: httpx.Client, emulator: JenkinsEmulator) -> None:
    answer = app.post("job/app/build")
    assert (answer.status_code, answer.headers["Location"]) == (201, f"{emulator.url}queue/item/1/")
    waiting = app.get("queue/item/1/api/json").json()
    assert waiting["_class"] == "hudson.model.Queue$WaitingItem"
    assert waiting["why"].startswith("In the quiet period.") and "executable" not in waiting
    assert waiting["task"]["name"] == "app"
    assert app.get("job/app/api/json").json()["inQueue"] is True
    again = app.post("job/app/build")  # folded into the waiting item
    assert (again.status_code, again.headers["Location"]) == (201, f"{emulator.url}queue/item/1/")
    left = _left(app, answer.headers["Location"])
    assert left["_class"] == "hudson.model.Queue$LeftItem" and left["cancelled"] is False
    assert left["executable"]["number"] == 1
    assert emulator.builds("app") == [{"number": 1, "queue_id": 1, "params": None}]
    assert app.get("job/app/lastBuild/api/json").json()["queueId"] == 1
    assert app.get("job/app/2/api/json").status_code == 404
    assert app.get("queue/item/99/api/json").status_code == 404
    assert app.get("job/app/build").status_code == 405


def test_a_disabled_job_answers_409(token_client: httpx.Client, xml: Any) -> None:
    _create(token_client, "off", xml.disabled)
    for action in ("build", "buildWithParameters"):
        answer = token_client.post(f"job/off/{action}")
        assert answer.status_code == 409
        assert "off is not buildable" in answer.text


def test_build_with_parameters(token_client: httpx.Client, emulator: JenkinsEmulator, xml: Any) -> None:
    _create(token_client, "app", xml.pipeline)
    plain = token_client.post("job/app/buildWithParameters", params={"A": "1"})
    assert plain.status_code == 400 and "app is not parameterized" in plain.text
    _create(token_client, "param", xml.parameterized)
    first = token_client.post("job/param/buildWithParameters", params={"BRANCH": "dev", "DEPLOY": "TRUE"})
    assert first.status_code == 201
    same = token_client.post("job/param/buildWithParameters", params={"BRANCH": "dev", "DEPLOY": "true"})
    assert (same.status_code, same.headers["Location"]) == (303, first.headers["Location"])
    other = token_client.post("job/param/buildWithParameters", params={"BRANCH": "main"})
    assert other.status_code == 201 and other.headers["Location"] != first.headers["Location"]
    assert [build["params"] for build in emulator.builds("param")] == [
        {"BRANCH": "dev", "DEPLOY": "true"}, {"BRANCH": "main", "DEPLOY": "false"}]
    assert token_client.get("job/param/buildWithParameters").status_code == 405


def test_build_of_a_parameterized_job_wants_a_form(token_client: httpx.Client, emulator: JenkinsEmulator,
                                                   xml: Any) -> None:
    _create(token_client, "param", xml.parameterized)
    assert token_client.post("job/param/build").status_code == 500
    form = {"json": '{"parameter": [{"name": "BRANCH", "value": "rel"}]}'}
    answer = token_client.post("job/param/build", data=form)
    assert answer.status_code == 201
    assert emulator.builds("param")[0]["params"] == {"BRANCH": "rel", "DEPLOY": "false"}


def test_a_job_token_lets_a_get_trigger_a_build(token_client: httpx.Client, xml: Any) -> None:
    body = xml.pipeline.replace("<triggers/>", "<authToken>s3cret</authToken>\n  <triggers/>")
    _create(token_client, "hook", body)
    assert token_client.get("job/hook/build", params={"token": "s3cret"}).status_code == 201
    assert token_client.post("job/hook/build", params={"token": "wrong"}).status_code == 403


def test_delay_and_the_queue_listing(app: httpx.Client, emulator: JenkinsEmulator) -> None:
    app.post("job/app/build", params={"delay": "0sec"})
    time.sleep(0.02)
    assert app.get("queue/api/json").json()["items"] == []
    assert app.get("job/app/1/api/json").json()["result"] == "SUCCESS"
    app.post("job/app/build", params={"delay": "5sec"})
    items = app.get("queue/api/json").json()["items"]
    assert [item["id"] for item in items] == [2]
    emulator.delete_job("app")  # its waiting item goes with it
    assert app.get("queue/api/json").json()["items"] == []


def test_tree_ranges_reach_into_builds(token_client: httpx.Client, xml: Any) -> None:
    _create(token_client, "param", xml.parameterized)
    for branch in ("a", "b", "c"):
        token_client.post("job/param/buildWithParameters", params={"BRANCH": branch, "delay": "0"})
    time.sleep(0.02)
    newest = token_client.get("job/param/api/json", params={"tree": "builds[number,result]{0,2}"}).json()
    assert newest["builds"] == [
        {"_class": "org.jenkinsci.plugins.workflow.job.WorkflowRun", "number": 3, "result": "SUCCESS"},
        {"_class": "org.jenkinsci.plugins.workflow.job.WorkflowRun", "number": 2, "result": "SUCCESS"}]
    oldest = token_client.get("job/param/api/json", params={"tree": "builds[actions[parameters[value]]]{2}"})
    assert oldest.json()["builds"][0]["actions"][0]["parameters"] == [
        {"_class": "hudson.model.StringParameterValue", "value": "a"},
        {"_class": "hudson.model.StringParameterValue", "value": "false"}]


def test_a_chunked_upload_is_read_whole(token_client: httpx.Client, emulator: JenkinsEmulator,
                                        xml: Any) -> None:
    chunks = iter([xml.pipeline[:100].encode(), xml.pipeline[100:].encode()])
    answer = token_client.post("createItem", params={"name": "app"}, content=chunks, headers=XML)
    assert answer.status_code == 200
    assert emulator.job_config("app") == xml.pipeline


def test_deleting_a_folder_drops_the_queued_builds_inside(token_client: httpx.Client,
                                                          emulator: JenkinsEmulator, xml: Any) -> None:
    _create(token_client, "team", xml.folder)
    _create(token_client, "app", xml.pipeline, "job/team/")
    token_client.post("job/team/job/app/build", params={"delay": "5sec"})
    assert len(token_client.get("queue/api/json").json()["items"]) == 1
    assert token_client.get("job/team/job/app/enable").status_code == 405
    assert token_client.post("job/team/build").status_code == 404  # a folder builds nothing
    assert token_client.delete("job/team/").status_code == 204
    assert token_client.get("queue/api/json").json()["items"] == []
    assert token_client.get("no/such/page").status_code == 404


def test_items_are_listed_by_name_ignoring_case(token_client: httpx.Client, emulator: JenkinsEmulator,
                                                xml: Any) -> None:
    for name in ("beta", "Alpha", "gamma"):
        _create(token_client, name, xml.pipeline)
    listed = token_client.get("api/json", params={"tree": "jobs[name]"}).json()["jobs"]
    assert [job["name"] for job in listed] == ["Alpha", "beta", "gamma"]
    assert list(emulator.jobs()) == ["Alpha", "beta", "gamma"]
