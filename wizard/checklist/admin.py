"""An admin account for the live check, made on the project's own staging with `create-admin`.

The credentials live in the project's git-ignored .shipyard/ folder, so later runs reuse the
same account instead of making a new one each time.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
from pathlib import Path
from typing import Any

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
    # "--password=...": a token_urlsafe password may start with "-", which argparse would
    # take for an option.
    argv = ["python", "-m", "app", "create-admin", f"--email={email}", f"--password={password}"]
    if target == "local":
        _run_local(project, argv)
    elif target == "docker":
        _run_docker(project, argv)
    else:
        raise Skip(f"Shipyard cannot make an admin on a {target} staging")
    _write(project, email, password)
    return email, password


def staging_outbox(project: Path, target: str) -> list[dict[str, str]]:
    """The staging app's outbox, newest first, read inside staging without signing in.

    This is how the check signs in on an app with no password login (magic link or phone
    only), where even an admin needs the outbox to get in.
    """
    argv = ["python", "-m", "app", "outbox"]
    output = _run_local(project, argv) if target == "local" else _run_docker(project, argv)
    messages = json_answer(output, "python -m app outbox")
    if not isinstance(messages, list):
        raise Skip("`python -m app outbox` did not answer a list of messages")
    return [m for m in messages if isinstance(m, dict)]


def promote(project: Path, target: str, user_id: int) -> None:
    """Make an account an admin inside staging (for apps where admins cannot sign in by email)."""
    argv = ["python", "-m", "app", "grant-admin", f"--user-id={int(user_id)}"]
    output = _run_local(project, argv) if target == "local" else _run_docker(project, argv)
    answer = json_answer(output, "python -m app grant-admin")
    if not (isinstance(answer, dict) and answer.get("granted") is True):
        raise Skip("the test admin could not be made inside staging")


def run_app_command(project: Path, target: str, argv: list[str]) -> str:
    """Run one of the app's own commands (`python -m app ...`) inside the project's running
    staging; its output. Skip with the reason when it cannot run or fails."""
    if target == "local":
        return _run_local(project, argv)
    if target == "docker":
        return _run_docker(project, argv)
    raise Skip(f"Shipyard cannot run the app's commands on a {target} staging")


def json_answer(output: str, command: str) -> Any:
    """The JSON document an app command printed (its logs may come before or after it)."""
    decoder = json.JSONDecoder()
    for match in re.finditer(r"^[\[{]", output, flags=re.MULTILINE):
        try:
            return decoder.raw_decode(output, match.start())[0]
        except ValueError:
            continue
    if "invalid choice" in output:
        raise Skip(
            f"the project has no `{command}` command (it was rendered by an older Shipyard: "
            "`shipyard update` renders it again)"
        )
    raise Skip(f"`{command}` printed no JSON: {' | '.join(output.strip().splitlines()[-2:])}")


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


def _run_local(project: Path, argv: list[str]) -> str:
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
        raise Skip(f"`{' '.join(argv[:4])}` could not run: {exc}") from None
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["(no output)"]
        raise Skip(f"`{' '.join(argv[:4])}` failed: {tail[0]}")
    return result.stdout


def _run_docker(project: Path, argv: list[str]) -> str:
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
        raise Skip(f"the staging container could not run `{' '.join(argv[:4])}`: {exc}") from None
    # Without stream=True, exec_run hands back the whole output as bytes.
    text = output.decode(errors="replace") if isinstance(output, bytes) else ""
    if code != 0:
        tail = text.strip().splitlines()[-1:] or ["(no output)"]
        raise Skip(f"`{' '.join(argv[:4])}` failed in the container: {tail[0]}")
    return text
