"""Installing and removing plugin distributions in dtm's own Python environment with pip or uv.

The installer always runs as a subprocess of the target interpreter: pip has no supported
in-process API, and a plugin upgraded in-process would leave stale modules imported. Its
output is captured; a failure becomes one :class:`~dtm_core.errors.InstallerError` line, with
the full log attached as an exception note (printed with the traceback under ``--debug``) and
sent to the ``dtm_core.installer`` logger at DEBUG.
Index URLs may carry credentials (``https://user:token@host/simple``): every message and log
line passes through :func:`mask_credentials`.
"""

from __future__ import annotations

import importlib
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Sequence
from importlib import metadata
from importlib.util import find_spec
from pathlib import Path

from .errors import InstallerError
from .masking import mask_credentials
from .registry.model import PluginRef

__all__ = [
    "INDEX_URL_ENV",
    "install_distributions",
    "installed_version",
    "installer_command",
    "mask_credentials",
    "requirements_file_text",
    "uninstall_distributions",
]

#: Environment variable naming the package index plugins are installed from.
INDEX_URL_ENV = "DTM_PACKAGE_INDEX_URL"

log = logging.getLogger(__name__)

_DEBUG_HINT = "run again with --debug to see the full installer log"
_NAME_RE = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$")
_HASH_RE = re.compile(r"^(sha256|sha384|sha512):[0-9a-fA-F]+$")
# pip lists each mismatched file as "    name==1.0 from https://…";
# uv says "Hash mismatch for `name==1.0`".
_PIP_MISMATCH_RE = re.compile(r"^\s+(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)\S* from ", re.MULTILINE)
_UV_MISMATCH_RE = re.compile(r"Hash mismatch for `(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)")
_NOISE_PREFIXES = ("[notice]", "warning:", "deprecation:", "note:", "hint:")


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def installed_version(distribution: str) -> str | None:
    """The version of ``distribution`` installed in dtm's environment, or None."""
    try:
        return metadata.version(_normalize(distribution))
    except metadata.PackageNotFoundError:
        return None


