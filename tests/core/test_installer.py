"""The plugin installer: installer detection, requirement handling, masking, failure messages."""

from __future__ import annotations

import shutil
import socket
import sys
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path

import pytest

from dtm_core import installer
from dtm_core.errors import InstallerError
from dtm_core.installer import (
    install_distributions,
    installed_version,
    installer_command,
    mask_credentials,
    requirements_file_text,
    uninstall_distributions,
)
from dtm_core.registry.model import PluginRef

SHA_A = "sha256:" + "a" * 64
SHA_B = "sha256:" + "b" * 64
DEBUG_HINT = "run again with --debug to see the full installer log"

PIP_HASH_MISMATCH = """\
ERROR: THESE PACKAGES DO NOT MATCH THE HASHES FROM THE REQUIREMENTS FILE. If you have updated \
the package versions, please update the hashes. Otherwise, examine the package contents \
carefully; someone may have tampered with them.
    dtm-plugins-argocd==0.1.0 from https://u:pw@idx.test/packages/dtm_plugins_argocd-0.1.0-\
py3-none-any.whl (from -r r.txt (line 1)):
        Expected sha256 0000
             Got        1111
"""

UV_HASH_MISMATCH = """\
error: Failed to prepare distributions
  Caused by: Failed to download `dtm-plugins-jenkins==0.1.0`
  Caused by: Hash mismatch for `dtm-plugins-jenkins==0.1.0`

Expected:
  sha256:0000

Computed:
  sha256:1111
"""


class FakeRun:
    """Stands in for the installer subprocess; remembers what it was asked to run."""

    def __init__(self, code: int = 0, stdout: str = "", stderr: str = "") -> None:
        self.result = (code, stdout, stderr)
        self.commands: list[list[str]] = []
        self.envs: list[dict[str, str]] = []
        self.requirement_files: list[str] = []

    def __call__(
        self, command: Sequence[str], env: dict[str, str], progress: object
    ) -> tuple[int, str, str]:
        self.commands.append(list(command))
        self.envs.append(env)
        if "-r" in command:
            # Read now: the file lives in a temporary directory removed after the run.
            self.requirement_files.append(Path(command[command.index("-r") + 1]).read_text())
        return self.result


@pytest.fixture
def fake_run(monkeypatch: pytest.MonkeyPatch) -> FakeRun:
    fake = FakeRun()
    monkeypatch.setattr(installer, "_run", fake)
    monkeypatch.setattr(installer, "find_spec", lambda name: object())
    monkeypatch.delenv("DTM_PACKAGE_INDEX_URL", raising=False)
    return fake


# -- which installer --------------------------------------------------------------------------


def test_pip_of_the_running_interpreter_is_preferred(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(installer, "find_spec", lambda name: object())
    monkeypatch.setattr(shutil, "which", lambda name: "/usr/bin/uv")

    assert installer_command() == [sys.executable, "-m", "pip"]


def test_uv_is_used_when_pip_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(installer, "find_spec", lambda name: None)
    monkeypatch.setattr(shutil, "which", lambda name: "/usr/bin/uv")

    assert installer_command() == ["uv", "pip"]


def test_neither_pip_nor_uv_is_an_installer_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(installer, "find_spec", lambda name: None)
    monkeypatch.setattr(shutil, "which", lambda name: None)

    with pytest.raises(InstallerError) as caught:
        installer_command()

    assert caught.value.message == "neither pip nor uv is available to install plugin distributions"
    assert caught.value.hint == (
        "install pip into dtm's environment (python -m ensurepip) or install uv"
    )
    assert caught.value.exit_code == 1


@pytest.mark.skipif(sys.platform == "win32", reason="uses a shell-script interpreter")
def test_another_interpreter_is_asked_whether_it_has_pip(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with_pip = tmp_path / "with-pip"
    with_pip.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    without_pip = tmp_path / "without-pip"
    without_pip.write_text("#!/bin/sh\nexit 1\n")
    for script in (with_pip, without_pip):
        script.chmod(0o755)

    assert installer_command(str(with_pip)) == [str(with_pip), "-m", "pip"]
    with pytest.raises(InstallerError):
        installer_command(str(without_pip))
    with pytest.raises(InstallerError):
        installer_command(str(tmp_path / "no-such-python"))


# -- what is installed ------------------------------------------------------------------------


def test_installed_version_normalizes_names() -> None:
    assert installed_version("pluggy") == metadata.version("pluggy")
    assert installed_version("Ruamel_YAML") == metadata.version("ruamel.yaml")
    assert installed_version("dtm-plugins-does-not-exist") is None


# -- masking ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("https://user:tok3n@pypi.example/simple/", "https://user:***@pypi.example/simple/"),
        ("https://ghp_tok3n@pypi.example/simple/", "https://***@pypi.example/simple/"),
        ("see https://u:p@ss@host/x and http://a:b@h/",
         "see https://u:***@host/x and http://a:***@h/"),
        ("https://pypi.example/simple/ mail me@example.test",
         "https://pypi.example/simple/ mail me@example.test"),
        ("Looking in indexes: http://alice:****@127.0.0.1:1/simple/",
         "Looking in indexes: http://alice:***@127.0.0.1:1/simple/"),
    ],
)
def test_credentials_in_urls_are_masked(text: str, masked: str) -> None:
    assert mask_credentials(text) == masked


