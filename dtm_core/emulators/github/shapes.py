"""REST representations of accounts and repositories (``simple-user``, ``full-repository`` …).

Every property GitHub's schema requires is present and nothing it does not declare is added; URLs
point at the emulator, so clients that follow them (PyGithub does) stay on it.
"""

from __future__ import annotations

import base64
from typing import Any

from .model import ADMIN, PULL, PUSH, Account, Repo, World, stamp

LICENSES = {
    "mit": ("MIT License", "MIT"), "apache-2.0": ("Apache License 2.0", "Apache-2.0"),
    "gpl-3.0": ("GNU General Public License v3.0", "GPL-3.0"),
    "bsd-3-clause": ('BSD 3-Clause "New" or "Revised" License', "BSD-3-Clause"),
    "mpl-2.0": ("Mozilla Public License 2.0", "MPL-2.0"),
}
REPO_SETTINGS: dict[str, Any] = {  # editable settings and GitHub's defaults for a new repository
    "has_issues": True, "has_projects": True, "has_wiki": True, "has_downloads": True,
    "has_discussions": False,
    "allow_squash_merge": True, "allow_merge_commit": True, "allow_rebase_merge": True,
    "allow_auto_merge": False, "delete_branch_on_merge": False, "allow_update_branch": False,
    "use_squash_pr_title_as_default": False, "squash_merge_commit_title": "COMMIT_OR_PR_TITLE",
    "squash_merge_commit_message": "COMMIT_MESSAGES", "merge_commit_title": "MERGE_MESSAGE",
    "merge_commit_message": "PR_TITLE", "allow_forking": True, "web_commit_signoff_required": False,
}
# Dated API version 2026-03-10 drops these repository properties (x-github-breaking-changes).
DROPPED_IN_2026 = ("has_downloads", "use_squash_pr_title_as_default")


def node_id(kind: str, number: int) -> str:
    return base64.b64encode(f"0{len(kind)}:{kind}{number}".encode()).decode()


def simple_user(account: Account, root: str) -> dict[str, Any]:
    api = f"{root}/{'orgs' if account.is_org else 'users'}/{account.login}"
    users = f"{root}/users/{account.login}"
    return {
        "login": account.login, "id": account.id, "node_id": node_id(account.kind, account.id),
        "avatar_url": f"{root}/avatars/u/{account.id}?v=4", "gravatar_id": "",
        "url": f"{root}/users/{account.login}", "html_url": f"{root}/{account.login}",
        "followers_url": f"{users}/followers", "following_url": f"{users}/following{{/other_user}}",
        "gists_url": f"{users}/gists{{/gist_id}}", "starred_url": f"{users}/starred{{/owner}}{{/repo}}",
        "subscriptions_url": f"{users}/subscriptions", "organizations_url": f"{users}/orgs",
        "repos_url": f"{api}/repos", "events_url": f"{users}/events{{/privacy}}",
        "received_events_url": f"{users}/received_events", "type": account.kind, "user_view_type": "public",
        "site_admin": False,
    }


def private_user(user: Account, root: str, world: World) -> dict[str, Any]:
    """``GET /user``: the caller's own profile, private counters included."""
    owned = [repo for repo in world.repos.values() if repo.owner is user]
    shape = simple_user(user, root)
    shape.update({
        "user_view_type": "private", "name": user.login, "company": None, "blog": "", "location": None,
        "email": None, "notification_email": None, "hireable": None, "bio": None, "twitter_username": None,
        "public_repos": sum(not repo.private for repo in owned), "public_gists": 0, "followers": 0,
        "following": 0, "created_at": stamp(user.created_at), "updated_at": stamp(user.created_at),
        "private_gists": 0, "total_private_repos": sum(repo.private for repo in owned),
        "owned_private_repos": sum(repo.private for repo in owned), "disk_usage": 0, "collaborators": 0,
        "two_factor_authentication": True,
        "plan": {"name": "pro", "space": 976562499, "private_repos": 9999, "collaborators": 0},
    })
    return shape


def organization_full(org: Account, root: str, world: World) -> dict[str, Any]:
    api = f"{root}/orgs/{org.login}"
    public = sum(not repo.private for repo in world.repos.values() if repo.owner is org)
    return {
        "login": org.login, "id": org.id, "node_id": node_id("Organization", org.id), "url": api,
        "repos_url": f"{api}/repos", "events_url": f"{api}/events", "hooks_url": f"{api}/hooks",
        "issues_url": f"{api}/issues", "members_url": f"{api}/members{{/member}}",
        "public_members_url": f"{api}/public_members{{/member}}",
        "avatar_url": f"{root}/avatars/u/{org.id}?v=4", "description": org.description, "name": org.login,
        "is_verified": False, "has_organization_projects": True, "has_repository_projects": True,
        "public_repos": public, "public_gists": 0, "followers": 0, "following": 0,
        "html_url": f"{root}/{org.login}", "type": "Organization", "created_at": stamp(org.created_at),
        "updated_at": stamp(org.created_at), "archived_at": None,
        "members_can_create_repositories": True, "members_can_create_public_repositories": True,
        "members_can_create_private_repositories": True, "default_repository_permission": "read",
    }


