"""Secret canaries: made-up secrets in every secret option dtm's seed plugins take, searched for everywhere.

One full run of the real ``dtm`` executable — install, apply of a GitHub + Argo CD + Jenkins
toolchain, status, plan, list/info/history/state, failing applies with and without ``--debug``,
then ``dtm sandbox up`` from that environment — against emulators that accept the canaries
as credentials. Then no form of any canary may
appear in a file dtm wrote (its platform directories, ``TMPDIR``, beside the toolchain) or in
anything it printed; and what dtm keeps is readable by its owner alone.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from canaries import files_under, secret_option_paths, too_open, values_at
from canaryworld import OWNER, SEED_PLUGINS, CanaryWorld

from dtm_core.plugins import load_plugins
from dtm_core.secrets import SecretRef, builtin_resolvers

# Emulators on loopback and some fifty dtm subprocesses.
pytestmark = pytest.mark.slow

APP = "canary-app"
DEPLOY_KEY = "Actions secret DEPLOY_KEY (env:)"
REGISTRY_PASSWORD = "Actions secret REGISTRY_PASSWORD (file:)"
#: Pasted where a reference belongs: a token alone, and "user:token", which parses as a reference.
PASTED = {"github-repo": ("", {"owner": OWNER, "name": "pasted"}),
          "jenkins-pipeline": ("admin:", {"jenkins_url": "http://127.0.0.1:9/", "job_name": "pasted",
                                          "repo_url": "https://github.com/acme/pasted.git"})}


def seed_tool_kinds() -> dict[str, Any]:
    host = load_plugins({"DTM_PLUGINS": "", "DTM_LOAD_PLUGINS": SEED_PLUGINS})
    assert not host.warnings, host.warnings
    return dict(host.tool_kinds())


def every_secret_option() -> set[str]:
    """``kind.option`` paths of every secret option the seed plugins declare (``*`` for any key)."""
    kinds = seed_tool_kinds().items()
    return {path for name, kind in kinds for path in secret_option_paths(kind.options, name)}


def toolchain(world: CanaryWorld) -> dict[str, Any]:
    """The quickstart and Jenkins examples in one file, with a canary behind every secret option."""
    pipeline = {"jenkins_url": "${{ env.JENKINS_URL }}", "user": "${{ env.JENKINS_USER_ID }}",
                "repo_url": "${{ github-repo.app.outputs.clone_url }}", "language": "python", "timeout": 30}
    return {"version": 1, "tools": [
        {"tool": "github-repo", "name": "app", "options": {
            "owner": OWNER, "name": APP, "language": "python",
            "token": world.secret_env("CANARY_REPO_TOKEN", world.github_token("github-repo.token (env:)"))}},
        {"tool": "github-actions", "name": "ci", "options": {
            "owner": OWNER, "repo": "${{ github-repo.app.outputs.name }}", "language": "python",
            "token": world.secret_file("actions-token", world.github_token("github-actions.token (file:)")),
            "secrets": {
                "DEPLOY_KEY": world.secret_env("CANARY_DEPLOY_KEY", world.secret(DEPLOY_KEY)),
                "REGISTRY_PASSWORD": world.secret_file("registry-password",
                                                       world.secret(REGISTRY_PASSWORD))}}},
        {"tool": "argocd", "options": {"namespace": "argocd"}},
        {"tool": "argocd-app", "name": "app", "options": {
            "name": APP, "namespace": "${{ argocd.default.outputs.namespace }}",
            "repo_url": "${{ github-repo.app.outputs.clone_url }}", "path": "deploy",
            "destination_namespace": APP}},
        {"tool": "jenkins", "options": {"namespace": "jenkins", "storage": "1Gi", "timeout": 60}},
        {"tool": "jenkins-pipeline", "name": "app", "depends_on": ["jenkins"], "options": {
            **pipeline, "job_name": f"{OWNER}/{APP}", "token": "env:JENKINS_API_TOKEN",
            "starter_jenkinsfile": True}},
        {"tool": "jenkins-pipeline", "name": "admin", "options": {
            **pipeline, "job_name": f"{OWNER}/{APP}-as-admin",
            "token": "${{ jenkins.default.outputs.admin_password }}"}},
    ]}


def covered_secret_options(document: dict[str, Any]) -> set[str]:
    """The secret option paths ``document`` gives a value for."""
    kinds = seed_tool_kinds()
    covered = set()
    for entry in document["tools"]:
        for path in secret_option_paths(kinds[entry["tool"]].options, entry["tool"]):
            if values_at(entry["options"], path.split(".")[1:]):
                covered.add(path)
    return covered


def write(world: CanaryWorld, name: str, document: dict[str, Any]) -> str:
    path = world.workdir / name
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return str(path)


def watch_generated_secrets(world: CanaryWorld) -> None:
    """Watch what the run made secret besides the canaries: revealed secret outputs, sealed Actions values."""
    kinds = seed_tool_kinds()
    state = json.loads((world.platform_dirs["data"] / "state" / "state.json").read_text())
    resolvers = builtin_resolvers(world.env)
    for address, record in state["instances"].items():
        for spec in kinds[record["tool"]].outputs:
            if spec.secret and record["outputs"].get(spec.name):
                ref = SecretRef.parse(record["outputs"][spec.name])
                world.canaries.add(f"{address} output {spec.name}", resolvers[ref.scheme](ref.target))
    for exchange in world.github.exchanges:
        if exchange.method == "PUT" and "/actions/secrets/" in exchange.target:
            sealed = json.loads(exchange.request_body)["encrypted_value"]
            world.canaries.add(f"sealed value sent to {exchange.target}", sealed)


def full_run(world: CanaryWorld) -> dict[str, Any]:
    """Every command a user runs in a day, including failures, with canaries behind every secret.

    Returns the toolchain applied.
    """
    document = toolchain(world)
    path = write(world, "toolchain.yaml", document)
    world.ok("install", "github-repo", "--instance", "extra", "--set", f"owner={OWNER}",
             "--set", "name=canary-extra", "--set",
             "token=" + world.secret_env(
                 "CANARY_INSTALL_TOKEN", world.github_token("github-repo.token (dtm install --set)")), "-y")
    applied = world.ok("apply", "-f", path, "-y")
    assert "transaction 2: ok" in applied.stderr, applied
    world.ok("status", "-f", path)
    assert {row["live"] for row in json.loads(world.ok("status", "-f", path, "-o", "json").stdout)} == {"ok"}
    assert json.loads(world.ok("plan", "-f", path, "-o", "json").stdout)["changes"]
    world.ok("plan", "-f", path)
    world.ok("--debug", "apply", "-f", path, "-y")  # a run with nothing to do reads every resource
    world.ok("--debug", "status", "-f", path)
    for command in (("list",), ("info", "github-actions"), ("history",), ("history", "info", "2"),
                    ("state", "list")):
        world.ok(*command)
        world.ok(*command, "-o", "json")
    for address in json.loads(world.ok("state", "list", "-o", "json").stdout)["instances"]:
        world.ok("state", "show", address["address"])
        world.ok("state", "show", address["address"], "-o", "json")

    # Emulators refusing calls, with and without --debug: GitHub a new Actions secret and Jenkins a
    # new job; then the cluster the Jenkins admin Secret, whose request carries the password.
    refused_calls = copy.deepcopy(document)
    refused_calls["tools"][1]["options"]["secrets"]["NEW_TOKEN"] = world.secret_env(
        "CANARY_NEW_TOKEN", world.secret("Actions secret NEW_TOKEN (env:, refused by GitHub)"))
    refused_calls["tools"].append({"tool": "jenkins-pipeline", "name": "refused", "options": {
        **document["tools"][5]["options"], "job_name": f"{OWNER}/refused", "starter_jenkinsfile": False}})
    refused_secret = copy.deepcopy(document)
    refused_secret["tools"][4]["options"]["memory"] = "3Gi"

    def refuse_calls() -> None:
        world.github.fail_next("PUT", f"/repos/{OWNER}/{APP}/actions/secrets/", 422, times=10)
        world.jenkins.fail_next("POST", f"/job/{OWNER}/createItem", 500, times=10)

    def refuse_secret() -> None:
        world.cluster.fail_next("PATCH", "/api/v1/namespaces/jenkins/secrets/", 422, times=10)

    scenarios = (
        ("refused-calls.yaml", refused_calls, refuse_calls, ("answered 422 to PUT", "answered 500 to POST")),
        ("refused-secret.yaml", refused_secret, refuse_secret, ("patch secret jenkins/jenkins-admin",)),
    )
    for name, failing, refuse, expected in scenarios:
        failing_path = write(world, name, failing)
        for debug in ((), ("--debug",)):
            refuse()
            refused = world.run(*debug, "apply", "-f", failing_path, "-y")
            assert refused.exit_code == 1, str(refused)
            assert all(words in refused.stderr for words in expected), str(refused)

    # A secret pasted as a literal value, in the file and on the command line.
    for index, entry in enumerate(document["tools"]):
        if entry["tool"] not in PASTED:
            continue
        prefix, required = PASTED[entry["tool"]]
        value = prefix + world.secret(f"{prefix}<token> pasted as {entry['tool']}.token").value
        pasted = copy.deepcopy(document)
        pasted["tools"][index]["options"]["token"] = value
        pasted_path = write(world, f"pasted-{index}.yaml", pasted)
        world.written_by_user.add(Path(pasted_path))  # the secret is in it as the user wrote it
        settings = [item for key, setting in required.items() for item in ("--set", f"{key}={setting}")]
        for debug in ((), ("--debug",)):
            for command in (("plan", "-f", pasted_path), ("apply", "-f", pasted_path, "-y"),
                            ("install", entry["tool"], "--instance", "pasted", *settings,
                             "--set", f"token={value}", "-y")):
                refused = world.run(*debug, *command)
                assert refused.exit_code == 2, str(refused)
    return document


@pytest.fixture(scope="module")
def ran(canary_world: CanaryWorld) -> Iterator[CanaryWorld]:
    """The world after a full run, with a sandbox started from that environment still running.

    The secrets the run generated are watched too. The sandbox's background process inherits
    every canary in its environment; its state, credentials and log are searched while it runs.
    """
    canary_world.document = full_run(canary_world)
    watch_generated_secrets(canary_world)
    try:
        canary_world.ok("sandbox", "up")
        canary_world.ok("sandbox", "status")
        canary_world.ok("sandbox", "status", "-o", "json")
        canary_world.ok("sandbox", "env")
        yield canary_world
    finally:
        canary_world.ok("sandbox", "down", "--purge")


def searched(world: CanaryWorld) -> list[Path]:
    """Where dtm may write: its platform directories, TMPDIR, and beside the toolchain."""
    return [*world.platform_dirs.values(), world.home / "tmp", world.workdir]


def test_the_canaries_were_the_credentials(ran: CanaryWorld) -> None:
    sent = [value for exchange in ran.github.exchanges
            for key, value in exchange.request_headers.items() if key.lower() == "authorization"]
    unused = [token.label for token in ran.github_tokens if not any(token.value in header for header in sent)]
    assert unused == []
    by_label = {canary.label: canary.value for canary in ran.canaries.items}
    assert ran.github.secret_value(OWNER, APP, "DEPLOY_KEY") == by_label[DEPLOY_KEY]
    assert ran.github.secret_value(OWNER, APP, "REGISTRY_PASSWORD") == by_label[REGISTRY_PASSWORD]
    assert ran.jenkins.job_config(f"{OWNER}/{APP}") is not None  # by API token
    assert ran.jenkins.job_config(f"{OWNER}/{APP}-as-admin") is not None  # by the admin password


def test_no_canary_in_any_file_dtm_wrote(ran: CanaryWorld) -> None:
    leaks = ran.canaries.leaks_in_files(searched(ran), skip=ran.written_by_user)
    assert [str(leak) for leak in leaks] == []
    # The search did reach what dtm writes: state (with its journal), its lock, caches, the lockfile.
    found = {path.relative_to(ran.home if path.is_relative_to(ran.home) else ran.workdir).as_posix()
             for path in files_under(searched(ran))}
    assert {".local/share/dtm/state/state.json", ".local/share/dtm/state/lock",
            ".cache/dtm/indexes/default.index.json", "dtm.lock", ".local/share/dtm/sandbox/state.json",
            ".local/share/dtm/sandbox/sandbox.log"} <= found, found


def test_no_canary_in_any_output(ran: CanaryWorld) -> None:
    leaks = [leak for run in ran.runs
             for stream, text in (("stdout", run.stdout), ("stderr", run.stderr))
             for leak in ran.canaries.leaks_in(f"{stream} of dtm {' '.join(run.args)}", text)]
    assert [str(leak) for leak in leaks] == []
    assert any("Traceback" in run.stderr for run in ran.runs)  # --debug output was searched too


def test_what_dtm_keeps_is_owner_only(ran: CanaryWorld) -> None:
    kept = [path for root in ran.platform_dirs.values() for path in (root, *root.rglob("*"))]
    assert too_open([path for path in kept if path.is_dir()], 0o700) == {}
    assert too_open([path for path in kept if path.is_file()], 0o600) == {}
    # Directories dtm had to create on the way (XDG asks 0700 for these too).
    made_on_the_way = [ran.home / ".local", ran.home / ".local" / "share", ran.home / ".cache"]
    assert too_open(made_on_the_way, 0o700) == {}


def test_every_secret_option_of_the_seed_plugins_gets_a_canary(ran: CanaryWorld) -> None:
    declared = every_secret_option()
    assert declared  # the seed plugins do declare secret options
    assert declared - covered_secret_options(ran.document) == set(), (
        "give these secret options a canary in toolchain()")
