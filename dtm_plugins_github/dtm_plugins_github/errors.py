"""Turning GitHub's error answers into one-line errors with a fix, without ever echoing a token.

    OperationError (dtm_core)
    └── GitHubError           an answer GitHub gave, with its ``status`` and ``errors``
        └── RateLimitError    the rate limit resets later than dtm is willing to wait

Tools catch :class:`GitHubError` by ``status`` where they know better (a 404 on the owner, a
422 for a name already taken) and let the rest propagate: its message and hint already say
what happened and what to do.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx

from dtm_core import OperationError, is_uncertain

#: Scopes of classic tokens that include others (docs.github.com, "Scopes for OAuth apps").
IMPLIED_SCOPES: dict[str, frozenset[str]] = {
    "repo": frozenset({"repo:status", "repo_deployment", "public_repo", "repo:invite",
                       "security_events"}),
    "admin:org": frozenset({"write:org", "read:org", "manage_runners:org"}),
    "write:org": frozenset({"read:org"}),
    "admin:repo_hook": frozenset({"write:repo_hook", "read:repo_hook"}),
    "write:repo_hook": frozenset({"read:repo_hook"}),
    "user": frozenset({"read:user", "user:email", "user:follow"}),
    "write:packages": frozenset({"read:packages"}),
}

TOKEN_HINT = ("create a token at https://github.com/settings/tokens with the scopes listed in the "
              "plugin's README, then export GITHUB_TOKEN or give token: env:NAME")


class GitHubError(OperationError):
    """GitHub answered with an error; ``status`` is the HTTP status (0 when it could not be reached)."""

    def __init__(self, message: str, *, hint: str | None = None, status: int = 0,
                 errors: Sequence[Any] = (), scopes: frozenset[str] | None = None) -> None:
        super().__init__(message, hint=hint)
        self.status = status
        #: Whether GitHub may have carried the call out all the same (see ``dtm_core.retries``).
        self.uncertain = status >= 500
        self.errors = list(errors)
        #: The classic token's scopes as GitHub reported them (None for fine-grained tokens).
        self.scopes = scopes

    def mentions(self, text: str) -> bool:
        """Whether GitHub's message or one of its validation errors contains ``text``."""
        wanted = text.lower()
        found = [self.message] + [str(e.get("message", "")) if isinstance(e, dict) else str(e)
                                  for e in self.errors]
        return any(wanted in item.lower() for item in found)


class RateLimitError(GitHubError):
    """The rate limit would make dtm wait longer than it is allowed to."""


def _scopes(header: str | None) -> set[str]:
    return {s.strip() for s in (header or "").split(",") if s.strip()}


def token_scopes(response: httpx.Response) -> frozenset[str] | None:
    if "x-oauth-scopes" not in response.headers:
        return None
    return frozenset(_scopes(response.headers.get("x-oauth-scopes")))


def scope_error(missing: Sequence[str], held: frozenset[str] | set[str], what: str,
                status: int) -> GitHubError:
    wanted = " or ".join(f"`{s}`" for s in missing)
    return GitHubError(
        f"the token lacks the {wanted} scope (it has: {', '.join(sorted(held)) or 'no scopes'}); "
        f"GitHub refused {what}",
        hint=f"add the {' or '.join(missing)} scope to the token (https://github.com/settings/tokens), "
        "or use a token that has it",
        status=status, scopes=frozenset(held))


def missing_scopes(response: httpx.Response) -> list[str] | None:
    """The scopes the endpoint accepts, when the token holds none of them; None if not a scope problem.

    ``X-Accepted-OAuth-Scopes`` lists scopes any one of which suffices; ``X-OAuth-Scopes`` those the
    (classic) token has. Fine-grained tokens send no ``X-OAuth-Scopes``: nothing can be said then.
    """
    if "x-oauth-scopes" not in response.headers or "x-accepted-oauth-scopes" not in response.headers:
        return None
    accepted = _scopes(response.headers.get("x-accepted-oauth-scopes"))
    held = _scopes(response.headers.get("x-oauth-scopes"))
    covered = held | {implied for scope in held for implied in IMPLIED_SCOPES.get(scope, ())}
    if not accepted or accepted & covered:
        return None
    return sorted(accepted)


