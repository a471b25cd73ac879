"""The jenkins-pipeline tool against the Jenkins emulator: create, folders, converge, drift, errors, build.

Everything runs through the dtm CLI in-process against a ``JenkinsEmulator`` on loopback; the
job is checked where Jenkins keeps it (the emulator's config.xml, parsed) and through
python-jenkins as a second client. The starter Jenkinsfile goes to a ``test-scm://``
repository of the test plugin's source control, kept in the test world file.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jenkins  # type: ignore[import-untyped,unused-ignore]
import pytest
from click.testing import Result
from dtm_harness import DtmHarness  # type: ignore[import-not-found,unused-ignore]
from dtm_plugins_jenkins.jenkinsapi import JenkinsClient  # type: ignore[import-not-found,unused-ignore]
from dtm_plugins_jenkins.jobconfig import (  # type: ignore[import-not-found,unused-ignore]
    JobConfigError,
    JobSettings,
    branch_of,
    folder_xml,
    parse_job,
    pipeline_xml,
)
from dtm_plugins_jenkins.pipeline import (  # type: ignore[import-not-found,unused-ignore]
    DEFAULT_DESCRIPTION,
    starter_jenkinsfile,
)

from dtm_core.emulators.faults import FaultRates
from dtm_core.emulators.jenkins import JenkinsEmulator

REPO = Path(__file__).resolve().parents[3]
PLUGIN_ENV = {"DTM_PLUGINS": "testplugin", "DTM_LOAD_PLUGINS": "dtm-plugins-jenkins,testplugin"}

PASSWORD = "canary-jenkins-pw-41c9"  # the admin password: must never show up in state or output
GIT_URL = "https://github.com/acme/app.git"
ADDRESS = "jenkins-pipeline.default"


# -- fixtures ----------------------------------------------------------------------------------------


@pytest.fixture
def pipeline_dtm(dtm_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> DtmHarness:
    """dtm with jenkins-pipeline, the test plugin (for test-scm://) and the repository's registry.

    The registry's jenkins-pipeline depends on the jenkins tool (Jenkins in a cluster); here Jenkins
    is the emulator, so the copy drops that dependency.
    """
    data = json.loads((REPO / "registry.json").read_text(encoding="utf-8"))
    for version in data["tools"]["jenkins-pipeline"]["versions"].values():
        version["dependencies"] = []
    registry = tmp_path / "registry.json"
    registry.write_text(json.dumps(data), encoding="utf-8")
    settings = {**PLUGIN_ENV, "DTM_REGISTRY": str(registry), "HOME": str(tmp_path)}
    for key, value in settings.items():
        dtm_env[key] = value
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(JenkinsClient, "poll_interval", 0.05)
    return DtmHarness(home=Path(dtm_env["DTM_HOME"]), env=dtm_env)


@pytest.fixture
def start_jenkins() -> Iterator[Callable[..., JenkinsEmulator]]:
    """Start a Jenkins emulator (admin's password is PASSWORD); all are stopped after the test."""
    started: list[JenkinsEmulator] = []

    def start(**settings: Any) -> JenkinsEmulator:
        emulator = JenkinsEmulator(admin_password=PASSWORD, **settings).start()
        started.append(emulator)
        return emulator

    yield start
    for emulator in started:
        emulator.stop()


@pytest.fixture
def emulator(start_jenkins: Callable[..., JenkinsEmulator]) -> JenkinsEmulator:
    return start_jenkins()


@pytest.fixture
def dtm(pipeline_dtm: DtmHarness, emulator: JenkinsEmulator) -> DtmHarness:
    """dtm whose environment holds admin's API token (JENKINS_TOKEN) and password (JENKINS_PASSWORD)."""
    return connect(pipeline_dtm, emulator)


@pytest.fixture
def second_client(emulator: JenkinsEmulator) -> Iterator[jenkins.Jenkins]:
    """python-jenkins logged in as admin with the password (so it fetches crumbs itself)."""
    server = jenkins.Jenkins(emulator.url, username="admin", password=PASSWORD, timeout=10)
    yield server
    server._session.close()  # its keep-alive connections would otherwise outlive the emulator


# -- helpers -----------------------------------------------------------------------------------------


def connect(dtm: DtmHarness, emulator: JenkinsEmulator) -> DtmHarness:
    dtm.env["JENKINS_TOKEN"] = emulator.api_token("admin")
    dtm.env["JENKINS_PASSWORD"] = PASSWORD
    return dtm


def ok(result: Result) -> Result:
    assert result.exit_code == 0, result.stdout + result.stderr
    return result


def install(dtm: DtmHarness, emulator: JenkinsEmulator, *settings: str, job: str = "app",
            token: str = "env:JENKINS_TOKEN", repo: str = GIT_URL, instance: str = "default") -> Result:
    values = {"jenkins_url": emulator.url, "job_name": job, "repo_url": repo, "token": token}
    args = [arg for key, value in values.items() for arg in ("--set", f"{key}={value}")]
    for setting in settings:
        args += ["--set", setting]
    result: Result = dtm.run("install", "jenkins-pipeline", "--instance", instance, *args, "-y")
    return result


def failure(result: Result) -> tuple[str, str]:
    """The one error line and its hint of a failed run."""
    assert result.exit_code == 1, result.stdout + result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    hints = [line for line in result.stderr.splitlines() if line.startswith("hint:")]
    assert len(errors) == 1 and len(hints) == 1, result.stderr
    return errors[0], hints[0]


def live_job(emulator: JenkinsEmulator, name: str = "app") -> JobSettings:
    config = emulator.job_config(name)
    assert config is not None, f"Jenkins has no job {name}"
    settings: JobSettings = parse_job(config.encode())
    return settings


def status_of(dtm: DtmHarness, address: str = ADDRESS) -> dict[str, Any]:
    rows = json.loads(ok(dtm.run("status", "-o", "json")).stdout)
    found: dict[str, Any] = {row["address"]: row for row in rows}[address]
    return found


def outputs(dtm: DtmHarness, address: str = ADDRESS) -> dict[str, Any]:
    found: dict[str, Any] = dtm.state()["instances"][address]["outputs"]
    return found


def toolchain(tmp_path: Path, emulator: JenkinsEmulator, **options: str) -> str:
    settings = {"jenkins_url": emulator.url, "job_name": "app", "repo_url": GIT_URL, "branch": "main",
                "token": "env:JENKINS_TOKEN", **options}
    lines = ["version: 1", "tools:", "  - tool: jenkins-pipeline", "    name: app", "    options:"]
    lines += [f"      {key}: {json.dumps(value)}" for key, value in settings.items()]
    path = tmp_path / "toolchain.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


# -- config.xml --------------------------------------------------------------------------------------


def test_config_xml_escapes_values_and_reads_back_as_written() -> None:
    wanted = JobSettings(repo_url="https://example.com/a&b<c>.git", branch="feature/x",
                         jenkinsfile_path="ci/J'f", credentials_id="git-creds",
                         description='say "hi" & <bye>')
    raw = pipeline_xml(wanted)
    assert b"a&amp;b&lt;c&gt;.git" in raw and b"<name>*/feature/x</name>" in raw
    assert parse_job(raw) == wanted
    plain = pipeline_xml(JobSettings(GIT_URL, "main", "Jenkinsfile", None, ""))
    assert parse_job(plain).credentials_id is None and b"credentialsId" not in plain
    with pytest.raises(JobConfigError, match="control character"):
        pipeline_xml(JobSettings(GIT_URL, "main\x01", "Jenkinsfile", None, ""))


def test_a_config_jenkins_rewrote_reads_as_the_same_settings() -> None:
    rewritten = (REPO / "tests" / "emulators" / "jenkins" / "conftest.py").read_text(encoding="utf-8")
    scm = rewritten.split('SCM_PIPELINE = """', 1)[1].split('"""', 1)[0]  # plugin="..." attributes, no creds
    assert parse_job(scm.encode()) == JobSettings(GIT_URL, "main", "Jenkinsfile", None, "built from Git")
    specs = ("*/main", "refs/heads/dev", "origin/x", "v1")
    assert [branch_of(spec) for spec in specs] == ["main", "dev", "x", "v1"]
    inline = parse_job(rewritten.split('PIPELINE = """', 1)[1].split('"""', 1)[0].encode())
    assert inline.structural_drift() == ["the Pipeline script is not read from SCM "
                                         "(definition org.jenkinsci.plugins.workflow.cps.CpsFlowDefinition)"]


# -- create, read back, remove -----------------------------------------------------------------------


def test_install_creates_the_pipeline_job_that_python_jenkins_sees(
        dtm: DtmHarness, emulator: JenkinsEmulator, second_client: jenkins.Jenkins) -> None:
    result = ok(install(dtm, emulator, "branch=develop", "jenkinsfile_path=ci/Jenkinsfile",
                        "credentials_id=github-app"))
    assert "creating pipeline job app for https://github.com/acme/app.git (develop)" in result.stderr
    assert list(emulator.jobs()) == ["app"] and emulator.folders() == []
    assert live_job(emulator) == JobSettings(GIT_URL, "develop", "ci/Jenkinsfile", "github-app",
                                             DEFAULT_DESCRIPTION)
    assert second_client.job_exists("app")
    assert parse_job(second_client.get_job_config("app").encode()) == live_job(emulator)
    info = second_client.get_job_info("app")
    assert info["_class"] == "org.jenkinsci.plugins.workflow.job.WorkflowJob"
    assert info["description"] == DEFAULT_DESCRIPTION
    assert outputs(dtm) == {"job_url": f"{emulator.url}job/app/", "job_name": "app"}
    assert [w for w in emulator.writes()] == [("POST", "/createItem?name=app")]
    assert status_of(dtm)["live"] == "ok"

    ok(dtm.run("remove", "jenkins-pipeline", "-y"))
    assert emulator.jobs() == {} and not second_client.job_exists("app")
    assert emulator.writes()[-1] == ("POST", "/job/app/doDelete")


def test_a_job_in_folders_creates_the_missing_folders(
        dtm: DtmHarness, emulator: JenkinsEmulator, second_client: jenkins.Jenkins) -> None:
    second_client.create_folder("team")
    ok(install(dtm, emulator, job="team/web/app"))
    assert emulator.folders() == ["team", "team/web"]
    assert list(emulator.jobs()) == ["team/web/app"]
    assert second_client.job_exists("team/web/app")
    assert outputs(dtm)["job_url"] == f"{emulator.url}job/team/job/web/job/app/"
    assert outputs(dtm)["job_name"] == "team/web/app"
    assert [w for w in emulator.writes() if w[0] == "POST"][-2:] == [
        ("POST", "/job/team/createItem?name=web"), ("POST", "/job/team/job/web/createItem?name=app")]
    ok(dtm.run("remove", "jenkins-pipeline", "-y"))
    assert emulator.jobs() == {} and emulator.folders() == ["team", "team/web"]  # folders may hold others


def test_two_pipelines_creating_the_same_folder_at_once_both_succeed(
        start_jenkins: Callable[..., JenkinsEmulator]) -> None:
    # Found by the canary run: two pipelines of one apply, in parallel, both saw folder acme
    # missing; the second createItem was refused "A job already exists with the name acme".
    # Every call takes 0.3 s, so both look before either creates.
    emulator = start_jenkins(faults=FaultRates(latency=1.0, delay=0.3))
    barrier = threading.Barrier(2)
    created: dict[str, list[str]] = {}

    def make(job: str) -> None:
        with JenkinsClient(emulator.url, "admin", PASSWORD) as client:
            barrier.wait()
            created[job] = client.ensure_folders(["acme", job], folder_xml("made by dtm"))

    threads = [threading.Thread(target=make, args=(job,)) for job in ("app", "admin")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(created) == ["admin", "app"]  # neither raised
    assert sorted(created.values()) == [[], ["acme"]]  # made once, by whichever came first
    assert emulator.folders() == ["acme"]


def test_a_folder_that_is_a_job_and_a_bad_name_are_refused(dtm: DtmHarness,
                                                           emulator: JenkinsEmulator) -> None:
    ok(install(dtm, emulator, job="team"))
    error, hint = failure(install(dtm, emulator, job="team/app", instance="two"))
    assert "Jenkins item team at" in error and "is a job, not a folder" in error
    bad = install(dtm, emulator, job="team/a:b", instance="three")
    assert bad.exit_code == 2 and "':' is not allowed in a Jenkins item name" in bad.stderr


# -- converging --------------------------------------------------------------------------------------


def test_apply_updates_the_job_in_place_and_a_second_apply_writes_nothing(
        dtm: DtmHarness, emulator: JenkinsEmulator, tmp_path: Path) -> None:
    path = toolchain(tmp_path, emulator)
    ok(dtm.run("apply", "-f", path, "-y"))
    assert live_job(emulator).branch == "main"
    writes = emulator.writes()
    ok(dtm.run("apply", "-f", path, "-y"))
    assert emulator.writes() == writes  # nothing changed, nothing written

    path = toolchain(tmp_path, emulator, branch="release")
    ok(dtm.run("apply", "-f", path, "-y"))
    assert live_job(emulator).branch == "release"
    assert emulator.writes()[len(writes):] == [("POST", "/job/app/config.xml")]
    assert ok(dtm.run("plan", "-f", path, "--detailed-exitcode")).exit_code == 0


def test_a_job_changed_by_hand_is_drift_that_apply_undoes(
        dtm: DtmHarness, emulator: JenkinsEmulator, second_client: jenkins.Jenkins, tmp_path: Path) -> None:
    path = toolchain(tmp_path, emulator)
    ok(dtm.run("apply", "-f", path, "-y"))
    by_hand = emulator.job_config("app")
    assert by_hand is not None
    second_client.reconfig_job("app", by_hand.replace("*/main", "*/hotfix").replace(
        "<url>", "<credentialsId>someone</credentialsId><url>"))
    plan = json.loads(ok(dtm.run("plan", "-f", path, "-o", "json")).stdout)
    reasons = {c["address"]: c["reasons"] for c in plan["changes"]}["jenkins-pipeline.app"]
    assert reasons == ["drifted: branch (live 'hotfix', want 'main'), "
                       "the job checks out with credentials someone, which no option sets"]
    ok(dtm.run("apply", "-f", path, "-y"))
    assert live_job(emulator) == JobSettings(GIT_URL, "main", "Jenkinsfile", None, DEFAULT_DESCRIPTION)


def test_a_job_replaced_by_another_type_is_drift_that_dtm_explains(
        dtm: DtmHarness, emulator: JenkinsEmulator, second_client: jenkins.Jenkins, tmp_path: Path) -> None:
    path = toolchain(tmp_path, emulator)
    ok(dtm.run("apply", "-f", path, "-y"))
    emulator.delete_job("app")
    second_client.create_job("app", jenkins.EMPTY_CONFIG_XML)  # a freestyle project
    plan = json.loads(ok(dtm.run("plan", "-f", path, "-o", "json")).stdout)
    reasons = {c["address"]: c["reasons"] for c in plan["changes"]}["jenkins-pipeline.app"]
    assert "the job is not a Pipeline job (its config.xml is a <project>)" in reasons[0]
    error, hint = failure(dtm.run("apply", "-f", path, "-y"))
    assert error.endswith(f"Jenkins item app at {emulator.url} is a <project>, not a Pipeline job")
    assert "delete it in Jenkins" in hint


def test_a_job_deleted_outside_dtm_is_gone_and_apply_recreates_it(
        dtm: DtmHarness, emulator: JenkinsEmulator, tmp_path: Path) -> None:
    path = toolchain(tmp_path, emulator, job_name="team/app")
    ok(dtm.run("apply", "-f", path, "-y"))
    emulator.delete_job("team/app")
    assert status_of(dtm, "jenkins-pipeline.app")["live"] == "gone"
    ok(dtm.run("apply", "-f", path, "-y"))
    assert list(emulator.jobs()) == ["team/app"]
    assert status_of(dtm, "jenkins-pipeline.app")["live"] == "ok"


def test_renaming_the_job_creates_the_new_one_and_deletes_the_old(
        dtm: DtmHarness, emulator: JenkinsEmulator, tmp_path: Path) -> None:
    ok(dtm.run("apply", "-f", toolchain(tmp_path, emulator), "-y"))
    ok(dtm.run("apply", "-f", toolchain(tmp_path, emulator, job_name="team/renamed"), "-y"))
    assert list(emulator.jobs()) == ["team/renamed"]
    assert outputs(dtm, "jenkins-pipeline.app")["job_name"] == "team/renamed"


def test_a_job_dtm_did_not_create_is_not_taken_over_but_its_own_retry_is(
        dtm: DtmHarness, emulator: JenkinsEmulator, second_client: jenkins.Jenkins) -> None:
    someone_elses = pipeline_xml(JobSettings(GIT_URL, "main", "Jenkinsfile", None, "mine"))
    second_client.create_job("app", someone_elses.decode())
    error, hint = failure(install(dtm, emulator))
    assert "a Jenkins job app already exists at" in error and "dtm did not create it" in error
    assert "choose another job_name" in hint
    assert dtm.state().get("instances", {}) == {}

    # What a create whose answer was lost leaves behind: the very job dtm would write.
    dtm_would_write = pipeline_xml(JobSettings(GIT_URL, "main", "Jenkinsfile", None, DEFAULT_DESCRIPTION))
    second_client.create_job("again", dtm_would_write.decode())
    writes = len(emulator.writes())
    result = ok(install(dtm, emulator, job="again"))
    assert "job again already exists as dtm would create it; keeping it" in result.stderr
    assert emulator.writes()[writes:] == []


# -- errors ------------------------------------------------------------------------------------------


def test_wrong_credentials_fail_in_one_line_with_a_hint(dtm: DtmHarness, emulator: JenkinsEmulator) -> None:
    dtm.env["WRONG"] = "not-the-token"
    error, hint = failure(install(dtm, emulator, token="env:WRONG"))
    assert error.endswith(f"{ADDRESS}: Jenkins at {emulator.url} rejected the credentials of admin "
                          "(401 to GET job/app/config.xml)")
    assert "API token of admin" in hint
    assert emulator.jobs() == {}


def test_a_password_works_because_dtm_fetches_the_crumb_and_keeps_the_session(
        dtm: DtmHarness, emulator: JenkinsEmulator) -> None:
    ok(install(dtm, emulator, token="env:JENKINS_PASSWORD"))
    assert list(emulator.jobs()) == ["app"]
    paths = [path for _, path in emulator.requests]
    assert paths.index("/crumbIssuer/api/json") < paths.index("/createItem?name=app")


def test_a_crumb_jenkins_refuses_to_issue_is_reported(dtm: DtmHarness, emulator: JenkinsEmulator) -> None:
    emulator.fail_next("GET", "/crumbIssuer", 403)
    error, hint = failure(install(dtm, emulator, token="env:JENKINS_PASSWORD"))
    assert error.endswith(f"Jenkins at {emulator.url} refused admin a CSRF crumb "
                          "(403 to GET crumbIssuer/api/json)")
    assert "API token" in hint
    emulator.fail_next("POST", "/createItem", 403)
    error, hint = failure(install(dtm, emulator))
    assert error.endswith(f"Jenkins at {emulator.url} denied POST createItem to admin (403)")
    assert emulator.jobs() == {}


def test_jenkins_own_refusal_is_shown_from_x_error(dtm: DtmHarness, emulator: JenkinsEmulator) -> None:
    # Jetty writes Jenkins' curly quotes as spaces in the header.
    emulator.fail_next("POST", "/createItem", 400,
                       headers={"X-Error": "A job already exists with the name  app "})
    error, _ = failure(install(dtm, emulator))
    assert error.endswith("refused POST createItem: A job already exists with the name app")


def test_an_unreachable_jenkins_is_one_line_with_a_hint(dtm: DtmHarness, emulator: JenkinsEmulator) -> None:
    url = emulator.url
    emulator.stop()
    error, hint = failure(dtm.run("install", "jenkins-pipeline", "--set", f"jenkins_url={url}",
                                  "--set", "job_name=app", "--set", f"repo_url={GIT_URL}",
                                  "--set", "token=env:JENKINS_TOKEN", "-y"))
    assert f"cannot reach Jenkins at {url}" in error and "check jenkins_url" in hint


def test_dtm_waits_for_a_starting_jenkins(pipeline_dtm: DtmHarness,
                                          start_jenkins: Callable[..., JenkinsEmulator]) -> None:
    starting = start_jenkins(ready_after=1.0)
    dtm = connect(pipeline_dtm, starting)
    result = ok(install(dtm, starting))
    assert f"Jenkins at {starting.url} is starting (503); waiting up to 300 s" in result.stderr
    assert list(starting.jobs()) == ["app"]

    stuck = start_jenkins(ready_after=600.0)
    error, hint = failure(install(connect(pipeline_dtm, stuck), stuck, "timeout=1", instance="stuck"))
    assert error.endswith(f"jenkins-pipeline.stuck: Jenkins at {stuck.url} is not ready after 1 s "
                          "(503 to GET job/app/config.xml)")
    assert "raise the timeout option" in hint


def test_the_token_is_never_stored_nor_shown(dtm: DtmHarness, emulator: JenkinsEmulator,
                                             tmp_path: Path) -> None:
    token = emulator.api_token("admin")
    shown = [install(dtm, emulator, token="env:JENKINS_PASSWORD"),
             dtm.run("status"), dtm.run("list", "-o", "json"), dtm.run("reinstall", ADDRESS, "-y")]
    dtm.env["JENKINS_PASSWORD"] = PASSWORD + "-wrong"
    shown.append(dtm.run("status"))
    for result in shown:
        for secret in (PASSWORD, token):
            assert secret not in result.stdout + result.stderr
    state = (dtm.home / "data" / "state" / "state.json").read_text(encoding="utf-8")
    assert PASSWORD not in state and token not in state
    assert dtm.state()["instances"][ADDRESS]["options"]["token"] == "env:JENKINS_PASSWORD"
    assert "rejected the credentials of admin" in shown[-1].stderr
    for path in tmp_path.rglob("*"):
        if path.is_file() and path.suffix in {".json", ".jsonl", ".yaml", ".lock", ".log"}:
            assert PASSWORD not in path.read_text(encoding="utf-8", errors="replace"), path


# -- the starter Jenkinsfile and the first build -----------------------------------------------------


def test_the_starter_jenkinsfile_is_committed_once_through_source_control(
        dtm: DtmHarness, emulator: JenkinsEmulator) -> None:
    result = ok(install(dtm, emulator, "starter_jenkinsfile=true", "language=go", "branch=trunk",
                        repo="test-scm://app"))
    assert "committing a starter Jenkinsfile (go) to test-scm://app on trunk" in result.stderr
    repo = dtm.world()["repositories"]["test-scm://app"]
    assert repo["files"] == {"Jenkinsfile": starter_jenkinsfile("go").decode()}
    assert [(c["message"], c["branch"]) for c in repo["commits"]] == [
        ("Add a starter Jenkinsfile for the Jenkins pipeline (dtm)", "trunk")]
    assert "go test ./..." in repo["files"]["Jenkinsfile"]
    assert live_job(emulator).repo_url == "test-scm://app"
    ok(dtm.run("reinstall", ADDRESS, "-y"))
    assert len(dtm.world()["repositories"]["test-scm://app"]["commits"]) == 1


def test_a_jenkinsfile_already_in_the_repository_is_never_overwritten(
        dtm: DtmHarness, emulator: JenkinsEmulator) -> None:
    world = dtm.world()
    world["repositories"] = {"test-scm://app": {"files": {"ci/Jenkinsfile": "// mine"}, "commits": []}}
    dtm.world_file.write_text(json.dumps(world), encoding="utf-8")
    ok(install(dtm, emulator, "starter_jenkinsfile=true", "jenkinsfile_path=ci/Jenkinsfile", repo="test-scm://app"))
    assert dtm.world()["repositories"]["test-scm://app"] == {"files": {"ci/Jenkinsfile": "// mine"},
                                                              "commits": []}
    error, hint = failure(install(dtm, emulator, "starter_jenkinsfile=true", job="other",
                                  repo="https://git.example.com/app.git", instance="other"))
    assert "no source-control plugin can write to https://git.example.com/app.git" in error
    assert "other" not in emulator.jobs()


def test_build_true_starts_the_first_build_once(dtm: DtmHarness, emulator: JenkinsEmulator) -> None:
    result = ok(install(dtm, emulator, "build=true"))
    assert "waiting for the build of app to leave the queue" in result.stderr
    assert [b["number"] for b in emulator.builds("app")] == [1]
    assert outputs(dtm)["build_number"] == 1
    ok(dtm.run("reinstall", ADDRESS, "-y"))
    assert [b["number"] for b in emulator.builds("app")] == [1]
    assert outputs(dtm)["build_number"] == 1


def test_options_are_validated_before_any_call(dtm: DtmHarness, emulator: JenkinsEmulator) -> None:
    result = install(dtm, emulator, "language=cobol")
    assert result.exit_code == 2 and "options.language: expected one of python, go, node" in result.stderr
    assert emulator.requests == []


@pytest.mark.parametrize("after", [True, False], ids=["done-anyway", "not-done"])
def test_a_create_item_that_failed_uncertainly_is_looked_for_not_repeated_blindly(
        dtm: DtmHarness, emulator: JenkinsEmulator, after: bool) -> None:
    emulator.fail_next("POST", "/job/team/createItem", 502, after=after)
    result = ok(install(dtm, emulator, job="team/app"))
    assert "creating Jenkins item team/app may or may not have happened" in result.stderr
    assert ("creating Jenkins item team/app had happened; carrying on with it" in result.stderr) is after
    creates = [w for w in emulator.writes() if "/createItem" in w[1] and "name=app" in w[1]]
    assert len(creates) == (1 if after else 2)
    assert list(emulator.jobs()) == ["team/app"]


def test_a_build_trigger_whose_answer_was_lost_is_not_sent_again(dtm: DtmHarness,
                                                                 emulator: JenkinsEmulator) -> None:
    emulator.fail_next("POST", "/job/app/build", 503, after=True)
    result = ok(install(dtm, emulator, "build=true"))
    assert "starting the first build of app had happened; carrying on with it" in result.stderr
    assert [b["number"] for b in emulator.builds("app")] == [1]
    assert [w for w in emulator.writes() if w[1].startswith("/job/app/build")] == [("POST", "/job/app/build")]
    assert outputs(dtm)["build_number"] == 1
