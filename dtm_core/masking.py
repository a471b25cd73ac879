"""Credentials in URLs, masked before a URL is shown or kept anywhere but where the user put it.

A package or registry index URL may carry a user and password (``https://ci:TOKEN@host/…``).
Importing this module costs one regular expression: the registry reads it on every command.
"""

from __future__ import annotations

import re

__all__ = ["mask_credentials"]

# Greedy up to the last "@" before the host, so an unencoded "@" in a password is masked too;
# never past "/", "?" or "#", where the authority ends: in "https://evil.example?@index.test/"
# the host is evil.example, and masking must not show index.test in its place.
_USERINFO_RE = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<userinfo>[^/?#\s]+)@")


def mask_credentials(text: str) -> str:
    """``text`` with the password of every URL replaced by ``***``.

    A URL with a user part only (``https://<token>@host``) has that part masked: it is
    usually the token itself.
    """

    def hide(match: re.Match[str]) -> str:
        user, colon, _ = match["userinfo"].partition(":")
        return f"{match['scheme']}{user}:***@" if colon else f"{match['scheme']}***@"

    return _USERINFO_RE.sub(hide, text)
