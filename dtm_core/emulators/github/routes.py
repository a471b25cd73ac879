"""The route table: the 31 kept operations of GitHub's description, mapped to their handlers.

Templates follow the OpenAPI paths; ``{+name}`` (RFC 6570 reserved expansion, as in GitHub's own
``contents_url``) may span slashes, which file paths, ref names and branch names need.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote

from . import accounts, actions, contents, gitdata, repos, webhooks
from .call import Handler
from .errors import DOCS


@dataclass(frozen=True)
class Route:
    method: str
    template: str  # the OpenAPI path, with {+name} where slashes may appear
    handler: Handler
    docs: str  # documentation_url of the operation, as GitHub sends it in errors
    counts: bool = True  # whether a call spends rate limit

    @property
    def pattern(self) -> re.Pattern[str]:
        return _compile(self.template)

    @property
    def operation(self) -> str:
        return f"{self.method} {self.template.replace('{+', '{')}"


def _compile(template: str) -> re.Pattern[str]:
    regex = re.sub(r"\{\+(\w+)\}", r"(?P<\1>.*)", template)
    regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", regex)
    return re.compile(f"^{regex}$")


R = "/repos/{owner}/{repo}"
ROUTES = (
    Route("GET", "/user", accounts.get_user, "rest/users/users#get-the-authenticated-user"),
    Route("GET", "/orgs/{org}", accounts.get_org, "rest/orgs/orgs#get-an-organization"),
    Route("GET", "/rate_limit", accounts.get_rate_limit,
          "rest/rate-limit/rate-limit#get-rate-limit-status-for-the-authenticated-user", counts=False),
    Route("POST", "/user/repos", repos.create_for_user,
          "rest/repos/repos#create-a-repository-for-the-authenticated-user"),
    Route("POST", "/orgs/{org}/repos", repos.create_in_org,
          "rest/repos/repos#create-an-organization-repository"),
    Route("POST", "/repos/{template_owner}/{template_repo}/generate", repos.generate,
          "rest/repos/repos#create-a-repository-using-a-template"),
    Route("GET", R, repos.get_repo, "rest/repos/repos#get-a-repository"),
    Route("PATCH", R, repos.update_repo, "rest/repos/repos#update-a-repository"),
    Route("DELETE", R, repos.delete_repo, "rest/repos/repos#delete-a-repository"),
    Route("GET", R + "/contents", contents.get_contents, "rest/repos/contents#get-repository-content"),
    Route("GET", R + "/contents/{+path}", contents.get_contents,
          "rest/repos/contents#get-repository-content"),
    Route("PUT", R + "/contents/{+path}", contents.put_contents,
          "rest/repos/contents#create-or-update-file-contents"),
    Route("DELETE", R + "/contents/{+path}", contents.delete_contents, "rest/repos/contents#delete-a-file"),
    Route("GET", R + "/branches/{+branch}", contents.get_branch, "rest/branches/branches#get-a-branch"),
    Route("POST", R + "/git/blobs", gitdata.create_blob, "rest/git/blobs#create-a-blob"),
    Route("POST", R + "/git/trees", gitdata.create_tree, "rest/git/trees#create-a-tree"),
    Route("GET", R + "/git/trees/{tree_sha}", gitdata.get_tree, "rest/git/trees#get-a-tree"),
    Route("POST", R + "/git/commits", gitdata.create_commit, "rest/git/commits#create-a-commit"),
    Route("GET", R + "/git/commits/{commit_sha}", gitdata.get_commit, "rest/git/commits#get-a-commit-object"),
    Route("GET", R + "/git/ref/{+ref}", gitdata.get_ref, "rest/git/refs#get-a-reference"),
    Route("POST", R + "/git/refs", gitdata.create_ref, "rest/git/refs#create-a-reference"),
    Route("PATCH", R + "/git/refs/{+ref}", gitdata.update_ref, "rest/git/refs#update-a-reference"),
    Route("GET", R + "/actions/secrets/public-key", actions.get_public_key,
          "rest/actions/secrets#get-a-repository-public-key"),
    Route("GET", R + "/actions/secrets", actions.list_secrets,
          "rest/actions/secrets#list-repository-secrets"),
    Route("GET", R + "/actions/secrets/{secret_name}", actions.get_secret,
          "rest/actions/secrets#get-a-repository-secret"),
    Route("PUT", R + "/actions/secrets/{secret_name}", actions.put_secret,
          "rest/actions/secrets#create-or-update-a-repository-secret"),
    Route("DELETE", R + "/actions/secrets/{secret_name}", actions.delete_secret,
          "rest/actions/secrets#delete-a-repository-secret"),
    Route("GET", R + "/actions/workflows", actions.list_workflows,
          "rest/actions/workflows#list-repository-workflows"),
    Route("GET", R + "/actions/runs", actions.list_runs,
          "rest/actions/workflow-runs#list-workflow-runs-for-a-repository"),
    Route("GET", R + "/hooks", webhooks.list_hooks, "rest/repos/webhooks#list-repository-webhooks"),
    Route("POST", R + "/hooks", webhooks.create_hook, "rest/repos/webhooks#create-a-repository-webhook"),
    Route("DELETE", R + "/hooks/{hook_id}", webhooks.delete_hook,
          "rest/repos/webhooks#delete-a-repository-webhook"),
)
_COMPILED = tuple((route, route.pattern) for route in ROUTES)


def match(method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    """The route for a request path (still percent-encoded) and its decoded parameters.

    Routes whose parameters cannot hold slashes win over ``{+…}`` ones, so that
    ``/repos/o/r/hooks`` is the hooks list and not repository "r/hooks".
    """
    candidates = []
    for route, pattern in _COMPILED:
        found = pattern.match(path)
        if found is not None and route.method == method:
            spans = "{+" in route.template
            candidates.append((spans, route.template.count("{"), route, found.groupdict()))
    if not candidates:
        return None
    _, _, route, params = min(candidates, key=lambda item: (item[0], item[1]))
    return route, {key: unquote(value or "") for key, value in params.items()}


def docs_url(route: Route | None) -> str:
    return DOCS + (route.docs if route else "rest")
