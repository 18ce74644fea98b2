"""`--target local`: the rendered API as a background process on SQLite, in the project's own venv."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from wizard import envfile
from wizard.errors import BadInput, ShipyardError
from wizard.events import Event, EventSink, ignore
from wizard.staging import Staging, state_dir

TARGET = "local"
HOST = "127.0.0.1"
VENV = ".venv"
STATE_FILE = "local.json"
LOG_FILE = "local.log"
PORT_FILE = "local-port"
# The address the rendered README tells a frontend to use; taken only when free.
PREFERRED_PORT = 8000
STAMP_FILE = ".shipyard-installed"
HEALTH_TIMEOUT = 90.0
STOP_TIMEOUT = 10.0
INSTALL_TIMEOUT = 1800.0
MIGRATE_TIMEOUT = 300.0
# Words in pip's output that mean it could not reach the package index.
_NETWORK_TROUBLE = ("connection", "name resolution", "timed out", "no matching distribution")


def up(project: Path, on_event: EventSink | None = None) -> Staging:
    """Start the API (or report the one already running) and wait until /health answers."""
    emit = on_event or ignore
    project = _project(project)
    current = status(project)
    if current.running:
        emit(Event("up", f"Already running at {current.api_url}"))
        return current
    _state_path(project).unlink(missing_ok=True)

    python = ensure_venv(project, emit)
    env = _environment(project)
    emit(Event("migrate", "Applying database migrations (alembic upgrade head)"))
    _run(
        [str(python), "-m", "alembic", "upgrade", "head"],
        project,
        env,
        MIGRATE_TIMEOUT,
        "apply the database migrations",
    )

    # Shipyard binds the port itself and hands the socket to uvicorn (--fd): between choosing
    # a port and serving on it nobody else can take it, and /health is asked of our API only.
    listener, moved = _listen(project)
    port = int(listener.getsockname()[1])
    if moved:
        emit(Event("port", moved))
    url = f"http://{HOST}:{port}"
    emit(Event("start", f"Starting the API on {url}"))
    with listener:
        process = _start(project, python, env, listener)
    _write_state(project, {"pid": process.pid, "port": port, "api_url": url})
    try:
        problem = _wait_healthy(url, process, HEALTH_TIMEOUT)
    except BaseException:  # Ctrl-C while waiting: leave nothing running behind
        _stop_pid(process.pid)
        _state_path(project).unlink(missing_ok=True)
        raise
    if problem is None:
        emit(Event("ready", f"The API answers at {url}"))
        running = status(project)
        if moved:
            running.details["moved"] = moved
        return running
    _stop_pid(process.pid)
    _state_path(project).unlink(missing_ok=True)
    raise ShipyardError(
        f"The API did not start: {problem}.\n{_log_tail(project)}",
        hint=f"The full log is in {_log_path(project)}. Fix what it says, then run `shipyard up` again.",
    )


def down(project: Path, on_event: EventSink | None = None, *, volumes: bool = False) -> bool:
    """Stop the local API; with `volumes`, also delete its SQLite data. False when there was
    nothing to stop or delete. Asking the founder first is the caller's job."""
    emit = on_event or ignore
    project = _project(project)
    state = _read_state(project)
    _state_path(project).unlink(missing_ok=True)
    pid = state.get("pid") if state else None
    stopped = False
    if isinstance(pid, int) and _is_ours(pid):
        emit(Event("down", f"Stopping the API (process {pid})"))
        _stop_pid(pid)
        stopped = True
    else:
        emit(Event("down", "Nothing was running"))
    if not volumes:
        return stopped
    files = data_files(project)
    for path in files:
        emit(Event("down", f"Deleting {path.name}"))
        path.unlink(missing_ok=True)
    if not files:
        emit(Event("down", "There was no local database to delete"))
    return stopped or bool(files)


def data_files(project: Path) -> list[Path]:
    """The local target's SQLite database and its journal files, as they are now."""
    project = Path(project).resolve()
    database = _database_file(project)
    candidates = [database] if database else sorted(project.glob("*.db"))
    files: list[Path] = []
    for path in candidates:
        for suffix in ("", "-journal", "-wal", "-shm"):
            extra = path.with_name(path.name + suffix)
            if extra.is_file():
                files.append(extra)
    return files


def apply_update(project: Path, on_event: EventSink | None = None) -> Staging:
    """Put the running API on the code as it is now: stop it, install what pyproject.toml
    asks for, run the migrations once and start it again, waiting until /health answers.

    A failure leaves the API stopped (its message says why); the code on disk is the new one."""
    emit = on_event or ignore
    project = _project(project)
    if status(project).running:
        emit(Event("update", "Stopping the local API to start it on the new code"))
        down(project, emit)
    return up(project, emit)


