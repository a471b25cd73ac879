#!/usr/bin/env bash
# dtm's main job, offline: set up .venv with dtm and its seed plugins, start the sandbox (every
# emulator on loopback), apply examples/quickstart.yaml (a GitHub repository, Actions CI, Argo CD
# and an application), show status and what kubectl sees, destroy it, and stop the sandbox.
# Usage: bash scripts/quickstart.sh        (a fresh machine: Python 3.11 + pip)
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
.venv/bin/python -m pip install --quiet --disable-pip-version-check \
  -e . -e ./dtm_plugins_github -e ./dtm_plugins_argocd -e ./dtm_plugins_jenkins
PATH="$PWD/.venv/bin:$PATH"

# A home of its own, so the quickstart never touches your dtm state or kubeconfig.
DTM_HOME="$(mktemp -d)/dtm"
export DTM_HOME
trap 'dtm sandbox down --purge >/dev/null 2>&1 || true' EXIT
SECONDS=0

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }

step dtm sandbox up
echo '$ eval "$(dtm sandbox env)"'
eval "$(dtm sandbox env)"
step dtm plan -f examples/quickstart.yaml
step dtm apply -f examples/quickstart.yaml -y
step dtm status -f examples/quickstart.yaml
if command -v kubectl >/dev/null; then
  step kubectl get deployments,applications -A
fi
step dtm plan -f examples/quickstart.yaml --detailed-exitcode
step dtm destroy -f examples/quickstart.yaml -y
step dtm sandbox down --purge
trap - EXIT
printf '\nquickstart finished in %d s (sandbox up, apply, status, destroy, down)\n' "$SECONDS"
