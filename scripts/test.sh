#!/usr/bin/env bash
# Set up .venv with dtm, the seed plugins and the test tools, then run the whole test suite.
# Usage: bash scripts/test.sh [pytest args...]     (works on a fresh machine: Python 3.11 + pip)
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
.venv/bin/python -m pip install --quiet --disable-pip-version-check \
  -e '.[test]' -e ./dtm_plugins_github -e ./dtm_plugins_argocd -e ./dtm_plugins_jenkins
# The pytest script, not "python -m pytest": the latter puts the checkout on sys.path, where
# each plugin's source folder would shadow its installed package as a namespace package.
exec .venv/bin/pytest "$@"
