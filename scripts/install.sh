#!/usr/bin/env bash
# Shared set-up of ./run and ./test: the virtual environment, Python and npm packages.
# Sourced, not run. Re-installs only what changed since the last run (stamps under .venv/).
set -euo pipefail

PYTHON=${PYTHON:-python3}
extras=${RENCAI_EXTRAS:-}

if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv"
  "$PYTHON" -m venv .venv
fi

stamp_py=".venv/.rencai-installed${extras:+-$extras}"
want_py=$(cat pyproject.toml | sha256sum | cut -d' ' -f1)
if [ ! -f "$stamp_py" ] || [ "$(cat "$stamp_py")" != "$want_py" ]; then
  echo "==> installing Python packages"
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e ".${extras:+[$extras]}"
  echo "$want_py" > "$stamp_py"
fi

stamp_npm="node_modules/.rencai-installed"
want_npm=$(cat package-lock.json | sha256sum | cut -d' ' -f1)
if [ ! -f "$stamp_npm" ] || [ "$(cat "$stamp_npm")" != "$want_npm" ]; then
  if ! command -v npm >/dev/null 2>&1; then
    echo "npm is needed to install the front-end packages (apt-get install nodejs npm)" >&2
    exit 1
  fi
  echo "==> installing front-end packages (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$want_npm" > "$stamp_npm"
fi

export PATH="$PWD/.venv/bin:$PATH"
