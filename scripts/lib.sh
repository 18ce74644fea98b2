# Shared by scripts/try-it and scripts/test: find Python 3.11+, make the venv, install Shipyard.
# Source it; it sets ROOT, VENV and PY (the venv's python).

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${SHIPYARD_VENV:-$ROOT/.venv}"
PY="$VENV/bin/python"
export PIP_DISABLE_PIP_VERSION_CHECK=1

if [ -t 2 ]; then bold=$'\033[1m' red=$'\033[31m' plain=$'\033[0m'; else bold= red= plain=; fi
say() { printf '%s==> %s%s\n' "$bold" "$*" "$plain" >&2; }
die() { printf '%sError: %s%s\n' "$red" "$*" "$plain" >&2; exit 1; }

# Run a command as root: directly when we are root, through sudo otherwise.
as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else return 1
  fi
}

apt_install() {
  command -v apt-get >/dev/null 2>&1 || return 1
  say "Installing $* from Debian's packages"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null &&
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

find_python() {
  local candidate
  for candidate in ${SHIPYARD_PYTHON:-} python3.13 python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
      "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      command -v "$candidate"
      return 0
    fi
  done
  return 1
}

# Create the venv (once) and install Shipyard into it, with extras given as "$1" (e.g. "[dev]").
ensure_shipyard() {
  local extras="${1:-}" python
  if [ ! -x "$PY" ]; then
    python="$(find_python)" || die "Shipyard needs Python 3.11 or newer (python3 --version to check)."
    say "Creating a virtual environment in $VENV"
    if ! "$python" -m venv "$VENV" 2>/dev/null; then
      rm -rf "$VENV"
      # Debian ships venv's pip bootstrap separately.
      apt_install python3-venv || die "Could not create a virtual environment; install python3-venv and retry."
      "$python" -m venv "$VENV" || die "Could not create a virtual environment in $VENV."
    fi
  fi
  say "Installing Shipyard$extras into $VENV"
  pip_install --upgrade pip
  pip_install -e "$ROOT$extras"
}

# pip install, quiet; drops this machine's noise about missing local package mirrors.
pip_install() {
  local status=0
  "$PY" -m pip install --quiet "$@" 2> >(grep -v "^WARNING: Location 'file:" >&2) || status=$?
  return "$status"
}