def backup(project: Path, on_event: EventSink | None = None) -> Path:
    """A copy of the local SQLite database in the project's git-ignored backups/ folder.

    Taken with SQLite's own backup API, so a write of the running API is never half-copied."""
    import sqlite3
    from datetime import UTC, datetime

    from wizard.staging.plan import backups_dir

    emit = on_event or ignore
    project = _project(project)
    databases = [path for path in data_files(project) if path.suffix == ".db"]
    if not databases:
        raise ShipyardError(
            "The local staging has no SQLite database yet, so there is nothing to back up.",
            hint="Start it with `shipyard up --target local`, then run the command again.",
        )
    source = databases[0]
    folder = backups_dir(project)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    dest = folder / f"{source.stem}-{stamp}.db"
    counter = 1
    while dest.exists():
        counter += 1
        dest = folder / f"{source.stem}-{stamp}-{counter}.db"
    emit(Event("backup", f"Copying the local database {source.name} to {dest}"))
    partial = dest.with_name(f".partial-{dest.name}")
    try:
        with (
            contextlib.closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as src,
            contextlib.closing(sqlite3.connect(partial)) as out,
        ):
            src.backup(out)
        os.chmod(partial, 0o600)  # every user's data is in there
        os.replace(partial, dest)
    except sqlite3.Error as exc:
        raise ShipyardError(
            f"Could not copy the local database {source.name}: {exc}.",
            hint="Check that the file is readable and the disk is not full, then try again.",
        ) from None
    finally:
        partial.unlink(missing_ok=True)
    return dest


def _database_file(project: Path) -> Path | None:
    """The SQLite file .env's DATABASE_URL names inside the project, if it names one."""
    url = envfile.read_env(project).get("DATABASE_URL", "").strip()
    if not url.startswith("sqlite"):
        return None
    raw = url.split(":///", 1)[1] if ":///" in url else ""
    path = (project / raw).resolve() if raw else None
    return path if path and path.is_relative_to(project) else None


def status(project: Path) -> Staging:
    """Whether the local API runs, and where."""
    project = _project(project)
    state = _read_state(project)
    pid = state.get("pid") if state else None
    if isinstance(pid, int) and _is_ours(pid):
        return Staging(
            TARGET,
            True,
            str(state["api_url"]),
            details={"pid": str(pid), "log": str(_log_path(project))},
        )
    details = {}
    if state:
        details["note"] = f"it stopped unexpectedly; see {_log_path(project)}"
    return Staging(TARGET, False, details=details)


# --- the project's virtualenv -------------------------------------------------------------


def venv_python(project: Path) -> Path:
    folder = "Scripts" if os.name == "nt" else "bin"
    return project / VENV / folder / ("python.exe" if os.name == "nt" else "python")


def ensure_venv(project: Path, emit: EventSink = ignore) -> Path:
    """Create project/.venv and install the project into it, unless that is already done."""
    venv = project / VENV
    python = venv_python(project)
    if not python.exists():
        emit(Event("venv", f"Creating a virtual environment in {venv}"))
        _run(
            [sys.executable, "-m", "venv", str(venv)],
            project,
            None,
            300,
            "create a virtual environment",
            hint="On Debian or Ubuntu, install python3-venv (apt-get install python3-venv).",
        )
        # Keeps the venv out of git even if the project's .gitignore forgets it.
        (venv / ".gitignore").write_text("*\n", encoding="utf-8")
    stamp = venv / STAMP_FILE
    wanted = hashlib.sha256((project / "pyproject.toml").read_bytes()).hexdigest()
    if not stamp.exists() or stamp.read_text(encoding="utf-8").strip() != wanted:
        emit(Event("install", "Installing the backend's dependencies into .venv (a minute or two)"))
        try:
            pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
            _run(
                [*pip, "-e", "."],
                project,
                None,
                INSTALL_TIMEOUT,
                "install the backend's dependencies",
            )
        except ShipyardError as exc:
            if any(sign in exc.message.lower() for sign in _NETWORK_TROUBLE):
                exc.hint = (
                    "Check the internet connection (pip needs to reach PyPI), then try again."
                )
            raise
        stamp.write_text(wanted + "\n", encoding="utf-8")
    return python


# --- helpers --------------------------------------------------------------------------------


def _listen(project: Path) -> tuple[socket.socket, str | None]:
    """A listening socket on this project's port, and why the port moved if it did: chosen
    once, kept in .shipyard/, changed only when another program holds it (so the frontend
    keeps the same address)."""
    path = state_dir(project) / PORT_FILE
    try:
        stored: int | None = int(path.read_text(encoding="utf-8").strip())
    except (OSError, ValueError):
        stored = None
    listener = _bound(stored if stored is not None else PREFERRED_PORT) or _bound(0)
    if listener is None:
        raise ShipyardError(
            f"Could not listen on any port of {HOST}.",
            hint="Stop some programs that listen on ports, then run `shipyard up` again.",
        )
    port = int(listener.getsockname()[1])
    path.write_text(f"{port}\n", encoding="utf-8")
    if stored is None and port != PREFERRED_PORT:
        # The project's README tells a frontend port 8000: say why this one differs.
        return listener, (
            f"Port {PREFERRED_PORT} is taken by another program, so the API uses port {port} "
            f"and keeps it from now on: tell your frontend http://{HOST}:{port} (the "
            f"project's README says port {PREFERRED_PORT})"
        )
    if stored is None or stored == port:
        return listener, None
    return listener, (
        f"Port {stored} is taken by another program, so the API moved to port {port} and keeps "
        f"it from now on: tell your frontend the new address, http://{HOST}:{port}"
    )


