"""Repository endpoints: create (for a user, in an organisation, from a template), get, edit, delete."""

from __future__ import annotations

import re
from typing import Any

from . import errors
from .call import WRITE_SCOPES, Call, Reply
from .gitobjects import utc_now
from .model import ADMIN, PULL, Account, Repo, World
from .shapes import LICENSES, REPO_SETTINGS, full_repository

ORG_CREATE_DENIED = "You need admin access to the organization before adding a repository to it."
NAME_TAKEN = "name already exists on this account"
VISIBILITIES = ("public", "private", "internal")


def clean_name(name: str) -> str:
    """GitHub's rule: every run of characters outside ``[A-Za-z0-9._-]`` becomes one hyphen."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name)


def name_errors(world: World, owner: Account, name: str, docs: str, *, creating: bool = True) -> None:
    def fail(message: str) -> errors.ApiError:
        error = {"resource": "Repository", "code": "custom", "field": "name", "message": message}
        summary = "Repository creation failed." if creating else "Validation Failed"
        return errors.validation(summary, docs, error)

    if not name or name in (".", ".."):
        raise fail("name is too short (minimum is 1 character)" if not name else "name is invalid")
    if len(name) > 100:
        raise fail("name is too long (maximum is 100 characters)")
    if world.repo(owner.login, name) is not None:
        raise fail(NAME_TAKEN)


def initial_files(name: str, description: str | None, gitignore: str | None,
                  license_key: str | None) -> dict[str, bytes]:
    """What ``auto_init`` (and the templates it implies) commit first."""
    files = {"README.md": f"# {name}\n{description + chr(10) if description else ''}".encode()}
    if gitignore:
        files[".gitignore"] = f"# {gitignore} .gitignore template (emulated)\n".encode()
    if license_key:
        title = LICENSES.get(license_key, (license_key, license_key))[0]
        files["LICENSE"] = f"{title}\n\nCopyright (c) the {name} authors (emulated licence text)\n".encode()
    return files


def _visibility(call: Call, default_private: bool = False) -> bool:
    private = call.field("private", bool, default=default_private)
    visibility = call.field("visibility", str)
    if visibility is not None:
        if visibility not in VISIBILITIES:
            raise errors.invalid_request(f"For 'properties/visibility', {visibility!r} is not one of "
                                         f"{list(VISIBILITIES)}.".replace("'", '"'), call.docs)
        private = visibility != "public"
    return bool(private)


def _may_create_in(call: Call, owner: Account, private: bool) -> None:
    call.accepted = WRITE_SCOPES
    # A token without the scope gets 404, never 403: GitHub does not tell such tokens what exists.
    if not call.has_scope("repo" if private else "public_repo"):
        raise errors.not_found(call.docs)
    user = call.user
    if owner.is_org and user.key not in owner.members:
        raise errors.forbidden(ORG_CREATE_DENIED, call.docs)
    if not owner.is_org and owner is not user:
        raise errors.not_found(call.docs)


def _settings(call: Call) -> dict[str, Any]:
    settings: dict[str, Any] = {}
    for key, default in REPO_SETTINGS.items():
        value = call.field(key, type(default))
        if value is not None:
            settings[key] = value
    return settings


def _create(call: Call, owner: Account) -> Reply:
    call.body()
    name = clean_name(call.field("name", str, required=True))
    private = _visibility(call)
    _may_create_in(call, owner, private)
    name_errors(call.world, owner, name, call.docs)
    description = call.field("description", str, nullable=True)
    gitignore = call.field("gitignore_template", str)
    license_key = call.field("license_template", str)
    repo = call.world.new_repo(owner, name, call.user.login, description=description or None, private=private,
                               homepage=call.field("homepage", str, nullable=True),
                               is_template=call.field("is_template", bool, default=False),
                               settings=_settings(call), license=license_key.lower() if license_key else None)
    if call.field("auto_init", bool, default=False) or gitignore or license_key:
        files = initial_files(name, description, gitignore, license_key)
        repo.commit_files(repo.default_branch, files, "Initial commit", call.user.person())
    return created(call, repo)


def created(call: Call, repo: Repo) -> Reply:
    shape = full_repository(repo, call.root, call.world, call.version, call.user.login)
    return Reply(201, shape, headers={"Location": shape["url"]})


def create_for_user(call: Call) -> Reply:
    return _create(call, call.user)


def create_in_org(call: Call) -> Reply:
    org = call.world.account(call.params["org"])
    if org is None or not org.is_org:
        raise errors.not_found(call.docs)
    return _create(call, org)


def generate(call: Call) -> Reply:
    """A new repository whose branches each hold one commit with the template's files."""
    source = call.repo(PULL, owner="template_owner", name="template_repo")
    call.body()
    name = clean_name(call.field("name", str, required=True))
    owner_login = call.field("owner", str) or call.user.login
    owner = call.world.account(owner_login)
    if owner is None:
        raise errors.not_found(call.docs)
    if not source.is_template:
        raise errors.validation("Validation Failed", call.docs, {
            "resource": "Repository", "code": "custom", "field": "template_repo",
            "message": f"{source.full_name} is not a template repository"})
    private = bool(call.field("private", bool, default=False))
    _may_create_in(call, owner, private)
    name_errors(call.world, owner, name, call.docs)
    repo = call.world.new_repo(owner, name, call.user.login, private=private, template=source.key,
                               description=call.field("description", str, nullable=True) or None,
                               default_branch=source.default_branch)
    every = call.field("include_all_branches", bool, default=False)
    for ref, head in sorted(source.refs.items()):
        branch = ref.removeprefix("refs/heads/")
        if branch == ref or not (every or branch == source.default_branch):
            continue
        leaves = source.objects.flatten(source.tree_of(head))
        blobs = source.objects.blobs
        files = {path: blobs[entry.sha] for path, entry in leaves.items() if entry.kind == "blob"}
        modes = {path: entry.mode for path, entry in leaves.items()}
        repo.commit_files(branch, files, "Initial commit", call.user.person(), modes=modes)
    return created(call, repo)


