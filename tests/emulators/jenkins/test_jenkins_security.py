"""Authentication, crumbs and sessions, the headers Jenkins advertises, start-up, and the test hooks."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from dtm_core.emulators.jenkins import JenkinsEmulator

CRUMB_403 = "No valid crumb was included in the request"
XML_HEADERS = {"Content-Type": "text/xml; charset=utf-8"}


def test_wrong_or_unknown_credentials_get_401_with_a_basic_challenge(emulator: JenkinsEmulator) -> None:
    for auth in (("admin", "wrong"), ("nobody", "admin")):
        answer = httpx.get(emulator.url + "api/json", auth=auth)
        assert answer.status_code == 401
        assert answer.headers["WWW-Authenticate"] == 'Basic realm="Jenkins"'
        assert "HTTP ERROR 401 Unauthorized" in answer.text


def test_anonymous_callers_get_403_authentication_required(emulator: JenkinsEmulator) -> None:
    answer = httpx.get(emulator.url + "job/app/api/json")
    assert answer.status_code == 403
    assert answer.headers["X-You-Are-Authenticated-As"] == "anonymous"
    assert answer.headers["X-Required-Permission"] == "hudson.model.Hudson.Read"
    assert answer.headers["X-Jenkins"] == "2.541.3"
    assert "Authentication required" in answer.text
    assert "WWW-Authenticate" not in answer.headers


def test_a_password_post_without_a_crumb_is_refused(client: httpx.Client, emulator: JenkinsEmulator,
                                                    xml: Any) -> None:
    answer = client.post("createItem", params={"name": "app"}, content=xml.pipeline, headers=XML_HEADERS)
    assert answer.status_code == 403
    assert answer.reason_phrase == "Forbidden"
    assert f"<h2>HTTP ERROR 403 {CRUMB_403}</h2>" in answer.text
    assert emulator.jobs() == {}


def test_a_crumb_with_its_session_cookie_is_accepted(client: httpx.Client, emulator: JenkinsEmulator,
                                                     crumb: Callable[[httpx.Client], dict[str, str]],
                                                     xml: Any) -> None:
    issued = client.get("crumbIssuer/api/json")
    assert issued.json()["_class"] == "hudson.security.csrf.DefaultCrumbIssuer"
    assert issued.json()["crumbRequestField"] == "Jenkins-Crumb"
    assert len(issued.json()["crumb"]) == 64
    cookie = issued.headers["Set-Cookie"]
    assert cookie.startswith("JSESSIONID.") and "Path=/" in cookie and "HttpOnly" in cookie
    header = {"Jenkins-Crumb": issued.json()["crumb"]}
    answer = client.post("createItem", params={"name": "app"}, content=xml.pipeline,
                         headers={**XML_HEADERS, **header})
    assert answer.status_code == 200
    assert "Set-Cookie" not in client.get("crumbIssuer/api/json").headers  # the session goes on
    # the same crumb as a query parameter, and as a form field
    param = {"Jenkins-Crumb": issued.json()["crumb"]}
    assert client.post("job/app/disable", params=param).status_code == 302
    assert client.post("job/app/enable", data=param).status_code == 302


def test_a_crumb_without_its_cookie_or_of_another_user_is_refused(emulator: JenkinsEmulator,
                                                                  client: httpx.Client, xml: Any) -> None:
    issued = client.get("crumbIssuer/api/json").json()
    header = {issued["crumbRequestField"]: issued["crumb"], **XML_HEADERS}
    with httpx.Client(base_url=emulator.url, auth=("admin", "admin")) as cookieless:
        answer = cookieless.post("createItem", params={"name": "a"}, content=xml.pipeline, headers=header)
    assert (answer.status_code, CRUMB_403 in answer.text) == (403, True)
    emulator.add_user("bob", password="bob")
    bob = httpx.Client(base_url=emulator.url, auth=("bob", "bob"), cookies=client.cookies)
    with bob:
        answer = bob.post("createItem", params={"name": "b"}, content=xml.pipeline, headers=header)
    assert answer.status_code == 403
    assert emulator.jobs() == {}


def test_an_api_token_needs_no_crumb(token_client: httpx.Client, emulator: JenkinsEmulator, xml: Any) -> None:
    answer = token_client.post("createItem", params={"name": "app"}, content=xml.pipeline,
                               headers=XML_HEADERS)
    assert answer.status_code == 200
    assert token_client.delete("job/app/").status_code == 204
    assert emulator.writes() == [("POST", "/createItem?name=app"), ("DELETE", "/job/app/")]


def test_tokens_and_users(emulator: JenkinsEmulator) -> None:
    generated = emulator.api_token("admin")
    assert len(generated) == 34 and generated == emulator.api_token("admin")
    emulator.add_user("ci", api_token="11" + "0" * 32)
    assert emulator.api_token("ci") == "11" + "0" * 32
    assert httpx.get(emulator.url + "me/api/json", auth=("ci", "11" + "0" * 32)).json()["id"] == "ci"
    assert httpx.get(emulator.url + "me/api/json", auth=("ci", "")).status_code == 401  # no password
    with pytest.raises(KeyError):
        emulator.api_token("ghost")


def test_without_a_crumb_issuer_no_crumb_is_needed(xml: Any) -> None:
    with JenkinsEmulator(crumbs=False) as emulator, \
            httpx.Client(base_url=emulator.url, auth=("admin", "admin")) as client:
        assert client.get("crumbIssuer/api/json").status_code == 404
        assert client.get("api/json").json()["useCrumbs"] is False
        answer = client.post("createItem", params={"name": "app"}, content=xml.pipeline, headers=XML_HEADERS)
        assert answer.status_code == 200


@pytest.mark.parametrize(("xpath", "expected"), [
    ('concat(//crumbRequestField,":",//crumb)', "Jenkins-Crumb:{crumb}"),
    ("concat(//crumbRequestField,'=',//crumb)", "Jenkins-Crumb={crumb}"),
    ("/*/crumbRequestField/text()", "Jenkins-Crumb"),
    ("/*/crumb/text()", "{crumb}"),
])
def test_the_fixed_xpath_forms_of_the_crumb_issuer(client: httpx.Client, xpath: str, expected: str) -> None:
    crumb = client.get("crumbIssuer/api/json").json()["crumb"]
    answer = client.get("crumbIssuer/api/xml", params={"xpath": xpath})
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("text/plain")
    assert answer.text == expected.format(crumb=crumb)


def test_the_crumb_issuer_xml_without_xpath(client: httpx.Client) -> None:
    crumb = client.get("crumbIssuer/api/json").json()["crumb"]
    answer = client.get("crumbIssuer/api/xml")
    assert answer.text.startswith('<defaultCrumbIssuer _class="hudson.security.csrf.DefaultCrumbIssuer">')
    assert f"<crumb>{crumb}</crumb>" in answer.text
    assert client.get("crumbIssuer/api/xml", params={"xpath": "//crumb"}).status_code == 400


def test_the_version_and_api_headers(client: httpx.Client) -> None:
    home = client.get("")
    assert (home.status_code, home.headers["X-Jenkins"]) == (200, "2.541.3")
    api = client.get("api/json")
    assert api.headers["X-Jenkins"] == "2.541.3"
    assert api.headers["X-Content-Type-Options"] == "nosniff"
    assert api.headers["X-Frame-Options"] == "deny"
    assert len(api.headers["X-Jenkins-Session"]) == 8
    assert api.headers["X-Jenkins-Session"] == home.headers["X-Jenkins-Session"]
    assert api.headers["Content-Type"] == "application/json;charset=utf-8"
    assert api.json()["_class"] == "hudson.model.Hudson" and api.json()["useCrumbs"] is True
    assert client.get("api/json", params={"tree": "jobs[name]"}).json() == {"_class": "hudson.model.Hudson",
                                                                            "jobs": []}


def test_another_version() -> None:
    with JenkinsEmulator(version="2.516.1", admin_user="root", admin_password="s3cret") as emulator:
        answer = httpx.get(emulator.url, auth=("root", "s3cret"))
        assert answer.headers["X-Jenkins"] == "2.516.1"


def test_503_while_jenkins_is_getting_ready() -> None:
    with JenkinsEmulator(ready_after=0.3) as emulator:
        starting = httpx.get(emulator.url + "api/json", auth=("admin", "admin"))
        assert starting.status_code == 503
        assert "Jenkins is getting ready to work" in starting.text
        assert httpx.get(emulator.url + "crumbIssuer/api/json").status_code == 503  # before any auth check
        time.sleep(0.35)
        assert httpx.get(emulator.url + "api/json", auth=("admin", "admin")).status_code == 200


def test_fail_next_answers_faults_then_lets_requests_through(client: httpx.Client,
                                                             emulator: JenkinsEmulator) -> None:
    emulator.fail_next("GET", "/job/", 502, times=2, headers={"Retry-After": "3"})
    emulator.fail_next("POST", "queue", 500)
    first = client.get("job/app/api/json")
    assert (first.status_code, first.headers["Retry-After"]) == (502, "3")
    assert "HTTP ERROR 502 Bad Gateway" in first.text
    assert client.get("job/app/api/json").status_code == 502
    assert client.get("job/app/api/json").status_code == 404  # the faults are used up
    assert client.get("queue/api/json").status_code == 200  # another method
    assert client.post("queue/x").status_code == 500
    emulator.fail_next("*", "/", 418)
    assert client.delete("anything").status_code == 418
    assert emulator.requests[:3] == [("GET", "/job/app/api/json")] * 3
    assert emulator.writes() == [("POST", "/queue/x"), ("DELETE", "/anything")]


def test_the_emulator_has_no_url_before_it_starts() -> None:
    with pytest.raises(RuntimeError):
        _ = JenkinsEmulator().url


def test_python_m_serves_until_terminated() -> None:
    with subprocess.Popen([sys.executable, "-m", "dtm_core.emulators.jenkins", "--user", "ops",
                           "--password", "pw"], stdout=subprocess.PIPE, text=True,
                          env={**os.environ, "PYTHONUNBUFFERED": "1"}) as process:
        try:
            assert process.stdout is not None
            first = process.stdout.readline()
            assert first.startswith("Jenkins emulator at http://127.0.0.1:")
            url = first.rsplit(" ", 1)[-1].strip()
            token = process.stdout.readline().rsplit(" ", 1)[-1].strip()
            assert httpx.get(url + "me/api/json", auth=("ops", "pw")).json()["id"] == "ops"
            assert httpx.get(url + "me/api/json", auth=("ops", token)).status_code == 200
        finally:
            process.terminate()
            assert process.wait(timeout=5) == 0
