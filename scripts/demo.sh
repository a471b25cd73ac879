#!/usr/bin/env bash
# Set up .venv with dtm and run the package-manager demo offline (see scripts/demo.py).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
exec .venv/bin/python scripts/demo.py
