"""Signed indexes: ed25519 keys, and detached signatures over an index file's exact bytes.

The signature of ``https://host/index.json`` is ``https://host/index.json.sig`` (of a local
file, the file beside it with ``.sig`` added): the base64 text of the 64-byte ed25519
signature, one line. Detached, so a signed index stays byte-identical to an unsigned one and
older dtm versions read it unchanged. A public key is 32 bytes, written as base64 (44
characters) or hex (64). A private key file holds the 32-byte seed, as base64, after a
comment line that marks it private so it is never taken for a public key.

PyNaCl (libsodium) is imported only when a keyed index is fetched or a publisher signs: a
cold ``dtm search`` reads the cache and never pays for it.
"""

from __future__ import annotations

import base64
import binascii
import os
from typing import TYPE_CHECKING

from ..errors import InvalidInputError, RefusedError

if TYPE_CHECKING:
    from pathlib import Path

__all__ = [
    "SIGNATURE_SUFFIX",
    "generate_key",
    "key_label",
    "parse_public_key",
    "sign_index",
    "signature_location",
    "verify_index",
]

SIGNATURE_SUFFIX = ".sig"
_KEY_BYTES = 32
_SIGNATURE_BYTES = 64
_PRIVATE_MARKER = "# dtm registry signing key (ed25519, private)"


def signature_location(url: str) -> str:
    """Where the detached signature of the index at ``url`` (a URL or a path) is published."""
    if url.startswith(("http://", "https://", "file://")):
        from urllib.parse import urlsplit, urlunsplit

        # Beside the file, not after a query string: ``index.json.sig?token=…``.
        parts = urlsplit(url)
        return urlunsplit(parts._replace(path=parts.path + SIGNATURE_SUFFIX))
    return url + SIGNATURE_SUFFIX


def key_label(public_key: str) -> str:
    """A short form of a public key for tables and messages (its first 12 characters)."""
    return public_key[:12] + "…"


def parse_public_key(text: str) -> str:
    """The public key given as base64, hex or ``@FILE`` holding either, in base64."""
    given = text.strip()
    if given.startswith("@"):
        given = _read_key_file(given[1:], what="public key").strip()
        if given.startswith(_PRIVATE_MARKER):
            raise InvalidInputError(
                f"{text[1:]} is a private key; --key takes the publisher's public key",
                hint="give the public key 'dtm registry keygen' printed; keep the private key secret",
            )
    raw = _decode_key(given)
    if raw is None:
        raise InvalidInputError(
            f"invalid public key {given[:80]!r}: expected 32 bytes as base64 (44 characters) "
            "or hex (64 digits)",
            hint="give the public key 'dtm registry keygen' printed, or @FILE holding it",
        )
    return base64.b64encode(raw).decode()


def generate_key(private_path: Path) -> str:
    """Write a new private key to ``private_path`` (mode 0600, never over a file); return the
    public key as base64."""
    from nacl.signing import SigningKey

    key = SigningKey.generate()
    text = f"{_PRIVATE_MARKER}\n{base64.b64encode(bytes(key)).decode()}\n"
    try:
        # O_EXCL: a second keygen must not destroy the key an index is already signed with.
        fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise InvalidInputError(
            f"{private_path} already exists; refusing to overwrite a signing key",
            hint="choose another file name, or delete the old key if no index is signed with it",
        ) from None
    except OSError as exc:
        raise InvalidInputError(f"cannot create {private_path}: {exc.strerror}") from None
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(text)
    return base64.b64encode(bytes(key.verify_key)).decode()


def sign_index(index_path: Path, private_path: Path) -> Path:
    """Validate ``index_path`` and sign its exact bytes with the key in ``private_path``; write
    and return the ``.sig`` file beside it."""
    from nacl.signing import SigningKey

    lines = _read_key_file(str(private_path), what="private key").splitlines()
    seed = _decode_key(lines[1].strip()) if len(lines) >= 2 and lines[0] == _PRIVATE_MARKER else None
    if seed is None:
        raise InvalidInputError(
            f"{private_path} is not a dtm private key",
            hint="give the file 'dtm registry keygen' wrote",
        )
    try:
        body = index_path.read_bytes()
    except OSError as exc:
        raise InvalidInputError(f"cannot read {index_path}: {exc.strerror}") from None
    from .index import load_index_bytes

    # The bytes validated are the bytes signed: a broken index is never published as trusted.
    try:
        load_index_bytes(body, name=index_path.name)
    except InvalidInputError as exc:
        exc.hint = "fix the index at that path, then sign it"
        raise
    signature = SigningKey(seed).sign(body).signature
    target = index_path.with_name(index_path.name + SIGNATURE_SUFFIX)
    from .cache import write_atomic, write_failed

    try:
        write_atomic(target, base64.b64encode(signature) + b"\n")
        # write_atomic makes owner-only files; a signature is published, so let others read it.
        os.chmod(target, 0o644)
    except OSError as exc:
        raise write_failed(exc, target) from exc
    return target


def verify_index(name: str, url: str, body: bytes, signature: bytes | None, public_key: str) -> None:
    """Refuse ``body`` unless ``signature`` is ``public_key``'s signature of exactly these bytes.

    Called before the body is decoded: nothing an unverified index says is ever parsed.
    """
    from .fetch import shown

    where = shown(signature_location(url))
    fix = "ask the index's publisher to sign it with 'dtm registry sign'"
    if signature is None:
        raise RefusedError(f"index '{name}' has a trusted key but no signature at {where}", hint=fix)
    try:
        raw = base64.b64decode(signature.strip(), validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != _SIGNATURE_BYTES:
        raise RefusedError(f"index '{name}': {where} is not a base64 ed25519 signature", hint=fix)
    from nacl.exceptions import BadSignatureError
    from nacl.signing import VerifyKey

    try:
        VerifyKey(base64.b64decode(public_key)).verify(body, raw)
    except BadSignatureError:
        raise RefusedError(
            f"index '{name}': the signature at {where} does not verify with the trusted key "
            f"{key_label(public_key)}",
            hint="the index was changed after signing, or its publisher changed keys: check "
            f"with them; for a new key, 'dtm registry remove {name}' and add it again with --key",
        ) from None


def _decode_key(text: str) -> bytes | None:
    if len(text) == 2 * _KEY_BYTES:
        try:
            return bytes.fromhex(text)
        except ValueError:
            return None
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw if len(raw) == _KEY_BYTES else None


def _read_key_file(path: str, *, what: str) -> str:
    try:
        with open(os.path.expanduser(path), encoding="ascii") as handle:
            return handle.read()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not text"
        raise InvalidInputError(f"cannot read the {what} file {path}: {reason}") from None
