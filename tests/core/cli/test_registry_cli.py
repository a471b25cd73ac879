"""The registry commands end to end: a publisher's keygen and sign, a user's add --key, the
refusals (exact line, hint, exit code) and the index policy."""

from __future__ import annotations

import json
import shutil
import stat
from pathlib import Path

from dtm_harness import TEST_REGISTRY, DtmHarness


def one_error(result_stderr: str) -> tuple[str, str]:
    """The ``error:`` and ``hint:`` lines, after checking that is all there is."""
    lines = [line for line in result_stderr.splitlines() if not line.startswith("warning: ")]
    assert len(lines) == 2, result_stderr
    assert lines[0].startswith("error: ") and lines[1].startswith("hint: ")
    return lines[0], lines[1]


def publish(dtm: DtmHarness, tmp_path: Path) -> tuple[Path, str]:
    """A publisher's loop: a key, and the test registry signed with it. Returns index and key."""
    key = tmp_path / "publisher.key"
    made = dtm.run("registry", "keygen", str(key))
    assert made.exit_code == 0, made.stderr
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    index = tmp_path / "published" / "index.json"
    index.parent.mkdir()
    shutil.copyfile(TEST_REGISTRY, index)
    signed = dtm.run("registry", "sign", str(index), "--key", str(key))
    assert signed.exit_code == 0, signed.stderr
    assert signed.stderr == f"wrote {index}.sig\n"
    return index, made.stdout.strip()


def test_publish_sign_and_add_with_a_key(dtm: DtmHarness, tmp_path: Path) -> None:
    index, public_key = publish(dtm, tmp_path)
    added = dtm.run("registry", "add", "corp", str(index), "--key", public_key)
    assert added.exit_code == 0, added.stderr
    assert added.stderr == f"added index corp ({index}) with priority 50, signature verified\n"
    listed = json.loads(dtm.run("registry", "list", "-o", "json").stdout)
    assert listed[0] == {"name": "corp", "url": str(index), "priority": 50, "key": public_key}
    assert f"corp     50        {public_key[:12]}…  {index}" in dtm.run("registry", "list").stdout


def test_a_tampered_index_fails_update_with_exit_3_and_keeps_the_verified_copy(
    dtm: DtmHarness, tmp_path: Path
) -> None:
    index, public_key = publish(dtm, tmp_path)
    assert dtm.run("registry", "add", "corp", str(index), "--key", public_key).exit_code == 0
    data = json.loads(index.read_text())
    data["tools"]["alpha"]["description"] = "tampered after signing"
    index.write_text(json.dumps(data))

    result = dtm.run("update")
    assert result.exit_code == 3
    assert result.stdout.startswith(
        f"corp: failed (index 'corp': the signature at {index}.sig does not verify"
    )
    error, hint = one_error(result.stderr)
    assert error == "error: 1 of 2 indexes could not be refreshed"  # corp and DTM_REGISTRY
    assert hint.endswith("; cached copy still used")
    searched = dtm.run("search", "alpha")
    assert "tampered" not in searched.stdout


def test_adding_an_unsigned_index_with_a_key_is_refused(dtm: DtmHarness, tmp_path: Path) -> None:
    index, public_key = publish(dtm, tmp_path)
    Path(f"{index}.sig").unlink()
    result = dtm.run("registry", "add", "corp", str(index), "--key", public_key)
    assert result.exit_code == 3
    assert one_error(result.stderr) == (
        f"error: index 'corp' has a trusted key but no signature at {index}.sig",
        "hint: ask the index's publisher to sign it with 'dtm registry sign'; nothing was added",
    )
    assert [s["name"] for s in json.loads(dtm.run("registry", "list", "-o", "json").stdout)] == ["default"]


def test_a_malformed_key_is_invalid_input(dtm: DtmHarness, tmp_path: Path) -> None:
    result = dtm.run("registry", "add", "corp", str(TEST_REGISTRY), "--key", "0123")
    assert result.exit_code == 2
    error, _ = one_error(result.stderr)
    assert error == ("error: invalid public key '0123': expected 32 bytes as base64 (44 characters) "
                     "or hex (64 digits)")


