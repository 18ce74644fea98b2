"""An admin account for the live check, made on the project's own staging with `create-admin`.

The credentials live in the project's git-ignored .shipyard/ folder, so later runs reuse the
same account instead of making a new one each time.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
from pathlib import Path

from wizard import envfile
from wizard.checklist.results import Skip

STATE_FILE = "check-admin.json"
ADMIN_EMAIL = "shipyard-check-admin-{suffix}@example.com"


def staging_admin(project: Path, target: str) -> tuple[str, str]:
    """(email, password) of an admin on the project's running staging; Skip when none can be made."""
    stored = _read(project)
    if stored:
        return stored
    email = ADMIN_EMAIL.format(suffix=secrets.token_hex(4))
    password = secrets.token_urlsafe(24)
    argv = ["python", "-m", "app", "create-admin", "--email", email, "--password", password]
    if target == "local":
        _run_local(project, argv)
    elif target == "docker":
        _run_docker(project, argv)
    else:
        raise Skip(f"Shipyard cannot make an admin on a {target} staging")
    _write(project, email, password)
    return email, password


def forget(project: Path) -> None:
    """Drop remembered credentials that no longer work (the database was reset)."""
    (project / ".shipyard" / STATE_FILE).unlink(missing_ok=True)


def _read(project: Path) -> tuple[str, str] | None:
    try:
        data = json.loads((project / ".shipyard" / STATE_FILE).read_text(encoding="utf-8"))
        return str(data["email"]), str(data["password"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write(project: Path, email: str, password: str) -> None:
    from wizard.staging import state_dir

    path = state_dir(project) / STATE_FILE
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump({"email": email, "password": password}, handle)


def _run_local(project: Path, argv: list[str]) -> None:
    from wizard.staging.local import venv_python

    python = venv_python(project)
    if not python.exists():
        raise Skip("the project's .venv is missing, so no admin could be made for the check")
    env = dict(os.environ)
    env.pop("DATABASE_URL", None)  # the local target runs on the project's SQLite file
    env.update(envfile.read_env(project))
    try:
        result = subprocess.run(
            [str(python), *argv[1:]],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise Skip(f"`python -m app create-admin` could not run: {exc}") from None
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["(no output)"]
        raise Skip(f"`python -m app create-admin` failed: {tail[0]}")


def _run_docker(project: Path, argv: list[str]) -> None:
    try:
        from wizard.staging import engine, services
        from wizard.staging.plan import load_plan

        plan = load_plan(project)
        client = engine.connect()
        container = services.find_container(client, plan, "api")
        if container is None:
            raise Skip("the staging API container is not running")
        code, output = container.exec_run(argv)
    except Skip:
        raise
    except Exception as exc:  # the Docker SDK and staging raise their own kinds
        raise Skip(f"no admin could be made in the staging container: {exc}") from None
    if code != 0:
        tail = (output or b"").decode(errors="replace").strip().splitlines()[-1:] or ["(no output)"]
        raise Skip(f"`python -m app create-admin` failed in the container: {tail[0]}")
