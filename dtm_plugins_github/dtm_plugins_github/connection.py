"""Which GitHub and which credentials: the api_url and token options both tools share.

The API URL comes from the ``api_url`` option, else ``GITHUB_API_URL`` (as GitHub Actions and
``gh`` set it), else api.github.com; GitHub Enterprise Server is ``https://HOST/api/v3``. The
token comes from the ``token`` option (a secret reference), else ``GITHUB_TOKEN``/``GH_TOKEN``
in the environment dtm runs with. Only references ever reach state; the value is used for the
Authorization header and nowhere else.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dtm_core import OperationError, Option, Secret, SecretRef, ToolContext

from .client import DEFAULT_API_URL, GitHubClient

API_URL = Option("api_url", description="GitHub REST API root; GITHUB_API_URL or https://api.github.com "
                 "when unset (GitHub Enterprise: https://HOST/api/v3)")
TOKEN = Option("token", secret=True,
               description="GitHub token, as a reference such as env:GITHUB_TOKEN; GITHUB_TOKEN or "
               "GH_TOKEN from the environment when unset")
TOKEN_VARIABLES = ("GITHUB_TOKEN", "GH_TOKEN")
#: Lets CI cap how long dtm waits for a rate limit to reset (seconds).
MAX_WAIT_VARIABLE = "DTM_GITHUB_MAX_WAIT"


def api_url(ctx: ToolContext) -> str:
    return str(ctx.options.get("api_url") or ctx.environ.get("GITHUB_API_URL") or DEFAULT_API_URL)


def reveal(ctx: ToolContext, value: Any) -> str | None:
    """The value of a secret option: dtm hands a ``Secret``; a bare reference is resolved here."""
    if isinstance(value, Secret):
        return value.reveal()
    if isinstance(value, SecretRef) and ctx.resolve_secret is not None:
        resolved = ctx.resolve_secret(value)
        return resolved.reveal() if isinstance(resolved, Secret) else str(resolved)
    return None


def token(ctx: ToolContext) -> str:
    found = reveal(ctx, ctx.options.get("token"))
    if found:
        return found
    for name in TOKEN_VARIABLES:
        if ctx.environ.get(name):
            return ctx.environ[name]
    raise OperationError(
        "no GitHub token: the token option is unset and neither GITHUB_TOKEN nor GH_TOKEN is set",
        hint="export GITHUB_TOKEN=... (a token with the repo and workflow scopes), or give "
        "token: env:NAME / file:PATH",
    )


def max_wait(environ: Mapping[str, str]) -> float | None:
    """The longest rate-limit wait the environment allows (``DTM_GITHUB_MAX_WAIT``), None for the default."""
    text = environ.get(MAX_WAIT_VARIABLE)
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        raise OperationError(f"{MAX_WAIT_VARIABLE} must be a number of seconds, not {text!r}",
                             hint=f"unset it or set e.g. {MAX_WAIT_VARIABLE}=120") from None


def client_for(ctx: ToolContext) -> GitHubClient:
    """A client for the GitHub the options and environment select, reporting waits as progress."""
    return GitHubClient(token(ctx), api_url(ctx), progress=ctx.progress,
                        max_rate_limit_wait=max_wait(ctx.environ))