# -- requirements -----------------------------------------------------------------------------


def test_requirements_file_pins_each_distribution_with_its_hashes() -> None:
    text = requirements_file_text([
        PluginRef("dtm-plugins-argocd", "==0.1.0", (SHA_A, SHA_B)),
        PluginRef("dtm-plugins-github", "==0.2.0", (SHA_B,)),
    ])

    assert text == (
        f"dtm-plugins-argocd==0.1.0 --hash={SHA_A} --hash={SHA_B}\n"
        f"dtm-plugins-github==0.2.0 --hash={SHA_B}\n"
    )


def test_hashed_requirements_go_through_a_file_in_hash_checking_mode(fake_run: FakeRun) -> None:
    install_distributions([PluginRef("dtm-plugins-argocd", "==0.1.0", (SHA_A,))])

    (command,) = fake_run.commands
    assert command[:5] == [sys.executable, "-m", "pip", "install", "--require-hashes"]
    assert command[5] == "-r"
    assert fake_run.requirement_files == [f"dtm-plugins-argocd==0.1.0 --hash={SHA_A}\n"]
    assert not Path(command[6]).exists()


def test_requirements_without_hashes_are_arguments(fake_run: FakeRun) -> None:
    install_distributions([
        PluginRef("dtm-plugins-argocd", ">=0.1,<1"),
        PluginRef("dtm-plugins-github==0.1.0"),
    ])

    assert fake_run.commands == [[sys.executable, "-m", "pip", "install",
                                  "dtm-plugins-argocd>=0.1,<1", "dtm-plugins-github==0.1.0"]]


@pytest.mark.parametrize(
    ("refs", "message"),
    [
        ([PluginRef("dtm-plugins-argocd", "==0.1.0", (SHA_A,)), PluginRef("dtm-plugins-github")],
         "cannot install dtm-plugins-github together with hash-pinned plugins: "
         "its registry entry lists no sha256"),
        ([PluginRef("dtm-plugins-argocd", ">=0.1", (SHA_A,))],
         "refusing to install 'dtm-plugins-argocd>=0.1': hashes need one exact '==' version"),
        ([PluginRef("dtm-plugins-argocd", "==0.1.0", ("sha256:aa\n--index-url=http://evil",))],
         "refusing to install 'dtm-plugins-argocd==0.1.0': malformed hash "
         "'sha256:aa\\n--index-url=http://evil', expected sha256:<hex>"),
        ([PluginRef("--index-url=http://evil/")],
         "refusing to install '--index-url=http://evil/': not a valid requirement"),
    ],
)
def test_unsafe_or_inconsistent_requirements_are_refused(
    fake_run: FakeRun, refs: list[PluginRef], message: str
) -> None:
    with pytest.raises(InstallerError) as caught:
        install_distributions(refs)

    assert caught.value.message == message
    assert fake_run.commands == []


# -- index and installer flavour --------------------------------------------------------------


