"""Signed indexes: keys, signing, and the refusal of an index whose signature does not verify."""

from __future__ import annotations

import base64
import json
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from nacl.signing import VerifyKey

from dtm_core.errors import InvalidInputError, RefusedError, RegistryIndexError
from dtm_core.paths import DtmPaths
from dtm_core.registry import add_source, load_registry, update_sources
from dtm_core.registry.signing import generate_key, parse_public_key, signature_location

from .conftest import IndexServer, Publisher

WriteIndex = Callable[..., Path]
MakeTool = Callable[..., dict[str, Any]]


def cached_meta(paths: DtmPaths, name: str) -> dict[str, Any]:
    return json.loads((paths.index_cache_dir / f"{name}.index.json").read_text())


def cached_names(paths: DtmPaths) -> list[str]:
    return sorted(path.name for path in paths.index_cache_dir.glob("*"))


@pytest.fixture
def signed_index(write_index: WriteIndex, make_tool: MakeTool, publisher: Publisher) -> Path:
    index = write_index({"forge": make_tool("signed forge")})
    publisher.sign(index)
    return index


def serve_signed(server: IndexServer, document: Any, publisher: Publisher, tmp_path: Path,
                 etag: str | None = None) -> None:
    """Serve ``document`` with its signature at ``/index.json.sig``, as a publisher would."""
    server.serve(document, etag=etag)
    staged = tmp_path / "staged" / "index.json"
    staged.parent.mkdir(exist_ok=True)
    staged.write_bytes(server.body)
    server.files["/index.json.sig"] = publisher.sign(staged).read_bytes()


# -- keys and signatures ------------------------------------------------------------------------


def test_keygen_writes_an_owner_only_key_and_never_overwrites_one(tmp_path: Path) -> None:
    private_key = tmp_path / "signing.key"
    public_key = generate_key(private_key)
    assert stat.S_IMODE(private_key.stat().st_mode) == 0o600
    assert len(base64.b64decode(public_key)) == 32
    first = private_key.read_bytes()
    with pytest.raises(InvalidInputError) as caught:
        generate_key(private_key)
    assert caught.value.message == f"{private_key} already exists; refusing to overwrite a signing key"
    assert private_key.read_bytes() == first


def test_sign_writes_a_detached_base64_signature_of_the_exact_bytes(
    signed_index: Path, publisher: Publisher
) -> None:
    signature = signed_index.with_name("index.json.sig").read_text()
    assert signature.endswith("\n") and signature.count("\n") == 1
    # Checked with libsodium directly, not with dtm's verifier.
    VerifyKey(base64.b64decode(publisher.public_key)).verify(
        signed_index.read_bytes(), base64.b64decode(signature)
    )


def test_sign_refuses_an_invalid_index(write_index: WriteIndex, publisher: Publisher) -> None:
    index = write_index(document={"format": 1})
    with pytest.raises(RegistryIndexError) as caught:
        publisher.sign(index)
    assert caught.value.message == "index 'index.json': $: 'tools' is a required property"
    assert caught.value.hint == "fix the index at that path, then sign it"
    assert not index.with_name("index.json.sig").exists()


def test_a_public_key_is_read_as_base64_hex_or_a_file(tmp_path: Path, publisher: Publisher) -> None:
    raw = base64.b64decode(publisher.public_key)
    key_file = tmp_path / "publisher.pub"
    key_file.write_text(raw.hex() + "\n")
    assert parse_public_key(publisher.public_key) == publisher.public_key
    assert parse_public_key(raw.hex()) == publisher.public_key
    assert parse_public_key(f"@{key_file}") == publisher.public_key