def body_of(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def one_line(text: str, limit: int = 200) -> str:
    """GitHub's message as one short line (it may hold newlines or documentation links)."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def _details(body: dict[str, Any]) -> str:
    message = one_line(str(body.get("message") or ""))
    errors = body.get("errors") or []
    parts = []
    for err in errors if isinstance(errors, list) else []:
        if isinstance(err, dict):
            text = err.get("message") or " ".join(str(err.get(k)) for k in ("field", "code") if err.get(k))
            parts.append(one_line(str(text), 120))
        else:
            parts.append(one_line(str(err), 120))
    if parts:
        return f"{message}: {'; '.join(parts)}" if message else "; ".join(parts)
    return message


def http_error(response: httpx.Response, what: str, *, attempts: int = 1) -> GitHubError:
    """The error for a failed answer to ``what`` ("GET /repos/acme/app"), worded for the user."""
    status = response.status_code
    body = body_of(response)
    details = _details(body)
    errors = body.get("errors") if isinstance(body.get("errors"), list) else []
    said = f" ({details})" if details else ""
    if status == 401:
        return GitHubError(f"GitHub rejected the token as bad or expired (401 on {what})",
                           hint=TOKEN_HINT, status=status, errors=errors or ())
    scopes = token_scopes(response)
    missing = missing_scopes(response) if status in {403, 404} else None
    if missing:
        # GitHub answers 404 rather than 403 to a token without the scope (workflow files, creating
        # repositories): the accepted-scopes header is what tells the two apart.
        return scope_error(missing, scopes or frozenset(), what, status)
    if status == 403:
        return GitHubError(f"GitHub refused {what} (403{': ' + details if details else ''})",
                           hint="the token may lack access to this repository or organisation; for a "
                           "fine-grained token, grant it the repository and the permission needed",
                           status=status, errors=errors or (), scopes=scopes)
    if status == 404:
        return GitHubError(f"GitHub found nothing at {what} (404)",
                           hint="check the owner and name; a private repository also answers 404 to "
                           "a token that may not see it",
                           status=status, errors=errors or (), scopes=scopes)
    if status >= 500:
        tries = f" after {attempts} attempts" if attempts > 1 else ""
        reason = response.reason_phrase or "server error"
        return GitHubError(f"GitHub answered {status} {reason} to {what}{tries}",
                           hint="GitHub may be having trouble (https://www.githubstatus.com); "
                           "run the command again later",
                           status=status, errors=errors or ())
    return GitHubError(f"GitHub answered {status} to {what}{said}",
                       hint="see GitHub's message above; fix the option it names and run again",
                       status=status, errors=errors or (), scopes=scopes)


def network_error(exc: httpx.HTTPError, base_url: str, what: str, attempts: int) -> GitHubError:
    tries = f" after {attempts} attempts" if attempts > 1 else ""
    cause = one_line(str(exc), 120) or type(exc).__name__
    if is_uncertain(exc):
        # Lost after sending (a reset, a timeout): GitHub was reached and may have done it.
        error = GitHubError(f"GitHub API URL {base_url} dropped {what}{tries}: {cause}",
                            hint="GitHub or the network in between is unstable; run the command again "
                            "later: dtm looks at what exists before it changes anything")
        error.uncertain = True
        return error
    return GitHubError(
        f"cannot reach GitHub API URL {base_url} for {what}{tries}: {cause}",
        hint="check your network and proxy settings (HTTPS_PROXY), or set GITHUB_API_URL "
        "(or api_url) to your GitHub Enterprise API, e.g. https://HOST/api/v3",
    )