def test_index_url_argument_wins_over_the_environment(
    fake_run: FakeRun, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DTM_PACKAGE_INDEX_URL", "https://env.example/simple/")
    ref = PluginRef("dtm-plugins-argocd")

    install_distributions([ref], index_url="https://arg.example/simple/")
    install_distributions([ref])
    monkeypatch.delenv("DTM_PACKAGE_INDEX_URL")
    monkeypatch.setenv("PIP_INDEX_URL", "https://pip-config.example/simple/")
    install_distributions([ref])

    assert [env["PIP_INDEX_URL"] for env in fake_run.envs] == [
        "https://arg.example/simple/",
        "https://env.example/simple/",
        "https://pip-config.example/simple/",
    ]
    # The URL may hold a token: it travels in the environment, never in argv.
    assert not any("example" in arg for command in fake_run.commands for arg in command)


def test_uv_is_told_which_python_to_install_into(
    fake_run: FakeRun, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(installer, "find_spec", lambda name: None)
    monkeypatch.setattr(shutil, "which", lambda name: "/usr/bin/uv")

    install_distributions([PluginRef("dtm-plugins-argocd", ">=0.1")],
                          index_url="https://idx.example/simple/")
    uninstall_distributions(["dtm-plugins-argocd"])

    assert fake_run.commands == [
        ["uv", "pip", "install", "--python", sys.executable, "dtm-plugins-argocd>=0.1"],
        ["uv", "pip", "uninstall", "--python", sys.executable, "dtm-plugins-argocd"],
    ]
    assert fake_run.envs[0]["UV_INDEX_URL"] == "https://idx.example/simple/"


def test_pip_uninstall_does_not_ask(fake_run: FakeRun) -> None:
    uninstall_distributions(["dtm-plugins-argocd", "dtm_plugins_github"])

    assert fake_run.commands == [[sys.executable, "-m", "pip", "uninstall", "-y",
                                  "dtm-plugins-argocd", "dtm_plugins_github"]]


def test_uninstall_refuses_what_is_not_a_name(fake_run: FakeRun) -> None:
    with pytest.raises(InstallerError) as caught:
        uninstall_distributions(["-r/etc/passwd"])

    assert caught.value.message == (
        "refusing to uninstall '-r/etc/passwd': not a valid distribution name"
    )
    assert fake_run.commands == []


# -- failures ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stderr", "culprit"),
    [(PIP_HASH_MISMATCH, "dtm-plugins-argocd"), (UV_HASH_MISMATCH, "dtm-plugins-jenkins")],
)
def test_hash_mismatch_names_the_distribution(
    fake_run: FakeRun, stderr: str, culprit: str
) -> None:
    fake_run.result = (1, "", stderr)

    with pytest.raises(InstallerError) as caught:
        install_distributions([PluginRef(culprit, "==0.1.0", (SHA_A,))])

    assert caught.value.message == (
        f"hash mismatch for {culprit}: the file on the package index differs from the "
        "registry's sha256"
    )
    assert caught.value.hint is not None and caught.value.hint.endswith(DEBUG_HINT)
    assert "u:pw@" not in "".join(caught.value.__notes__)


def test_uv_failure_is_reduced_to_its_cause(fake_run: FakeRun) -> None:
    fake_run.result = (2, "", "  × No solution found when resolving dependencies:\n"
                              "  ╰─▶ Because dtm-plugins-x was not found in the package registry "
                              "and you require dtm-plugins-x, we can conclude that your "
                              "requirements are unsatisfiable.\n")

    with pytest.raises(InstallerError) as caught:
        install_distributions([PluginRef("dtm-plugins-x")])

    assert caught.value.message == (
        "could not install dtm-plugins-x: Because dtm-plugins-x was not found in the package "
        "registry and you require dtm-plugins-x, we can conclude that your requirements are "
        "unsatisfiable."
    )


def _unreachable_index() -> str:
    # A port that was just free: connections to it are refused at once.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://alice:s3cret-token@127.0.0.1:{port}/simple/"


def test_a_real_pip_failure_is_one_masked_line(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("PIP_RETRIES", "0")
    monkeypatch.setenv("PIP_TIMEOUT", "1")
    progress: list[str] = []

    with caplog.at_level("DEBUG", logger="dtm_core.installer"):
        with pytest.raises(InstallerError) as caught:
            install_distributions([PluginRef("dtm-plugins-does-not-exist", "==9.9.9")],
                                  index_url=_unreachable_index(), progress=progress.append)

    assert caught.value.message == (
        "could not install dtm-plugins-does-not-exist: "
        "No matching distribution found for dtm-plugins-does-not-exist==9.9.9"
    )
    assert caught.value.hint == DEBUG_HINT
    notes = "".join(caught.value.__notes__)
    assert "alice:***@127.0.0.1" in notes
    everything = notes + caplog.text + "".join(progress) + str(caught.value.hint)
    assert "s3cret-token" not in everything
