"""Repository webhooks: list, create and delete (stored only; the emulator delivers nothing)."""

from __future__ import annotations

from typing import Any

from . import errors
from .call import Call, Reply
from .gitobjects import utc_now
from .gitshapes import api
from .model import ADMIN, Hook, Repo, stamp
from .pagination import paginate

READ_SCOPES = ("admin:repo_hook", "read:repo_hook", "repo", "write:repo_hook")
WRITE_SCOPES = ("admin:repo_hook", "repo", "write:repo_hook")


def _hooks_repo(call: Call, scopes: tuple[str, ...], write: bool = False) -> Repo:
    repo = call.repo(ADMIN, write=write)
    call.accepted = scopes
    if not call.has_scope(*scopes):
        raise errors.not_found(call.docs)
    return repo


def hook_shape(repo: Repo, hook: Hook, root: str) -> dict[str, Any]:
    url = f"{api(repo, root)}/hooks/{hook.id}"
    config = dict(hook.config)
    if config.get("secret"):
        config["secret"] = "********"  # GitHub never shows a webhook secret again
    return {
        "type": "Repository", "id": hook.id, "name": hook.name, "active": hook.active,
        "events": list(hook.events), "config": config, "updated_at": stamp(hook.updated_at),
        "created_at": stamp(hook.created_at), "url": url, "test_url": f"{url}/test",
        "ping_url": f"{url}/pings", "deliveries_url": f"{url}/deliveries",
        "last_response": {"code": None, "status": "unused", "message": None},
    }


def list_hooks(call: Call) -> Reply:
    repo = _hooks_repo(call, READ_SCOPES)
    everything = [hook_shape(repo, repo.hooks[number], call.root) for number in sorted(repo.hooks)]
    page, headers = paginate(call, everything)
    return Reply(200, page, headers=headers)


def create_hook(call: Call) -> Reply:
    repo = _hooks_repo(call, WRITE_SCOPES, write=True)
    call.body(required=False)
    name = call.field("name", str, default="web")
    if name != "web":
        raise errors.validation("Validation Failed", call.docs, {
            "resource": "Hook", "code": "custom", "field": "name", "message": "Name must be \"web\""})
    config = call.field("config", dict, default={})
    if not isinstance(config.get("url"), str) or not config["url"]:
        raise errors.validation("Validation Failed", call.docs, {
            "resource": "Hook", "code": "custom", "message": "Hook url cannot be blank"})
    events = call.field("events", list, default=["push"])
    if not all(isinstance(event, str) for event in events):
        raise errors.invalid_request("For 'properties/events', the items must be strings.", call.docs)
    stored = {"content_type": str(config.get("content_type", "form")),
              "insecure_ssl": str(config.get("insecure_ssl", "0")), "url": config["url"]}
    if config.get("secret"):
        stored["secret"] = str(config["secret"])
    for hook in repo.hooks.values():
        if hook.config.get("url") == stored["url"] and sorted(hook.events) == sorted(events):
            raise errors.validation("Validation Failed", call.docs, {
                "resource": "Hook", "code": "custom", "message": "Hook already exists on this repository"})
    now = utc_now()
    hook = Hook(call.world.next_hook_id(), name, list(dict.fromkeys(events)),
                call.field("active", bool, default=True), stored, now, now)
    repo.hooks[hook.id] = hook
    shape = hook_shape(repo, hook, call.root)
    return Reply(201, shape, headers={"Location": shape["url"]})


def delete_hook(call: Call) -> Reply:
    repo = _hooks_repo(call, WRITE_SCOPES, write=True)
    try:
        number = int(call.params["hook_id"])
    except ValueError as error:
        raise errors.not_found(call.docs) from error
    if repo.hooks.pop(number, None) is None:
        raise errors.not_found(call.docs)
    return Reply(204)