@pytest.mark.parametrize("text", ["", "not-a-key", base64.b64encode(b"x" * 31).decode(), "ab" * 31 + "zz"])
def test_a_malformed_public_key_is_invalid_input(text: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        parse_public_key(text)
    assert caught.value.exit_code == 2
    assert caught.value.message.startswith("invalid public key")


def test_a_private_key_file_is_refused_as_a_public_key(publisher: Publisher) -> None:
    with pytest.raises(InvalidInputError) as caught:
        parse_public_key(f"@{publisher.private_key}")
    assert caught.value.message == (
        f"{publisher.private_key} is a private key; --key takes the publisher's public key"
    )


def test_the_signature_sits_beside_the_index_even_with_a_query() -> None:
    assert signature_location("https://h.test/dtm/index.json?t=1") == "https://h.test/dtm/index.json.sig?t=1"
    assert signature_location("/srv/index.json") == "/srv/index.json.sig"


# -- a local index with a key -------------------------------------------------------------------


def test_a_signed_index_is_added_with_its_key_recorded_and_stamped_on_the_cache(
    paths: DtmPaths, environ: dict[str, str], signed_index: Path, publisher: Publisher
) -> None:
    source = add_source(paths, "corp", str(signed_index), key=publisher.public_key)
    assert source.key == publisher.public_key
    assert json.loads(paths.sources_file.read_text()) == [
        {"name": "corp", "url": str(signed_index), "priority": 50, "key": publisher.public_key}
    ]
    assert cached_meta(paths, "corp")["key"] == publisher.public_key
    registry = load_registry(paths, environ=environ)
    assert registry.get("forge").description == "signed forge"  # type: ignore[union-attr]
    assert registry.warnings == []


def test_an_unsigned_index_with_a_key_is_refused_and_nothing_is_added(
    paths: DtmPaths, write_index: WriteIndex, make_tool: MakeTool, publisher: Publisher
) -> None:
    index = write_index({"forge": make_tool()})
    with pytest.raises(RefusedError) as caught:
        add_source(paths, "corp", str(index), key=publisher.public_key)
    assert caught.value.exit_code == 3
    assert caught.value.message == f"index 'corp' has a trusted key but no signature at {index}.sig"
    assert caught.value.hint == (
        "ask the index's publisher to sign it with 'dtm registry sign'; nothing was added"
    )
    assert not paths.sources_file.exists()
    assert cached_names(paths) == []


def test_a_signature_by_another_key_is_refused(
    paths: DtmPaths, signed_index: Path, other_publisher: Publisher, publisher: Publisher
) -> None:
    with pytest.raises(RefusedError) as caught:
        add_source(paths, "corp", str(signed_index), key=other_publisher.public_key)
    assert caught.value.message == (
        f"index 'corp': the signature at {signed_index}.sig does not verify with the trusted key "
        f"{other_publisher.public_key[:12]}…"
    )
    assert caught.value.hint is not None and caught.value.hint.endswith("; nothing was added")
    assert not paths.sources_file.exists()
    assert cached_names(paths) == []


def test_a_garbled_signature_file_is_refused(
    paths: DtmPaths, signed_index: Path, publisher: Publisher
) -> None:
    signed_index.with_name("index.json.sig").write_text("not base64!\n")
    with pytest.raises(RefusedError) as caught:
        add_source(paths, "corp", str(signed_index), key=publisher.public_key)
    assert caught.value.message == f"index 'corp': {signed_index}.sig is not a base64 ed25519 signature"


def test_an_index_changed_after_signing_is_refused_and_the_verified_copy_kept(
    paths: DtmPaths, environ: dict[str, str], signed_index: Path, publisher: Publisher,
    make_tool: MakeTool, write_index: WriteIndex,
) -> None:
    add_source(paths, "corp", str(signed_index), key=publisher.public_key)
    verified = cached_meta(paths, "corp")
    # A tampered copy: another tool, and a file of another size so dtm reads it again.
    write_index({"forge": make_tool("signed forge"), "evil": make_tool("not the publisher's")})

    registry = load_registry(paths, environ=environ)
    assert registry.get("evil") is None
    assert registry.get("forge") is not None
    assert len(registry.warnings) == 1
    assert registry.warnings[0].startswith(
        f"index 'corp': the signature at {signed_index}.sig does not verify with the trusted key"
    )
    [result] = update_sources(paths, environ=environ)
    assert (result.status, type(result.error)) == ("failed", RefusedError)
    assert cached_meta(paths, "corp")["sha256"] == verified["sha256"]


def test_a_copy_cached_without_the_key_is_not_reused(
    paths: DtmPaths, environ: dict[str, str], signed_index: Path, publisher: Publisher
) -> None:
    add_source(paths, "corp", str(signed_index))  # no key: cached unverified
    assert "key" not in cached_meta(paths, "corp")
    # The key is given later, by hand: the unverified copy must not stand in for a verified one.
    config = json.loads(paths.sources_file.read_text())
    config[0]["key"] = publisher.public_key
    paths.sources_file.write_text(json.dumps(config))
    signed_index.with_name("index.json.sig").unlink()

    with pytest.raises(RefusedError, match="has a trusted key but no signature"):
        load_registry(paths, environ=environ)


def test_dtm_registry_key_verifies_the_dtm_registry_index(
    paths: DtmPaths, environ: dict[str, str], signed_index: Path, publisher: Publisher,
    other_publisher: Publisher,
) -> None:
    env = dict(environ, DTM_REGISTRY=str(signed_index), DTM_REGISTRY_KEY=publisher.public_key)
    assert load_registry(paths, environ=env).get("forge") is not None
    env["DTM_REGISTRY_KEY"] = other_publisher.public_key
    with pytest.raises(RefusedError) as caught:
        load_registry(paths, environ=env)
    assert caught.value.message.startswith(f"index 'default': the signature at {signed_index}.sig")


# -- a remote index with a key ------------------------------------------------------------------


def test_a_remote_signed_index_is_verified_at_add_and_update(
    paths: DtmPaths, environ: dict[str, str], index_server: IndexServer, publisher: Publisher,
    make_tool: MakeTool, tmp_path: Path,
) -> None:
    serve_signed(index_server, {"format": 1, "tools": {"forge": make_tool("v1")}}, publisher,
                 tmp_path, etag='"v1"')
    add_source(paths, "corp", index_server.url, key=publisher.public_key)
    assert cached_meta(paths, "corp")["key"] == publisher.public_key

    # A new body whose signature was not renewed: refused, the verified copy stays in use.
    index_server.serve({"format": 1, "tools": {"forge": make_tool("v2")}}, etag='"v2"')
    [result] = update_sources(paths, environ=environ)
    assert result.status == "failed"
    assert isinstance(result.error, RefusedError)
    assert result.error.message.startswith(
        f"index 'corp': the signature at {index_server.url}.sig does not verify"
    )
    assert result.error.hint is not None and result.error.hint.endswith("; cached copy still used")
    assert load_registry(paths, environ=environ).get("forge").description == "v1"  # type: ignore[union-attr]

    serve_signed(index_server, {"format": 1, "tools": {"forge": make_tool("v2")}}, publisher,
                 tmp_path, etag='"v2"')
    [result] = update_sources(paths, environ=environ)
    assert (result.status, result.error) == ("updated", None)
    assert load_registry(paths, environ=environ).get("forge").description == "v2"  # type: ignore[union-attr]


def test_a_remote_index_without_a_published_signature_is_refused(
    paths: DtmPaths, index_server: IndexServer, publisher: Publisher, make_tool: MakeTool
) -> None:
    index_server.serve({"format": 1, "tools": {"forge": make_tool()}})
    with pytest.raises(RefusedError) as caught:
        add_source(paths, "corp", index_server.url, key=publisher.public_key)
    assert caught.value.message == (
        f"index 'corp' has a trusted key but no signature at {index_server.url}.sig"
    )
    assert index_server.replies == [200, 404]
    assert not paths.sources_file.exists()
    assert cached_names(paths) == []


def test_an_unverified_remote_copy_is_skipped_with_a_warning(
    paths: DtmPaths, environ: dict[str, str], index_server: IndexServer, publisher: Publisher,
    make_tool: MakeTool,
) -> None:
    index_server.serve({"format": 1, "tools": {"forge": make_tool()}})
    add_source(paths, "corp", index_server.url)
    config = json.loads(paths.sources_file.read_text())
    config[0]["key"] = publisher.public_key
    paths.sources_file.write_text(json.dumps(config))

    registry = load_registry(paths, environ=environ)
    assert registry.get("forge") is None
    assert registry.warnings == [
        f"index 'corp' ({index_server.url}): the cached copy was not verified with its trusted "
        "key; run 'dtm update'"
    ]


def test_a_malformed_key_in_the_sources_file_is_a_config_error(
    paths: DtmPaths, environ: dict[str, str]
) -> None:
    from dtm_core.errors import ConfigError

    paths.ensure(paths.config_dir)
    paths.sources_file.write_text(json.dumps([{"name": "corp", "url": "/x.json", "key": "nope"}]))
    with pytest.raises(ConfigError) as caught:
        load_registry(paths, environ=environ)
    assert caught.value.message.startswith(f"{paths.sources_file}:1:44: entry 0: invalid public key 'nope'")


def test_a_key_added_later_makes_update_fetch_in_full_not_trust_a_304(
    paths: DtmPaths, environ: dict[str, str], index_server: IndexServer, publisher: Publisher,
    make_tool: MakeTool, tmp_path: Path,
) -> None:
    serve_signed(index_server, {"format": 1, "tools": {"forge": make_tool()}}, publisher, tmp_path,
                 etag='"v1"')
    add_source(paths, "corp", index_server.url)  # no key: the copy is cached unverified
    config = json.loads(paths.sources_file.read_text())
    config[0]["key"] = publisher.public_key
    paths.sources_file.write_text(json.dumps(config))

    [result] = update_sources(paths, environ=environ)
    assert (result.status, result.error) == ("updated", None)  # fetched again and verified
    # The body is the same and the server would say 304 to the old ETag: it must not be asked.
    assert "if-none-match" not in index_server.requests[-2]
    assert index_server.replies[-2:] == [200, 200]  # the index, then its signature
    assert cached_meta(paths, "corp")["key"] == publisher.public_key
    assert load_registry(paths, environ=environ).warnings == []
