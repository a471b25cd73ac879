"""A canary password in the PostgreSQL state URL: dtm uses it, and never prints or keeps it.

The password is given in the URL's authority (URL-encoded) and as a ``password=`` parameter,
to the real ``dtm`` executable, through ``DTM_STATE_URL``, through ``state migrate --to env:``
and to a server that is not there (the error path), with and without ``--debug``. The
throwaway server trusts local connections, so any password gets in: what is checked is where
the password goes afterwards.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote

import pytest
from canaries import Canaries
from canaryworld import Run, run_dtm
from postgres import PostgresServer, postgres_server, postgres_url  # noqa: F401 - fixtures

pytestmark = pytest.mark.slow  # a PostgreSQL server


def with_password(url: str, password: str, *, as_parameter: bool) -> str:
    if as_parameter:
        return f"{url}?password={quote(password, safe='')}"
    return url.replace("postgresql://postgres@", f"postgresql://postgres:{quote(password, safe='')}@", 1)


@pytest.mark.parametrize("as_parameter", [False, True], ids=["in-authority", "as-parameter"])
def test_a_state_url_password_is_never_printed_or_kept(
        dtm_env: dict[str, str], postgres_url: str, postgres_server: PostgresServer,  # noqa: F811
        tmp_path: Path, as_parameter: bool) -> None:
    canaries = Canaries()
    url = with_password(postgres_url, canaries.new("state URL password").value, as_parameter=as_parameter)
    # Port 9 (discard) on loopback: nothing listens, the connection is refused at once.
    unreachable = with_password("postgresql://postgres@127.0.0.1:9/dtm",
                                canaries.new("password of an unreachable state URL").value,
                                as_parameter=as_parameter)
    env = dict(dtm_env, PATH="/usr/bin:/bin", NO_PROXY="127.0.0.1,localhost", STATE_URL=url)
    runs: list[Run] = []

    def dtm(*args: str, state_url: str | None = url, code: int = 0) -> Run:
        run = run_dtm(args, {**env, "DTM_STATE_URL": state_url} if state_url else env, tmp_path)
        runs.append(run)
        assert run.exit_code == code, run
        return run

    dtm("install", "alpha", "--set", "token=env:ALPHA_TOKEN", "-y")
    for debug in ((), ("--debug",)):
        for command in (("list",), ("history",), ("state", "list"), ("state", "show", "alpha.default")):
            dtm(*debug, *command)
            dtm(*debug, *command, "-o", "json")
        # Back to a local store and out again, the URL given by reference as the help advises.
        dtm(*debug, "state", "migrate", "--to", f"local:{tmp_path / 'copy'}", "--force", "-y")
        dtm(*debug, "state", "migrate", "--from", f"local:{tmp_path / 'copy'}", "--to", "env:STATE_URL",
            "--force", "-y", state_url=None)
        failed = dtm(*debug, "state", "list", state_url=unreachable, code=1)
        assert "cannot" in failed.stderr and "127.0.0.1:9" in failed.stderr, failed
    assert json.loads(dtm("list", "-o", "json").stdout)[0]["address"] == "alpha.default"

    leaks = canaries.leaks_in_files([Path(env["DTM_HOME"]), tmp_path / "copy"])
    for run in runs:
        leaks += canaries.leaks_in(f"stdout of dtm {' '.join(run.args)}", run.stdout)
        leaks += canaries.leaks_in(f"stderr of dtm {' '.join(run.args)}", run.stderr)
    assert [str(leak) for leak in leaks] == []
