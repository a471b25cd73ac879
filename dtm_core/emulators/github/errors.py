"""GitHub's error replies: the ``basic-error`` and ``validation-error`` bodies with their messages.

``ApiError`` is raised anywhere below the HTTP layer and becomes one reply there. Messages are the
ones GitHub sends (quoted from its replies where the wording is known), so clients that match on
them behave as they would against github.com.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

DOCS = "https://docs.github.com/"
REST_DOCS = DOCS + "rest"
RATE_LIMIT_DOCS = DOCS + "rest/overview/rate-limits-for-the-rest-api"
SECONDARY_LIMIT = ("You have exceeded a secondary rate limit. Please wait a few minutes before you try "
                   "again. If you reach out to GitHub Support for help, please include the request ID "
                   "{request_id}.")


class ApiError(Exception):
    """An error reply: status, JSON body and extra headers."""

    def __init__(self, status: int, message: str, *, docs: str = REST_DOCS,
                 headers: Mapping[str, str] | None = None, errors: Sequence[Mapping[str, Any]] | None = None,
                 body: Mapping[str, Any] | None = None) -> None:
        super().__init__(f"{status} {message}")
        self.status = status
        self.headers = dict(headers or {})
        if body is not None:
            self.body: dict[str, Any] = dict(body)
        else:
            self.body = {"message": message, "documentation_url": docs}
            if errors is not None:
                self.body["errors"] = [dict(error) for error in errors]
            # GitHub repeats the code as a string in error bodies, except where the schema has no
            # ``status``: ``validation-error`` (422) and ``service_unavailable`` (503).
            if status not in (422, 503):
                self.body["status"] = str(status)

    @property
    def message(self) -> str:
        return str(self.body.get("message", ""))


def reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def default_error(status: int, docs: str = REST_DOCS) -> ApiError:
    """The reply GitHub gives for a bare status (used by injected faults)."""
    if status == 401:
        return ApiError(401, "Bad credentials", docs=docs)
    if status == 422:
        return ApiError(422, "Validation Failed", docs=docs, errors=[])
    if status == 429:
        return ApiError(429, SECONDARY_LIMIT.format(request_id="0000:0000"), docs=RATE_LIMIT_DOCS,
                        headers={"Retry-After": "1"})
    if status in (500, 502):
        return ApiError(status, "Server Error", docs=docs)
    return ApiError(status, reason(status), docs=docs)


def not_found(docs: str = REST_DOCS, message: str = "Not Found") -> ApiError:
    return ApiError(404, message, docs=docs)


def forbidden(message: str, docs: str = REST_DOCS) -> ApiError:
    return ApiError(403, message, docs=docs)


def conflict(message: str, docs: str = REST_DOCS) -> ApiError:
    return ApiError(409, message, docs=docs)


def validation(message: str, docs: str = REST_DOCS, *errors: Mapping[str, Any]) -> ApiError:
    """422 with GitHub's ``validation-error`` body; ``errors`` may be empty."""
    return ApiError(422, message, docs=docs, errors=list(errors))


def invalid_request(detail: str, docs: str = REST_DOCS) -> ApiError:
    """422 for a body that fails GitHub's schema check, worded as GitHub words it."""
    return ApiError(422, f"Invalid request.\n\n{detail}", docs=docs)


def not_supplied(names: Sequence[str], docs: str = REST_DOCS) -> ApiError:
    quoted = ", ".join(json.dumps(name) for name in names)
    return invalid_request(f"{quoted} {'wasn' if len(names) == 1 else 'weren'}'t supplied.", docs)


def wrong_type(name: str, value: Any, expected: str, docs: str = REST_DOCS) -> ApiError:
    article = "an" if expected[0] in "aeiou" else "a"
    return invalid_request(f"For 'properties/{name}', {json.dumps(value)} is not {article} {expected}.", docs)


def bad_json(docs: str = REST_DOCS) -> ApiError:
    return ApiError(400, "Problems parsing JSON", docs=docs)
