# Sourced by scripts/demo and scripts/test: make the project's virtual environments, installing
# only what is missing. .venv: the ecsguard package + dev tools (Python 3.13). .venv-sam: the SAM
# CLI, kept apart because it pins its own boto3. .venv-checkov: checkov, apart for the same reason
# (about 30 s to install, 5 s to scan the template).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PIP_DISABLE_PIP_VERSION_CHECK=1 SAM_CLI_TELEMETRY=0

find_python313() {
  local candidate
  for candidate in "${PYTHON:-}" python3.13 "$(command -v pyenv >/dev/null 2>&1 && pyenv root)"/versions/3.13*/bin/python3.13 /usr/local/bin/python3.13 /usr/bin/python3.13; do
    [ -n "$candidate" ] || continue
    if "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))' >/dev/null 2>&1; then
      "$candidate" -c 'import sys; print(sys.executable)'
      return 0
    fi
  done
  echo "ecsguard: Python 3.13 not found; install it or set PYTHON=/path/to/python3.13" >&2
  return 1
}

ensure_venv() {  # ensure_venv DIR STAMP-SOURCE pip-args...
  local dir=$1 stamp_source=$2; shift 2
  local stamp; stamp=$(cat $stamp_source | sha256sum | cut -c1-16)
  if [ ! -x "$dir/bin/python" ] || [ "$(cat "$dir/.ecsguard-stamp" 2>/dev/null)" != "$stamp" ]; then
    echo "ecsguard: setting up $dir ..." >&2
    rm -rf "$dir"
    "$(find_python313)" -m venv "$dir"
    "$dir/bin/python" -m pip install --quiet --upgrade pip
    "$dir/bin/python" -m pip install --quiet "$@"
    echo "$stamp" > "$dir/.ecsguard-stamp"
  fi
}

ensure_runtime_venv() { ensure_venv .venv "pyproject.toml layers/ecsguard/requirements.txt" -e ".[dev]"; }
ensure_sam_venv() { ensure_venv .venv-sam "scripts/sam-requirements.txt" -r scripts/sam-requirements.txt; }
ensure_checkov_venv() { ensure_venv .venv-checkov "scripts/checkov-requirements.txt" -r scripts/checkov-requirements.txt; }