def get_repo(call: Call) -> Reply:
    repo = call.repo(PULL)
    return Reply(200, full_repository(repo, call.root, call.world, call.version, call.user.login))


def update_repo(call: Call) -> Reply:
    repo = call.repo(ADMIN)
    body = call.body(required=False)
    if not call.has_scope(*WRITE_SCOPES):
        raise errors.not_found(call.docs)
    archived = call.field("archived", bool)
    if repo.archived and archived is not False:
        raise errors.forbidden("Repository was archived so is read-only.", call.docs)
    name = call.field("name", str)
    if name is not None and clean_name(name) != repo.name:
        if clean_name(name).lower() != repo.name.lower():
            name_errors(call.world, repo.owner, clean_name(name), call.docs, creating=False)
        call.world.rename(repo, clean_name(name))
    if "description" in body:
        repo.description = call.field("description", str, nullable=True) or None
    if "homepage" in body:
        repo.homepage = call.field("homepage", str, nullable=True)
    if "private" in body or "visibility" in body:
        repo.private = _visibility(call, repo.private)
    branch = call.field("default_branch", str)
    if branch is not None and branch != repo.default_branch:
        if not repo.empty and repo.branch(branch) is None:
            raise errors.validation("Validation Failed", call.docs, {
                "resource": "Repository", "code": "invalid", "field": "default_branch",
                "message": f"The branch {branch} was not found. Please push that ref first or create it "
                           "via the Git Data API."})
        repo.default_branch = branch
    template = call.field("is_template", bool)
    if template is not None:
        repo.is_template = template
    repo.settings.update(_settings(call))
    if archived is not None:
        repo.archived = archived
    repo.updated_at = utc_now()
    return Reply(200, full_repository(repo, call.root, call.world, call.version, call.user.login))


def delete_repo(call: Call) -> Reply:
    repo = call.repo(PULL)
    call.accepted = ("repo",)  # GitHub does not list delete_repo here either (cli/cli#4566)
    if not call.has_scope("delete_repo") or call.world.permission(call.user.login, repo) < ADMIN:
        # This operation's 403 schema is {message, documentation_url} alone: no ``status`` here.
        raise errors.ApiError(403, "", body={"message": "Must have admin rights to Repository.",
                                             "documentation_url": call.docs})
    call.world.drop(repo)
    return Reply(204)
