"""The index policy: ``registry.allowed`` and ``registry.require_signed`` at add, update and read."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from dtm_core.errors import ConfigError, RefusedError
from dtm_core.paths import DtmPaths
from dtm_core.registry import Source, add_source, load_registry, remove_source, update_sources
from dtm_core.registry.policy import IndexPolicy, load_policy

from .conftest import Publisher

WriteIndex = Callable[..., Path]
MakeTool = Callable[..., dict[str, Any]]


@pytest.fixture
def write_settings(paths: DtmPaths) -> Callable[[str], Path]:
    """Write dtm's settings file in the test's home and return its path."""

    def write(text: str) -> Path:
        file = Path(paths.settings_file_text)
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(text)
        return file

    return write


@pytest.fixture
def index(write_index: WriteIndex, make_tool: MakeTool) -> Path:
    return write_index({"forge": make_tool("corp forge")})


def test_without_settings_every_index_is_allowed(paths: DtmPaths, environ: dict[str, str]) -> None:
    assert load_policy(paths, environ) == IndexPolicy(None, False, paths.settings_file_text)


def test_adding_an_index_outside_registry_allowed_is_refused(
    paths: DtmPaths, environ: dict[str, str], index: Path, write_settings: Callable[[str], Path]
) -> None:
    settings = write_settings('[registry]\nallowed = ["https://index.example.test/*", "bundled"]\n')
    with pytest.raises(RefusedError) as caught:
        add_source(paths, "corp", str(index), environ=environ)
    assert caught.value.exit_code == 3
    assert caught.value.message == (
        f"index 'corp' ({index}) is not allowed by registry.allowed in {settings}"
    )
    assert caught.value.hint == (
        "choose an allowed index, or add a pattern matching its absolute path to registry.allowed"
    )
    assert not paths.sources_file.exists()


def test_a_pattern_allows_what_it_matches(
    paths: DtmPaths, environ: dict[str, str], index: Path, write_settings: Callable[[str], Path]
) -> None:
    write_settings(f'registry.allowed = ["{index.parent}/*", "bundled"]\n')
    add_source(paths, "corp", str(index), environ=environ)
    registry = load_registry(paths, environ=environ)
    assert registry.sources == ("corp", "default")


def test_an_index_added_before_the_policy_is_refused_at_read_and_update(
    paths: DtmPaths, environ: dict[str, str], index: Path, write_settings: Callable[[str], Path]
) -> None:
    add_source(paths, "corp", str(index), environ=environ)
    settings = write_settings('[registry]\nallowed = ["bundled"]\n')

    with pytest.raises(RefusedError) as caught:
        load_registry(paths, environ=environ)
    assert caught.value.message == (
        f"index 'corp' ({index}) is not allowed by registry.allowed in {settings}"
    )
    assert caught.value.hint == (
        "remove it with 'dtm registry remove corp', or add a pattern matching its absolute path "
        "to registry.allowed"
    )
    [result] = update_sources(paths, environ=environ)
    assert result.status == "failed"
    assert isinstance(result.error, RefusedError)
    # The way out the hint names still works under the policy.
    remove_source(paths, "corp")
    assert load_registry(paths, environ=environ).sources == ("default",)


def test_a_refusal_masks_a_token_in_the_index_url(
    paths: DtmPaths, environ: dict[str, str], write_settings: Callable[[str], Path]
) -> None:
    write_settings('[registry]\nallowed = ["bundled"]\n')
    with pytest.raises(RefusedError) as caught:
        add_source(paths, "corp", "https://alice:s3cret-token@index.example.test/index.json",
                   environ=environ)
    assert "s3cret-token" not in caught.value.message
    assert caught.value.message.startswith(
        "index 'corp' (https://alice:***@index.example.test/index.json) is not allowed"
    )


def test_the_bundled_index_is_left_out_when_not_allowed(
    paths: DtmPaths, environ: dict[str, str], index: Path, write_settings: Callable[[str], Path]
) -> None:
    write_settings(f'[registry]\nallowed = ["{index}"]\n')
    add_source(paths, "corp", str(index), environ=environ)
    registry = load_registry(paths, environ=environ)
    assert registry.sources == ("corp",)
    assert registry.get("argocd") is None  # only the bundled index lists it


def test_dtm_registry_is_subject_to_the_policy(
    paths: DtmPaths, environ: dict[str, str], index: Path, write_settings: Callable[[str], Path]
) -> None:
    write_settings('[registry]\nallowed = ["bundled"]\n')
    with pytest.raises(RefusedError) as caught:
        load_registry(paths, environ=dict(environ, DTM_REGISTRY=str(index)))
    assert caught.value.message.startswith(f"index 'default' ({index}) is not allowed")
    assert caught.value.hint is not None and caught.value.hint.startswith("unset DTM_REGISTRY")


def test_require_signed_refuses_an_index_without_a_key(
    paths: DtmPaths, environ: dict[str, str], index: Path, write_settings: Callable[[str], Path],
    publisher: Publisher,
) -> None:
    settings = write_settings("[registry]\nrequire_signed = true\n")
    with pytest.raises(RefusedError) as caught:
        add_source(paths, "corp", str(index), environ=environ)
    assert caught.value.message == (
        f"index 'corp' ({index}) has no trusted key and registry.require_signed is true in {settings}"
    )
    assert caught.value.hint == (
        "pass --key with the publisher's public key, or set registry.require_signed = false"
    )
    publisher.sign(index)
    add_source(paths, "corp", str(index), key=publisher.public_key, environ=environ)
    # The bundled index ships inside dtm: it needs no key.
    assert load_registry(paths, environ=environ).sources == ("corp", "default")
    with pytest.raises(RefusedError, match="has no trusted key") as caught:
        load_registry(paths, environ=dict(environ, DTM_REGISTRY=str(index)))
    assert caught.value.hint is not None and caught.value.hint.startswith("set DTM_REGISTRY_KEY")


def test_an_index_kept_from_before_require_signed_is_refused(
    paths: DtmPaths, environ: dict[str, str], index: Path, write_settings: Callable[[str], Path]
) -> None:
    add_source(paths, "corp", str(index), environ=environ)
    write_settings("[registry]\nrequire_signed = true\n")
    with pytest.raises(RefusedError) as caught:
        load_registry(paths, environ=environ)
    assert caught.value.hint == (
        "'dtm registry remove corp', then add it again with --key and the publisher's public "
        "key, or set registry.require_signed = false"
    )


@pytest.mark.parametrize(
    ("text", "message", "where"),
    [
        ('[registry]\nallowed = "https://x.test/*"\n', "registry.allowed must be a list of URL patterns",
         "2:1"),
        ("[registry]\n  require_signed = 1\n", "registry.require_signed must be true or false", "2:3"),
        ("[registry]\nallow = []\n", "registry.allow is not a setting", "2:1"),
        # Found by fuzzing: a newline in a quoted key broke the one-line error.
        ('[registry]\n"a\\nb" = 1\n', 'registry."a\\nb" is not a setting', "2:1"),
        ("registry = 3\n", "registry must be a table ([registry])", None),
    ],
)
def test_a_malformed_registry_table_is_a_config_error(
    paths: DtmPaths, environ: dict[str, str], write_settings: Callable[[str], Path],
    text: str, message: str, where: str | None,
) -> None:
    settings = write_settings(text)
    with pytest.raises(ConfigError) as caught:
        load_policy(paths, environ)
    assert caught.value.exit_code == 2
    assert caught.value.message == (f"{settings}:{where}: {message}" if where else f"{settings}: {message}")


def test_bundled_alone_keeps_the_bundled_index(
    paths: DtmPaths, environ: dict[str, str], write_settings: Callable[[str], Path]
) -> None:
    write_settings('[registry]\nallowed = ["bundled"]\n')
    registry = load_registry(paths, environ=environ)
    assert registry.sources == ("default",)
    assert registry.get("argocd") is not None


# -- how patterns match -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "url", "allowed"),
    [
        # A host pattern matches the host alone, never text in the path.
        ("https://*.example.com/*", "https://idx.example.com/i.json", True),
        ("https://*.example.com/*", "https://evil.test/a.example.com/i.json", False),
        ("https://index.example.com/*", "https://index.example.com.evil.test/i.json", False),
        # Credentials are no part of the host: "https://*@host/*" cannot match in the path.
        ("https://*@host.test/*", "https://ci:token@host.test/i.json", True),
        ("https://*@host.test/*", "https://evil.test/x@host.test/i.json", False),
        ("https://host.test/*", "https://ci:token@host.test/i.json", True),
        ("https://index.example.com/*", "https://evil.example?@index.example.com/index.json", False),
        # The scheme and the port exactly; no port in the pattern is the scheme's default.
        ("https://host.test/*", "http://host.test/i.json", False),
        ("https://HOST.test/*", "https://host.TEST/i.json", True),
        ("https://host.test/*", "https://host.test:8443/i.json", False),
        ("https://host.test/*", "https://host.test:443/i.json", True),
        ("https://host.test:8443/*", "https://host.test:8443/i.json", True),
        ("https://host.test:*/*", "https://host.test:8443/i.json", True),
        # The path as the server will read it: decoded, dot segments removed.
        ("https://host.test/indexes/*", "https://host.test/indexes/../secret/i.json", False),
        ("https://host.test/indexes/*", "https://host.test/indexes/%2e%2e/secret/i.json", False),
        ("https://host.test/indexes/*", "https://host.test/indexes/team/i.json", True),
        ("https://host.test/i.json", "https://host.test/i.json", True),
        ("https://host.test", "https://host.test/i.json", False),
    ],
)
def test_a_url_pattern_matches_by_parts(pattern: str, url: str, allowed: bool) -> None:
    assert IndexPolicy((pattern,)).allows(Source("corp", url)) is allowed


@pytest.mark.parametrize(
    ("pattern", "location", "allowed"),
    [
        ("file:///opt/indexes/*", "file:///opt/indexes/team.json", True),
        ("/opt/indexes/*", "file:///opt/indexes/team.json", True),
        ("file:///opt/indexes/*", "/opt/indexes/team.json", True),
        ("file:///opt/indexes/*", "file:///opt/indexes/../../x/evil.json", False),
        ("file:///opt/indexes/*", "file:///opt/indexes/%2e%2e/%2e%2e/x/evil.json", False),
        ("/opt/indexes/*", "/opt/indexes/../x/evil.json", False),
        ("/opt/indexes/../indexes/*", "/opt/indexes/team.json", True),  # the pattern normalised
        ("https://host.test/*", "/opt/indexes/team.json", False),
        ("bundled", "/opt/indexes/team.json", False),
    ],
)
def test_a_local_index_is_matched_by_its_resolved_path(
    pattern: str, location: str, allowed: bool
) -> None:
    assert IndexPolicy((pattern,)).allows(Source("corp", location)) is allowed


def test_dot_dot_in_a_file_url_cannot_leave_an_allowed_folder(
    paths: DtmPaths, environ: dict[str, str], index: Path, write_settings: Callable[[str], Path]
) -> None:
    allowed = index.parent / "allowed"
    allowed.mkdir()
    settings = write_settings(f'[registry]\nallowed = ["file://{allowed}/*", "bundled"]\n')
    for url in (f"file://{allowed}/../{index.name}", f"file://{allowed}/%2e%2e/{index.name}"):
        with pytest.raises(RefusedError) as caught:
            add_source(paths, "corp", url, environ=environ)
        assert caught.value.message == (
            f"index 'corp' ({url}) is not allowed by registry.allowed in {settings}"
        )
    # A symlink inside the folder is followed too: what is read is what is matched.
    (allowed / "link.json").symlink_to(index)
    with pytest.raises(RefusedError):
        add_source(paths, "corp", f"file://{allowed}/link.json", environ=environ)
    (allowed / index.name).write_bytes(index.read_bytes())
    add_source(paths, "corp", f"file://{allowed}/{index.name}", environ=environ)
    assert load_registry(paths, environ=environ).sources == ("corp", "default")


# -- redirects ----------------------------------------------------------------------------------


def redirecting(location: str, index: bytes) -> httpx.MockTransport:
    """index.example.test redirects /index.json (and its .sig) to ``location``; any other URL
    serves ``index``."""

    def reply(request: httpx.Request) -> httpx.Response:
        if request.url.host == "index.example.test" and request.url.path.startswith("/index.json"):
            return httpx.Response(302, headers={"Location": location})
        return httpx.Response(200, content=index)

    return httpx.MockTransport(reply)


def test_a_redirect_the_policy_does_not_allow_is_refused(
    paths: DtmPaths, environ: dict[str, str], index: Path, write_settings: Callable[[str], Path]
) -> None:
    settings = write_settings('[registry]\nallowed = ["https://index.example.test/*", "bundled"]\n')
    url = "https://ci:s3cret@index.example.test/index.json"
    transport = redirecting("https://mirror.evil.test/index.json", index.read_bytes())
    with pytest.raises(RefusedError) as caught:
        add_source(paths, "corp", url, transport=transport, environ=environ)
    assert caught.value.message == (
        "index 'corp' (https://ci:***@index.example.test/index.json) redirects to "
        f"https://mirror.evil.test/index.json, which registry.allowed in {settings} does not allow"
    )
    assert caught.value.hint == (
        "add the index by the URL it redirects to, or add a pattern matching that URL to "
        "registry.allowed; nothing was added"
    )
    assert not paths.sources_file.exists()

    # Once the policy allows the target too, the redirect is followed.
    write_settings('[registry]\nallowed = ["https://*.test/*", "bundled"]\n')
    add_source(paths, "corp", url, transport=transport, environ=environ)
    # An index added before is refused at update when it starts redirecting elsewhere.
    write_settings('[registry]\nallowed = ["https://index.example.test/*", "bundled"]\n')
    [result] = update_sources(paths, transport=transport, environ=environ)
    assert result.status == "failed"
    assert isinstance(result.error, RefusedError)
    assert "redirects to https://mirror.evil.test/index.json" in result.error.message
