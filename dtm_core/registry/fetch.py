"""Downloading an index: the one place the registry touches httpx and maps its failures.

Imported only by ``dtm registry add`` and ``dtm update``; reading indexes never needs it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from ..errors import NetworkError, RefusedError
from ..masking import mask_credentials

if TYPE_CHECKING:
    import httpx

    from .policy import IndexPolicy

__all__ = ["http_get", "http_get_signature", "shown"]

_CONNECT_TIMEOUT = 5.0
_READ_TIMEOUT = 30.0
# What browsers and httpx allow; more is a loop.
_MAX_REDIRECTS = 20


def http_get_signature(
    name: str, url: str, transport: httpx.BaseTransport | None, policy: IndexPolicy
) -> bytes | None:
    """The detached signature of index ``name`` at ``url``, or None when it is not published
    (404 or 410: the caller refuses the index for that, naming the signature's URL)."""
    from .signing import signature_location

    status, body, _ = http_get(name, signature_location(url), {}, transport, policy,
                               missing=(404, 410))
    return None if status in (404, 410) else body


def http_get(
    name: str,
    url: str,
    headers: Mapping[str, str],
    transport: httpx.BaseTransport | None,
    policy: IndexPolicy,
    *,
    missing: tuple[int, ...] = (),
) -> tuple[int, bytes, Mapping[str, str]]:
    """GET index ``name`` at ``url``; every httpx failure becomes one NetworkError naming the URL.

    Redirects are followed one at a time, each target checked first: a RefusedError stops at
    one the policy does not allow, and at any from https to plain http, policy or not.
    Returns the status (200, 304 for a conditional request, or one of ``missing``), the body
    and the headers.
    """
    import httpx

    from ..version import __version__

    timeout = httpx.Timeout(_READ_TIMEOUT, connect=_CONNECT_TIMEOUT)
    try:
        with httpx.Client(
            transport=transport,
            timeout=timeout,
            follow_redirects=False,
            headers={"User-Agent": f"dtm/{__version__}"},
        ) as client:
            response = client.get(url, headers=dict(headers))
            for _ in range(_MAX_REDIRECTS):
                if response.next_request is None:
                    break
                _check_redirect(name, url, str(response.url), str(response.next_request.url), policy)
                response = client.send(response.next_request)
            else:
                if response.next_request is not None:
                    raise httpx.TooManyRedirects("too many redirects", request=response.request)
    except httpx.TimeoutException:
        reason = "timed out"
    except httpx.ConnectError as exc:
        reason = f"cannot connect: {_first_line(exc)}"
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        reason = _first_line(exc)
    else:
        if response.status_code in (200, 304, *missing):
            return response.status_code, response.content, response.headers
        reason = f"HTTP {response.status_code} {response.reason_phrase}".rstrip()
    raise NetworkError(
        # httpx quotes the URL in some reasons, so the whole message is masked.
        mask_credentials(f"could not fetch index '{name}' from {url}: {reason}"),
        hint="check the URL or your network",
    )


def _check_redirect(name: str, url: str, origin: str, target: str, policy: IndexPolicy) -> None:
    if origin.startswith("https://") and target.startswith("http://"):
        raise RefusedError(
            f"index '{name}' ({shown(url)}) redirects from https to plain http ({shown(target)})",
            hint="dtm never downgrades an index to plain http; ask its publisher to serve it "
            "over https, or add the index by an https URL that does not redirect",
        )
    if not policy.allows_url(target):
        raise RefusedError(
            f"index '{name}' ({shown(url)}) redirects to {shown(target)}, which registry.allowed "
            f"in {policy.file} does not allow",
            hint="add the index by the URL it redirects to, or add a pattern matching that URL "
            "to registry.allowed",
        )


def shown(url: str) -> str:
    """``url`` as messages show it: an index URL may carry a token (``https://user:TOKEN@…``)."""
    return mask_credentials(url)


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