def test_the_policy_refuses_an_index_outside_registry_allowed(dtm: DtmHarness, tmp_path: Path) -> None:
    settings = dtm.home / "config" / "config.toml"
    settings.parent.mkdir(parents=True)
    settings.write_text(f'[registry]\nallowed = ["{TEST_REGISTRY}"]\n')
    elsewhere = tmp_path / "elsewhere.json"
    shutil.copyfile(TEST_REGISTRY, elsewhere)

    added = dtm.run("registry", "add", "corp", str(elsewhere))
    assert added.exit_code == 3
    assert one_error(added.stderr) == (
        f"error: index 'corp' ({elsewhere}) is not allowed by registry.allowed in {settings}",
        "hint: choose an allowed index, or add a pattern matching its absolute path to registry.allowed",
    )
    assert dtm.run("search", "alpha").exit_code == 0  # DTM_REGISTRY is allowed: in use

    dtm.env["DTM_REGISTRY"] = str(elsewhere)
    searched = dtm.run("search", "alpha")
    assert searched.exit_code == 3
    assert one_error(searched.stderr) == (
        f"error: index 'default' ({elsewhere}) is not allowed by registry.allowed in {settings}",
        "hint: unset DTM_REGISTRY, or add a pattern matching its absolute path to registry.allowed",
    )


def test_update_exits_3_when_any_index_is_refused_whichever_failed_first(
    dtm: DtmHarness, tmp_path: Path
) -> None:
    index, public_key = publish(dtm, tmp_path)
    assert dtm.run("registry", "add", "corp", str(index), "--key", public_key).exit_code == 0
    broken = tmp_path / "broken.json"
    shutil.copyfile(TEST_REGISTRY, broken)
    # Higher priority: refreshed, and failing, before corp.
    assert dtm.run("registry", "add", "broken", str(broken), "--priority", "90").exit_code == 0
    broken.write_text("{")
    assert dtm.run("update").exit_code == 2  # an invalid index alone: its own code

    data = json.loads(index.read_text())
    data["tools"]["alpha"]["description"] = "tampered after signing"
    index.write_text(json.dumps(data))
    result = dtm.run("update")
    assert [line.split(":")[0] for line in result.stdout.splitlines()] == ["broken", "corp", "default"]
    assert result.exit_code == 3
    error, hint = one_error(result.stderr)
    assert error == "error: 2 of 3 indexes could not be refreshed"
    assert hint.startswith("hint: the index was changed after signing")  # the refusal's hint


def test_a_cache_that_cannot_be_written_is_one_error_naming_the_file(
    dtm: DtmHarness, tmp_path: Path
) -> None:
    from dtm_core.paths import resolve_paths

    index = tmp_path / "corp.json"
    shutil.copyfile(TEST_REGISTRY, index)
    assert dtm.run("registry", "add", "corp", str(index)).exit_code == 0
    cache_dir = resolve_paths(dtm.env).index_cache_dir
    shutil.rmtree(cache_dir)
    cache_dir.write_text("a file where the index cache should be")

    result = dtm.run("update")
    assert result.exit_code == 1
    assert f"corp: failed (cannot write {cache_dir}/corp.index.json: " in result.stdout
    error, hint = one_error(result.stderr)
    assert error == "error: 2 of 2 indexes could not be refreshed"
    assert hint == (
        f"hint: check that {cache_dir} is writable and its disk has free space, then run the "
        "command again"
    )


def test_sign_that_cannot_write_the_signature_is_one_error_naming_it(
    dtm: DtmHarness, tmp_path: Path
) -> None:
    index, _ = publish(dtm, tmp_path)
    signature = Path(f"{index}.sig")
    signature.unlink()
    signature.mkdir()  # a directory in the way: os.replace fails, even for root
    result = dtm.run("registry", "sign", str(index), "--key", str(tmp_path / "publisher.key"))
    assert result.exit_code == 1
    assert one_error(result.stderr) == (
        f"error: cannot write {signature}: Is a directory",
        f"hint: check that {index.parent} is writable and its disk has free space, then run the "
        "command again",
    )
