"""Who is calling and may they write: users, passwords and API tokens, HTTP sessions, and CSRF crumbs."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from http.cookies import CookieError, SimpleCookie

CRUMB_FIELD = "Jenkins-Crumb"  # CrumbIssuer.DEFAULT_CRUMB_NAME


@dataclass
class Account:
    password: str | None
    tokens: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Identity:
    """An authenticated caller; ``by_token`` marks an API token, which needs no crumb (ApiCrumbExclusion)."""

    user: str
    by_token: bool


class BadCredentials(Exception):
    """Basic credentials that match no user, password or token (BasicHeaderProcessor answers 401)."""


class Security:
    """Users and the default crumb issuer; callers hold the emulator's lock."""

    def __init__(self, *, crumbs: bool) -> None:
        self.crumbs = crumbs
        self.accounts: dict[str, Account] = {}
        self._sessions: set[str] = set()
        self._salt = secrets.token_hex(16)  # DefaultCrumbIssuer's per-instance "crumbSalt"
        # Winstone names the session cookie per instance, "JSESSIONID." and 8 hex digits.
        self.cookie_name = f"JSESSIONID.{secrets.token_hex(4)}"

    # -- users --------------------------------------------------------------------------------------

    def add_user(self, user: str, password: str | None, api_token: str | None) -> None:
        account = self.accounts.setdefault(user, Account(password=None))
        if password is not None:
            account.password = password
        if api_token is not None and api_token not in account.tokens:
            account.tokens.append(api_token)

    def api_token(self, user: str) -> str:
        account = self.accounts.get(user)
        if account is None:
            raise KeyError(f"no such Jenkins user: {user!r} (add it with add_user)")
        if not account.tokens:
            account.tokens.append("11" + secrets.token_hex(16))  # the shape of a Jenkins 2.x API token
        return account.tokens[0]

    def authenticate(self, authorization: str) -> Identity | None:
        """The caller of a request: None for anonymous (no Basic header); BadCredentials for wrong ones."""
        scheme, _, encoded = authorization.partition(" ")
        if scheme.lower() != "basic":
            return None  # Jenkins ignores other schemes here: the request goes on as anonymous
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            decoded = ""
        user, colon, secret = decoded.partition(":")
        account = self.accounts.get(user)
        if not colon or account is None:
            raise BadCredentials(user)
        if any(_same(secret, token) for token in account.tokens):
            return Identity(user, by_token=True)
        if account.password is not None and _same(secret, account.password):
            return Identity(user, by_token=False)
        raise BadCredentials(user)

    # -- sessions and crumbs -------------------------------------------------------------------------

    def session_of(self, cookie_header: str) -> str | None:
        """The live session the request's cookie names, if any."""
        cookies = SimpleCookie()
        try:
            cookies.load(cookie_header)
        except CookieError:
            return None
        morsel = cookies.get(self.cookie_name)
        return morsel.value if morsel is not None and morsel.value in self._sessions else None

    def new_session(self) -> str:
        session = f"node0{secrets.token_hex(12)}.node0"  # Jetty's session id shape
        self._sessions.add(session)
        return session

    def set_cookie(self, session: str) -> str:
        return f"{self.cookie_name}={session}; Path=/; HttpOnly"

    def crumb(self, user: str, session: str) -> str:
        """``DefaultCrumbIssuer.issueCrumb``: SHA-256 over "user;session" and the salt, in hex."""
        return hashlib.sha256(f"{user};{session}".encode() + self._salt.encode("ascii")).hexdigest()

    def crumb_valid(self, user: str, session: str | None, crumb: str | None) -> bool:
        # Without a known session cookie the servlet container would start a fresh session, whose crumb
        # cannot match one issued before: that is why a password client must keep the cookie.
        if crumb is None or session is None:
            return False
        return _same(self.crumb(user, session), crumb)


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())  # str needs ASCII; secrets may not be