def license_shape(key: str | None, root: str) -> dict[str, Any] | None:
    if key is None:
        return None
    name, spdx = LICENSES.get(key, (key, key.upper()))
    return {"key": key, "name": name, "spdx_id": spdx, "url": f"{root}/licenses/{key}",
            "node_id": node_id("License", sum(map(ord, key)))}


def repository(repo: Repo, root: str, version: str) -> dict[str, Any]:
    """The properties of ``repository``/``full-repository`` that describe the repository itself."""
    api = f"{root}/repos/{repo.full_name}"
    html = f"{root}/{repo.full_name}"
    host = root.split("://", 1)[-1]
    shape: dict[str, Any] = {
        "id": repo.id, "node_id": node_id("Repository", repo.id), "name": repo.name,
        "full_name": repo.full_name,
        "owner": simple_user(repo.owner, root), "private": repo.private, "html_url": html,
        "description": repo.description, "fork": False, "url": api,
        "archive_url": f"{api}/{{archive_format}}{{/ref}}", "assignees_url": f"{api}/assignees{{/user}}",
        "blobs_url": f"{api}/git/blobs{{/sha}}", "branches_url": f"{api}/branches{{/branch}}",
        "collaborators_url": f"{api}/collaborators{{/collaborator}}",
        "comments_url": f"{api}/comments{{/number}}", "commits_url": f"{api}/commits{{/sha}}",
        "compare_url": f"{api}/compare/{{base}}...{{head}}", "contents_url": f"{api}/contents/{{+path}}",
        "contributors_url": f"{api}/contributors", "deployments_url": f"{api}/deployments",
        "downloads_url": f"{api}/downloads", "events_url": f"{api}/events", "forks_url": f"{api}/forks",
        "git_commits_url": f"{api}/git/commits{{/sha}}", "git_refs_url": f"{api}/git/refs{{/sha}}",
        "git_tags_url": f"{api}/git/tags{{/sha}}", "git_url": f"git://{host}/{repo.full_name}.git",
        "issue_comment_url": f"{api}/issues/comments{{/number}}",
        "issue_events_url": f"{api}/issues/events{{/number}}", "issues_url": f"{api}/issues{{/number}}",
        "keys_url": f"{api}/keys{{/key_id}}", "labels_url": f"{api}/labels{{/name}}",
        "languages_url": f"{api}/languages", "merges_url": f"{api}/merges",
        "milestones_url": f"{api}/milestones{{/number}}",
        "notifications_url": f"{api}/notifications{{?since,all,participating}}",
        "pulls_url": f"{api}/pulls{{/number}}", "releases_url": f"{api}/releases{{/id}}",
        "ssh_url": f"git@{host.split(':')[0]}:{repo.full_name}.git", "stargazers_url": f"{api}/stargazers",
        "statuses_url": f"{api}/statuses/{{sha}}", "subscribers_url": f"{api}/subscribers",
        "subscription_url": f"{api}/subscription", "tags_url": f"{api}/tags", "teams_url": f"{api}/teams",
        "trees_url": f"{api}/git/trees{{/sha}}", "clone_url": f"{html}.git", "mirror_url": None,
        "hooks_url": f"{api}/hooks", "svn_url": html, "homepage": repo.homepage, "language": None,
        "forks_count": 0, "forks": 0, "stargazers_count": 0, "watchers_count": 0, "watchers": 0,
        "size": sum(len(data) for data in repo.objects.blobs.values()) // 1024,
        "default_branch": repo.default_branch, "open_issues_count": 0, "open_issues": 0,
        "is_template": repo.is_template, "topics": [], "has_pages": False, "archived": repo.archived,
        "disabled": False, "visibility": "private" if repo.private else "public",
        "pushed_at": stamp(repo.pushed_at or repo.created_at), "created_at": stamp(repo.created_at),
        "updated_at": stamp(repo.updated_at), "license": license_shape(repo.license, root),
    }
    shape.update({key: repo.settings.get(key, default) for key, default in REPO_SETTINGS.items()})
    if version >= "2026-03-10":
        for key in DROPPED_IN_2026:
            shape.pop(key, None)
    return shape


def full_repository(repo: Repo, root: str, world: World, version: str,
                    viewer: str | None = None) -> dict[str, Any]:
    """``full-repository``; ``permissions`` appear when there is a viewer, as for authenticated calls."""
    shape = repository(repo, root, version)
    if viewer is not None:
        level = world.permission(viewer, repo)
        shape["permissions"] = {"admin": level >= ADMIN, "maintain": level >= ADMIN, "push": level >= PUSH,
                                "triage": level >= PUSH, "pull": level >= PULL}
    if repo.owner.is_org:
        shape["organization"] = simple_user(repo.owner, root)
    if repo.template is not None:
        source = world.repo(*repo.template)
        shape["template_repository"] = None if source is None else repository(source, root, version)
    shape.update({"network_count": 0, "subscribers_count": 1,
                  "custom_properties": {}})
    return shape