def _has_pip(python: str) -> bool:
    if python == sys.executable:
        return find_spec("pip") is not None
    try:
        probe = subprocess.run(
            [python, "-c", "import pip"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return probe.returncode == 0


def installer_command(python: str = sys.executable) -> list[str]:
    """How to run an installer for ``python``: ``[python, "-m", "pip"]``, else ``["uv", "pip"]``.

    uv needs ``--python <python>`` after its subcommand; the callers here add it.
    """
    if _has_pip(python):
        return [python, "-m", "pip"]
    if shutil.which("uv"):
        return ["uv", "pip"]
    raise InstallerError(
        "neither pip nor uv is available to install plugin distributions",
        hint="install pip into dtm's environment (python -m ensurepip) or install uv",
    )


def _check_name(name: str) -> None:
    # A name starting with "-" would be read as an installer option: refuse anything else.
    if not _NAME_RE.match(name):
        raise InstallerError(
            f"refusing to uninstall {name!r}: not a valid distribution name",
            hint="give the distribution's name as 'dtm plugins' lists it",
        )


def _malformed(ref: PluginRef, why: str) -> InstallerError:
    return InstallerError(
        f"refusing to install {ref.requirement!r}: {why}",
        hint="fix the requirement; if it came from a registry index, report it to the "
        "index's maintainer",
    )


def _check_ref(ref: PluginRef) -> None:
    """Refuse what is not a PEP 508 requirement, so nothing can pass as an installer option."""
    from packaging.requirements import InvalidRequirement, Requirement

    # ``distribution`` may carry its own specifier (``dtm plugins install name>=1``).
    try:
        requirement = Requirement(ref.requirement)
    except InvalidRequirement:
        raise _malformed(ref, "not a valid requirement") from None
    if not ref.hashes:
        return
    specifiers = list(requirement.specifier)
    pinned = (
        len(specifiers) == 1
        and specifiers[0].operator in {"==", "==="}
        and "*" not in specifiers[0].version
        and requirement.url is None
    )
    if not pinned:
        raise _malformed(ref, "hashes need one exact '==' version")
    for digest in ref.hashes:
        # Checked strictly because each hash becomes text in a requirements file, where a
        # stray space or newline could smuggle in an option such as --index-url.
        if not _HASH_RE.match(digest):
            raise _malformed(ref, f"malformed hash {digest[:80]!r}, expected sha256:<hex>")


def requirements_file_text(requirements: Sequence[PluginRef]) -> str:
    """The hash-pinned requirements file for ``requirements``, one distribution a line."""
    lines = []
    for ref in requirements:
        _check_ref(ref)
        hashes = " ".join(f"--hash={digest}" for digest in ref.hashes)
        lines.append(f"{ref.requirement} {hashes}")
    return "\n".join(lines) + "\n"


def _requirement_args(requirements: Sequence[PluginRef], workdir: Path, *, uv: bool = False) -> list[str]:
    if not any(ref.hashes for ref in requirements):
        for ref in requirements:
            _check_ref(ref)
        return [ref.requirement for ref in requirements]
    unhashed = [ref.distribution for ref in requirements if not ref.hashes]
    if unhashed:
        # Hash-checking mode applies to the whole run, so pip would reject these anyway;
        # saying so here names the cause instead of pip's generic complaint.
        raise InstallerError(
            f"cannot install {', '.join(unhashed)} together with hash-pinned plugins: "
            "its registry entry lists no sha256",
            hint="add hashes to the registry entry, or install it on its own",
        )
    path = workdir / "requirements.txt"
    path.write_text(requirements_file_text(requirements), encoding="utf-8")
    # uv's --require-hashes also demands a hash for requirements already installed (dtm
    # itself, which every plugin requires), so it could never install a plugin; its
    # --verify-hashes checks every hash listed, which covers the plugin's own files.
    return ["--verify-hashes" if uv else "--require-hashes", "-r", str(path)]


def _environment(index_url: str | None, *, uv: bool) -> dict[str, str]:
    env = dict(os.environ)
    url = index_url or os.environ.get(INDEX_URL_ENV) or None
    if url:
        # Passed through the environment, not argv: any local user can read a process's
        # argv, and this URL may hold a token.
        env["UV_INDEX_URL" if uv else "PIP_INDEX_URL"] = url
    # The installer must never stop to ask for credentials on dtm's terminal.
    env["PIP_NO_INPUT"] = "1"
    env.setdefault("PIP_DISABLE_PIP_VERSION_CHECK", "1")
    return env


_MILESTONES = ("Collecting", "Downloading", "Installing", "Successfully", "Resolved",
               "Installed", "Uninstalled", "Uninstalling")


def _run(
    command: Sequence[str], env: dict[str, str], progress: Callable[[str], None] | None
) -> tuple[int, str, str]:
    """Run ``command``; relay stdout lines to ``progress`` as they come; return code, out, err."""
    log.debug("running %s", mask_credentials(" ".join(command)))
    try:
        with subprocess.Popen(
            list(command),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            text=True,
            errors="replace",
        ) as proc:
            stdout, stderr = proc.stdout, proc.stderr
            assert stdout is not None and stderr is not None  # both are PIPE above
            stderr_parts: list[str] = []
            # Drained on a thread: a full stderr pipe would block the installer while we
            # wait on stdout.
            drain = threading.Thread(target=lambda: stderr_parts.append(stderr.read()))
            drain.start()
            stdout_lines: list[str] = []
            for line in stdout:
                stdout_lines.append(line)
                # Only the milestones: pip's "Requirement already satisfied" lines would bury
                # them (the whole log is kept for --debug).
                if progress is not None and line.startswith(_MILESTONES):
                    progress(mask_credentials(line.strip()))
            drain.join()
            code = proc.wait()
    except OSError as exc:
        raise InstallerError(
            f"could not start the installer {command[0]}: {exc.strerror or exc}",
            hint="check that dtm's Python environment is intact",
        ) from None
    out, err = "".join(stdout_lines), "".join(stderr_parts)
    log.debug("installer exited with %d\n%s%s", code, mask_credentials(out), mask_credentials(err))
    return code, out, err


def _mismatched(stderr: str) -> list[str]:
    found = [m["name"] for m in _PIP_MISMATCH_RE.finditer(stderr)]
    found += [m["name"] for m in _UV_MISMATCH_RE.finditer(stderr)]
    return list(dict.fromkeys(found))


def _last_meaningful_line(stderr: str) -> str:
    lines = [line.strip() for line in stderr.splitlines()]
    lines = [line for line in lines if line and not line.lower().startswith(_NOISE_PREFIXES)]
    # pip marks its conclusion with "ERROR:"; the lines after it are often details.
    errors = [line for line in lines if line.startswith("ERROR:")]
    line = (errors or lines or [""])[-1]
    line = line.removeprefix("ERROR:").lstrip("×╰─▶│ ")
    line = re.sub(r"^(error:|Caused by:)\s*", "", line, flags=re.IGNORECASE)
    return line


def _failure(
    action: str, names: Sequence[str], code: int, stdout: str, stderr: str
) -> InstallerError:
    error = _summarize(action, names, code, mask_credentials(stderr))
    # The CLI prints notes with the traceback under --debug: the full log is there, not here.
    error.add_note("installer output:\n" + mask_credentials(stdout + stderr).rstrip())
    return error


def _summarize(action: str, names: Sequence[str], code: int, text: str) -> InstallerError:
    if "DO NOT MATCH THE HASHES" in text or "Hash mismatch for" in text:
        culprits = _mismatched(text) or list(names)
        return InstallerError(
            f"hash mismatch for {', '.join(culprits)}: "
            "the file on the package index differs from the registry's sha256",
            hint="nothing was installed; the package index may serve a tampered or rebuilt "
            "file; " + _DEBUG_HINT,
        )
    reason = _last_meaningful_line(text) or f"the installer exited with status {code}"
    return InstallerError(f"could not {action} {', '.join(names)}: {reason}", hint=_DEBUG_HINT)


def install_distributions(
    requirements: Sequence[PluginRef],
    *,
    python: str = sys.executable,
    index_url: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> None:
    """Install plugin distributions into the environment of ``python`` (dtm's own by default).

    With any hashes, every requirement must be hash-pinned and the installer runs in
    hash-checking mode. The index is ``index_url``, else ``$DTM_PACKAGE_INDEX_URL``, else the
    installer's own configuration. Raises :class:`InstallerError` on failure.
    """
    if not requirements:
        return
    base = installer_command(python)
    uv = base[0] == "uv"
    names = [ref.distribution for ref in requirements]
    with tempfile.TemporaryDirectory(prefix="dtm-install-") as workdir:
        args = _requirement_args(requirements, Path(workdir), uv=uv)
        command = [*base, "install", *(["--python", python] if uv else []), *args]
        if progress is not None:
            progress(f"installing {', '.join(names)} with {'uv' if uv else 'pip'}")
        code, out, err = _run(command, _environment(index_url, uv=uv), progress)
    if code != 0:
        raise _failure("install", names, code, out, err)
    if python == sys.executable:
        # Path finders cache directory listings; without this the new entry points stay
        # invisible to this process until it restarts.
        importlib.invalidate_caches()


def uninstall_distributions(
    names: Sequence[str],
    *,
    python: str = sys.executable,
    progress: Callable[[str], None] | None = None,
) -> None:
    """Remove distributions from the environment of ``python``; absent ones are skipped."""
    if not names:
        return
    for name in names:
        _check_name(name)
    base = installer_command(python)
    uv = base[0] == "uv"
    command = [*base, "uninstall", *(["--python", python] if uv else ["-y"]), *names]
    code, out, err = _run(command, _environment(None, uv=uv), progress)
    if code != 0:
        raise _failure("uninstall", names, code, out, err)
    if python == sys.executable:
        importlib.invalidate_caches()
