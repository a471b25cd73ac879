"""The sandbox's GitHub: the REST API emulator with one user, its token, and repositories kept on demand.

With ``--persist`` each repository is saved on stop as its settings and the files of its
default branch, and created again, as one commit, on the next start. History, other
branches, Actions secrets and webhooks are not kept (see ``docs/sandbox.md``).
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .service import RunningService, SandboxService

if TYPE_CHECKING:
    from ..emulators.faults import FaultRates
    from ..emulators.github import GitHubEmulator

USER = "dtm-sandbox"
#: An organisation the sandbox user administers, as a team's GitHub would have (the examples use it).
ORG = "acme"
SCOPES = ("repo", "workflow", "delete_repo", "admin:repo_hook", "admin:org")
SNAPSHOT = "repositories.json"


class GitHubService(SandboxService):
    name = "github"
    description = f"GitHub REST API emulator (user {USER}, organisation {ORG}; dtm's GitHub tools)"

    def __init__(self, faults: FaultRates | None = None, fault_seed: int = 0) -> None:
        self.faults = faults
        self.fault_seed = fault_seed

    def start(self, workdir: Path, persist: bool) -> RunningService:
        from ..emulators.github import GitHubEmulator
        from ..secrets import Secret

        # Faults start after the set-up below, which goes through the API as a client would.
        emulator = GitHubEmulator().start()
        token = emulator.add_user(USER, scopes=SCOPES)  # generated, shaped as GitHub's ghp_ tokens
        emulator.add_org(ORG, admins=[USER])
        snapshot = workdir / SNAPSHOT
        if persist and snapshot.exists():
            restore(emulator, json.loads(snapshot.read_text(encoding="utf-8")))
        emulator.faults.set(self.faults, seed=self.fault_seed)
        return RunningGitHub(emulator, snapshot if persist else None,
                             {"GITHUB_API_URL": emulator.url, "GITHUB_TOKEN": Secret(token)})


class RunningGitHub(RunningService):
    def __init__(self, emulator: GitHubEmulator, snapshot: Path | None, env: dict[str, Any]) -> None:
        super().__init__({"api": emulator.url}, env)
        self.emulator = emulator
        self.snapshot = snapshot

    def summary(self) -> dict[str, Any]:
        return {"user": USER, "organisation": ORG,
                "repositories": [repo["full_name"] for repo in repositories(self.emulator)],
                **self.emulator.faults.summary()}

    def stop(self) -> None:
        if self.snapshot is not None:
            saved = []
            for repo in repositories(self.emulator):
                owner, name = repo["owner"]["login"], repo["name"]
                files = {path: base64.b64encode(body).decode()
                         for path, body in self.emulator.files(owner, name).items()}
                saved.append({"owner": owner, "owner_type": repo["owner"]["type"], "name": name,
                              "private": repo["private"], "description": repo.get("description") or "",
                              "default_branch": repo["default_branch"], "template": repo["is_template"],
                              "files": files})
            self.snapshot.write_text(json.dumps({"format": 1, "repositories": saved}), encoding="utf-8")
        self.emulator.stop()


def repositories(emulator: GitHubEmulator) -> list[dict[str, Any]]:
    """Every repository's REST representation, by full name."""
    # The emulator lists no repositories of its own yet; its world, read under its lock, does.
    world = emulator._world
    with world.lock:
        keys = sorted(world.repos)
    found = [emulator.repo(owner, name) for owner, name in keys]
    return [repo for repo in found if repo is not None]


def restore(emulator: GitHubEmulator, data: dict[str, Any]) -> None:
    for repo in data.get("repositories") or []:
        owner = repo["owner"]
        if repo.get("owner_type") == "Organization":
            emulator.add_org(owner, admins=[USER])
        elif owner.lower() != USER:
            emulator.add_user(owner)
        files = {path: base64.b64decode(body) for path, body in (repo.get("files") or {}).items()}
        emulator.add_repo(owner, repo["name"], files=files or None, template=bool(repo.get("template")),
                          private=bool(repo.get("private")), description=repo.get("description") or "",
                          default_branch=repo.get("default_branch", "main"))
