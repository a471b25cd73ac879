"""List pagination as GitHub does it: ``per_page`` (30, at most 100), ``page``, RFC 8288 ``Link``."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TypeVar
from urllib.parse import urlencode

from .call import Call

T = TypeVar("T")
DEFAULT_PER_PAGE = 30
MAX_PER_PAGE = 100


def _number(text: str | None, default: int) -> int:
    try:
        return int(text) if text is not None else default
    except ValueError:
        return default  # GitHub ignores a page size or number it cannot read


def paginate(call: Call, items: Sequence[T]) -> tuple[list[T], dict[str, str]]:
    """The page of ``items`` the call asks for, and the ``Link`` header to send with it (if any)."""
    per_page = min(max(_number(call.query.get("per_page"), DEFAULT_PER_PAGE), 1), MAX_PER_PAGE)
    page = max(_number(call.query.get("page"), 1), 1)
    last = max(math.ceil(len(items) / per_page), 1)
    chosen = list(items[(page - 1) * per_page:page * per_page])

    def link(number: int, rel: str) -> str:
        query = {**call.query, "page": str(number)}
        return f'<{call.root}{call.path}?{urlencode(query)}>; rel="{rel}"'

    links = []
    # GitHub's order: prev, next, last, first; it omits the ones that would point at this page.
    if page > 1:
        links.append(link(min(page - 1, last), "prev"))
    if page < last:
        links += [link(page + 1, "next"), link(last, "last")]
    if page > 1:
        links.append(link(1, "first"))
    return chosen, ({"Link": ", ".join(links)} if links else {})
