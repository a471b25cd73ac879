"""What a cold ``dtm search`` imports: nothing costly beyond what click itself imports.

An import-set check, not a timing one (``python -m benches`` times it). A module that click
imports anyway is left out: ``inspect`` (click 8.2 and later), and ``pathlib`` where an
editable install's finder loads it from ``site``; a wheel install checks both.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

#: Each costs a millisecond or more to import, and searching the bundled index needs none.
COSTLY = ("dataclasses", "inspect", "pathlib", "packaging", "pluggy", "httpx", "jsonschema",
          "ruamel", "resolvelib", "filelock", "nacl", "tomllib")


def imported(args: list[str], home: Path) -> tuple[set[str], str]:
    """The modules ``python -X importtime ARGS`` imports, and what it printed."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("DTM_")}
    env.update(DTM_HOME=str(home), DTM_LOAD_PLUGINS="")
    done = subprocess.run([sys.executable, "-X", "importtime", *args], env=env, cwd=home,
                          capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60,
                          check=False)
    assert done.returncode == 0, done.stderr
    # Lines read "import time: <self us> | <cumulative us> | <indent><module>".
    modules = {line.rsplit("|", 1)[1].strip() for line in done.stderr.splitlines()
               if line.startswith("import time:") and line.count("|") == 2}
    return modules - {"imported package"}, done.stdout


def costly(modules: set[str]) -> list[str]:
    return sorted(name for name in modules if name.partition(".")[0] in COSTLY)


def test_search_imports_nothing_costly_beyond_click(tmp_path: Path) -> None:
    searched, output = imported(["-m", "dtm_core", "search", "argocd"], tmp_path)
    assert "argocd" in output  # the search itself ran, not only the start-up
    floor, _ = imported(["-c", "import click"], tmp_path)

    assert costly(searched - floor) == []


def test_the_check_sees_a_costly_import(tmp_path: Path) -> None:
    # Guards the parsing above: a check that never finds anything would always pass.
    modules, _ = imported(["-c", "import click, dataclasses, pathlib"], tmp_path)

    assert {"click", "dataclasses", "pathlib"} <= modules
    assert "dataclasses" in costly(modules)
