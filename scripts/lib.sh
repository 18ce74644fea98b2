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

# Leave `shipyard` runnable as typed, the way pip and pipx leave a user's commands: a link in
# ~/.local/bin to the venv's console script. A `shipyard` there that is not such a link (a pipx
# install, say) is left alone. Sets SHIPYARD_AS to how to type the command from now on.
install_shim() {
  local bin="${XDG_BIN_HOME:-$HOME/.local/bin}" link
  link="$bin/shipyard"
  SHIPYARD_AS="$VENV/bin/shipyard"
  if [ -e "$link" ] && ! { [ -L "$link" ] && [[ "$(readlink "$link")" == */bin/shipyard ]]; }; then
    say "$link is another program, so it was left alone; this checkout's Shipyard is $SHIPYARD_AS"
    return 0
  fi
  mkdir -p "$bin" && ln -sfn "$VENV/bin/shipyard" "$link" || {
    say "Could not link $link; run Shipyard as $SHIPYARD_AS"
    return 0
  }
  case ":$PATH:" in
    *":$bin:"*) SHIPYARD_AS=shipyard ;;
    *)
      SHIPYARD_AS="$link"
      say "shipyard is now in $bin, which is not on your PATH yet. Type this once in this terminal:"
      say "  export PATH=\"$bin:\$PATH\""
      say "(and add that line to ~/.bashrc or ~/.profile for new terminals); until then run $link"
      ;;
  esac
}

# Which staging scripts/try-it starts, and why, as "TARGET<tab>the reason in words":
# SHIPYARD_TARGET when set; Docker when an engine answers; a local process otherwise.
choose_target() {
  if [ -n "${SHIPYARD_TARGET:-}" ]; then
    printf '%s\t%s\n' "$SHIPYARD_TARGET" "$SHIPYARD_TARGET, as SHIPYARD_TARGET says"
  elif ! command -v docker >/dev/null 2>&1; then
    printf 'local\t%s\n' "a local process on SQLite, because Docker is not installed (SHIPYARD_TARGET=docker chooses Docker)"
  elif ! docker info >/dev/null 2>&1; then
    printf 'local\t%s\n' "a local process on SQLite, because no Docker engine answers (start Docker for the API and PostgreSQL in containers)"
  else
    printf 'docker\t%s\n' "Docker staging (the API and PostgreSQL in containers), because a Docker engine answers"
  fi
}