def _bound(port: int) -> socket.socket | None:
    """A socket listening on `port` of 127.0.0.1 (0: any free one), or None when it is taken."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(
        socket.SOL_SOCKET, socket.SO_REUSEADDR, 1
    )  # as uvicorn binds: TIME_WAIT is free
    try:
        sock.bind((HOST, port))
        sock.listen(2048)
    except OSError:
        sock.close()
        return None
    return sock


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _project(project: Path) -> Path:
    project = Path(project).resolve()
    if not (project / "pyproject.toml").is_file() or not (project / "app").is_dir():
        raise BadInput(
            f"{project} does not look like a project Shipyard created (no pyproject.toml or app/).",
            hint="Run the command inside the project folder, or pass it with -C DIR.",
        )
    return project


def _environment(project: Path) -> dict[str, str]:
    env = dict(os.environ)
    # The local target runs on the project's SQLite file, not on whatever the shell points at.
    env.pop("DATABASE_URL", None)
    env.update(envfile.read_env(project))
    env["VIRTUAL_ENV"] = str(project / VENV)
    env["PATH"] = f"{venv_python(project).parent}{os.pathsep}{env.get('PATH', '')}"
    env.pop("PYTHONHOME", None)
    return env


def _run(
    argv: list[str],
    cwd: Path,
    env: dict[str, str] | None,
    timeout: float,
    action: str,
    hint: str | None = None,
) -> None:
    try:
        result = subprocess.run(
            argv,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise ShipyardError(
            f"Could not {action}: it took longer than {int(timeout)} seconds.", hint=hint
        ) from None
    except OSError as exc:
        raise ShipyardError(f"Could not {action}: {exc}.", hint=hint) from None
    if result.returncode != 0:
        output = (result.stderr or result.stdout).strip().splitlines()[-15:]
        raise ShipyardError(
            f"Could not {action}:\n" + "\n".join(f"  {line}" for line in output),
            hint=hint or "Fix what the lines above say, then run the command again.",
        )


def _start(
    project: Path, python: Path, env: dict[str, str], listener: socket.socket
) -> subprocess.Popen[bytes]:
    log = _log_path(project)
    fd = listener.fileno()
    with log.open("wb") as out:  # this run's log only, so its tail explains this run
        return subprocess.Popen(
            [str(python), "-m", "uvicorn", "app.main:app", "--fd", str(fd)],
            cwd=project,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            pass_fds=(fd,),
            start_new_session=True,  # survives the shell that ran `shipyard up`
        )


def _wait_healthy(url: str, process: subprocess.Popen[bytes], timeout: float) -> str | None:
    """None once GET /health answers 200; otherwise why it never did."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return f"the process exited with code {process.returncode}"
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
                if response.status == 200:
                    return None
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.25)
    return f"/health did not answer within {int(timeout)} seconds"


def _alive(pid: int) -> bool:
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)  # reaps it if it is our own exited child
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    stat = Path(f"/proc/{pid}/stat")
    with contextlib.suppress(OSError):
        return stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"
    return True


def _is_ours(pid: int) -> bool:
    """Alive, and (where /proc tells) still a uvicorn process rather than a reused pid."""
    if not _alive(pid):
        return False
    cmdline = Path(f"/proc/{pid}/cmdline")
    with contextlib.suppress(OSError):
        return b"uvicorn" in cmdline.read_bytes()
    return True


def _stop_pid(pid: int) -> None:
    for sig, wait in ((signal.SIGTERM, STOP_TIMEOUT), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, sig)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if not _alive(pid):
                return
            time.sleep(0.1)


def _state_path(project: Path) -> Path:
    return state_dir(project) / STATE_FILE


def _log_path(project: Path) -> Path:
    return state_dir(project) / LOG_FILE


def _read_state(project: Path) -> dict[str, object]:
    try:
        data = json.loads(_state_path(project).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_state(project: Path, state: dict[str, object]) -> None:
    _state_path(project).write_text(json.dumps(state, indent=2) + "\n", encoding="utf-8")


def _log_tail(project: Path, lines: int = 15) -> str:
    try:
        text = _log_path(project).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(f"  {line}" for line in text.splitlines()[-lines:])
