"""Regression: dtm's data and cache roots, made on the way to ``state/`` and ``artifacts/``, were 0755,
and the sandbox lock 0644.

Found by the canary run (test_secret_canaries.py); run here in-process against the test plugin.
"""

from __future__ import annotations

import stat
from pathlib import Path

from dtm_harness import DtmHarness

from dtm_core.paths import make_private_dirs


def test_dtm_home_and_its_directories_are_made_owner_only(dtm: DtmHarness) -> None:
    assert dtm.run("install", "alpha", "-y").exit_code == 0

    made = [dtm.home, dtm.home / "data", dtm.home / "data" / "state", dtm.home / "cache"]
    assert {str(path): oct(stat.S_IMODE(path.stat().st_mode)) for path in made} == {
        str(path): "0o700" for path in made}


def test_make_private_dirs_leaves_existing_parents_alone(tmp_path: Path) -> None:
    tmp_path.chmod(0o755)
    made = make_private_dirs(tmp_path / "a" / "b")
    assert made.is_dir()
    assert stat.S_IMODE(tmp_path.stat().st_mode) == 0o755
    assert {oct(stat.S_IMODE(path.stat().st_mode)) for path in (tmp_path / "a", made)} == {"0o700"}


def test_the_sandbox_lock_is_owner_only(dtm: DtmHarness) -> None:
    # Found by the canary run too: 0644, where the state lock beside it is 0600.
    assert dtm.run("sandbox", "down").exit_code == 0  # takes the lock even with no sandbox running

    assert stat.S_IMODE((dtm.home / "data" / "sandbox.lock").stat().st_mode) == 0o600
