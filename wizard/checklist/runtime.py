"""Checks that run the project's own code in its virtualenv: migrations, production routes, limits,
and a fresh render of the spec compared with the files on disk."""

from __future__ import annotations

import filecmp
import os
import secrets
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wizard import envfile
from wizard.checklist.context import CheckContext, check
from wizard.checklist.results import Finding, Outcome, Skip
from wizard.errors import ShipyardError

RUN_TIMEOUT = 180
# Files Shipyard writes beside the render (not part of the blueprint's output).
_NOT_RENDERED = {"shipyard.yaml", ".env"}
_SKIPPED_DIRS = {
    ".git",
    ".venv",
    ".shipyard",
    "__pycache__",
    ".pytest_cache",
    ".ruff_cache",
    ".mypy_cache",
    "backups",
    "node_modules",
}


@dataclass
class Ran:
    code: int
    output: str


class ProjectCode:
    """Where the project's own code runs: its .venv, else its Docker staging image.

    `scratch` is a folder the code may write throwaway files to, as the code sees it.
    """

    def __init__(self, project: Path) -> None:
        from wizard.staging.local import venv_python

        self.project = project
        self.python = venv_python(project)
        self.in_docker = False
        self.scratch = ""
        self._folder: tempfile.TemporaryDirectory[str] | None = None
        if not self.python.exists():
            self._choose_docker()

    def _choose_docker(self) -> None:
        from wizard import staging

        no_venv = "the project's virtual environment (.venv) does not exist yet"
        try:
            target = staging.default_target(self.project)
        except ShipyardError:
            target = "local"
        if target != "docker":
            raise Skip(f"{no_venv}; `shipyard up --target local` creates it")
        self.in_docker = True

    def __enter__(self) -> ProjectCode:
        if self.in_docker:
            from wizard.staging import oneoff

            self.scratch = oneoff.SCRATCH
        else:
            self._folder = tempfile.TemporaryDirectory(prefix="shipyard-check-")
            self.scratch = self._folder.name
        return self

    def __exit__(self, *exc: object) -> None:
        if self._folder is not None:
            self._folder.cleanup()

    def scratch_env(self, environment: str = "development") -> dict[str, str]:
        """Settings for running the app's code against a throwaway SQLite file."""
        return {
            "DATABASE_URL": f"sqlite:///{self.scratch}/check.db",
            "ENVIRONMENT": environment,
            "SECRET_KEY": secrets.token_urlsafe(48),
        }

    def run(self, args: list[str], env: dict[str, str] | None = None) -> Ran:
        """Run the project's Python in the project folder, with .env plus `env` on top."""
        settings = {**envfile.read_env(self.project), **(env or {})}
        if self.in_docker:
            return self._run_in_docker(args, settings)
        environ = dict(os.environ)
        environ.pop("DATABASE_URL", None)
        environ.update(settings)
        environ["VIRTUAL_ENV"] = str(self.python.parent.parent)
        environ["PYTHONDONTWRITEBYTECODE"] = "1"
        try:
            result = subprocess.run(
                [str(self.python), *args],
                cwd=self.project,
                env=environ,
                capture_output=True,
                text=True,
                timeout=RUN_TIMEOUT,
                check=False,
                stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired:
            raise Skip(f"the project's code took longer than {RUN_TIMEOUT} seconds") from None
        except OSError as exc:
            raise Skip(f"the project's Python could not run: {exc}") from None
        return Ran(result.returncode, (result.stdout or "") + (result.stderr or ""))

    def _run_in_docker(self, args: list[str], settings: dict[str, str]) -> Ran:
        from wizard.staging import oneoff

        try:
            code, output = oneoff.run_python(self.project, args, settings, RUN_TIMEOUT)
        except TimeoutError:
            raise Skip(
                f"the project's code took longer than {RUN_TIMEOUT} seconds in Docker"
            ) from None
        except ShipyardError as exc:
            raise Skip(
                "the project has no .venv and its code could not run in Docker: "
                f"{exc.message}{' (' + exc.hint + ')' if exc.hint else ''}"
            ) from None
        return Ran(code, output)


def _tail(text: str, lines: int = 3) -> str:
    return " | ".join(line.strip() for line in text.strip().splitlines()[-lines:])


@check("project.migrations_current")
def migrations_current(ctx: CheckContext) -> Outcome:
    """Applying every migration gives exactly the tables the models describe."""
    project = ctx.need_project()
    if not (project / "alembic.ini").is_file():
        raise Skip("the project has no alembic.ini")
    with ProjectCode(project) as code:
        ran = code.run(["-m", "app", "check-migrations"], code.scratch_env())
    answer = _answer(ran, "python -m app check-migrations")
    if not answer.get("upgraded"):
        return Outcome.of(
            [
                Finding(
                    f"`alembic upgrade head` fails on an empty database: {answer.get('error', '')}",
                    path="alembic/versions",
                )
            ]
        )
    if answer.get("current"):
        return Outcome.of([], "alembic check: no new upgrade operations")
    detected = str(answer.get("differences", "")).split("detected:", 1)[-1].strip()
    return Outcome.of(
        [
            Finding(
                "the models differ from the migrations (a field was added or changed without a "
                f"migration): {detected[:400]}",
                path="alembic/versions",
            )
        ]
    )


def _answer(ran: Ran, command: str) -> dict[str, Any]:
    """The JSON object an app command printed; Skip, saying why, when there is none."""
    from wizard.checklist.admin import json_answer

    answer = json_answer(ran.output, command)
    if not isinstance(answer, dict):
        raise Skip(f"`{command}` did not answer a JSON object: {_tail(ran.output)}")
    return answer


@check("project.outbox_production")
def outbox_production(ctx: CheckContext) -> Outcome:
    """With ENVIRONMENT=production the app serves no /dev routes (the outbox holds sign-in links)."""
    project = ctx.need_project()
    if not (project / "app" / "main.py").is_file():
        raise Skip("the project has no app/main.py")
    with ProjectCode(project) as code:
        ran = code.run(
            ["-m", "app", "request", "GET", "/dev/outbox"], code.scratch_env("production")
        )
    if ran.code != 0:
        raise Skip(f"the app did not start with ENVIRONMENT=production: {_tail(ran.output)}")
    status = int(_answer(ran, "python -m app request").get("status", 0))
    if status == 404:
        return Outcome.of([], "GET /dev/outbox answers 404 in production")
    return Outcome.of(
        [
            Finding(
                f"/dev/outbox exists with ENVIRONMENT=production (it answered {status}, not 404)",
                expected="404",
                actual=str(status),
                path="app/api/main.py",
            )
        ]
    )


# (setting, the most (max) or least (min) allowed, what it is) - the login issue's numbers.
LIMITS: tuple[tuple[str, str, float, str], ...] = (
    ("access_token_minutes", "max", 60, "access tokens live"),
    ("password_reset_minutes", "max", 60, "a password reset link stays valid"),
    ("magic_link_minutes", "max", 10, "a magic link stays valid"),
    ("phone_code_minutes", "max", 10, "a phone code stays valid"),
    ("phone_code_max_attempts", "max", 5, "wrong tries allowed per phone code"),
    ("phone_sends_per_window", "max", 3, "codes sent to one number per 10 minutes"),
    ("login_max_failures", "max", 10, "fast failed logins per account before slowing down"),
    (
        "login_backoff_max_minutes",
        "max",
        60,
        "the longest wait after failed logins (never locked for good)",
    ),
    ("phone_send_window_minutes", "min", 10, "the window the per-number send limit counts in"),
    ("password_min_length", "min", 8, "the shortest password accepted"),
    ("password_max_length", "min", 128, "the longest password accepted"),
)


@check("project.rate_limits")
def rate_limits(ctx: CheckContext) -> Outcome:
    """The project's settings (with .env applied) keep the login limits within the numbers."""
    project = ctx.need_project()
    if not (project / "app" / "core" / "config.py").is_file():
        raise Skip("the project has no app/core/config.py")
    with ProjectCode(project) as code:
        ran = code.run(["-m", "app", "limits"], {"DATABASE_URL": ""})
    if ran.code != 0:
        raise Skip(f"the project's settings did not load: {_tail(ran.output)}")
    settings = _answer(ran, "python -m app limits")
    findings = []
    known = []
    for name, bound, limit, what in LIMITS:
        value = settings.get(name)
        if not isinstance(value, int | float):
            continue
        known.append(name)
        if (bound == "max" and value > limit) or (bound == "min" and value < limit):
            findings.append(
                Finding(
                    f"{name.upper()} is {value}: {what} should be {'at most' if bound == 'max' else 'at least'} "
                    f"{limit:g}",
                    expected=f"{'<=' if bound == 'max' else '>='} {limit:g}",
                    actual=str(value),
                    path=".env"
                    if name.upper() in envfile.read_env(project)
                    else "app/core/config.py",
                )
            )
    if not known:
        raise Skip("the project's settings name none of the login limits this check knows")
    return Outcome.of(findings, f"checked {', '.join(known)}")


def _files(root: Path) -> set[str]:
    found: set[str] = set()
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in _SKIPPED_DIRS]
        for name in files:
            relative = (Path(folder) / name).relative_to(root).as_posix()
            if relative not in _NOT_RENDERED and not name.endswith((".pyc", ".db")):
                found.add(relative)
    return found


@check("project.spec_matches_code")
def spec_matches_code(ctx: CheckContext) -> Outcome:
    """Rendering shipyard.yaml again gives the files on disk: the code does what the spec says."""
    from wizard import blueprints
    from wizard.errors import ShipyardError
    from wizard.merge import write_once

    project = ctx.need_project()
    spec = ctx.need_spec()
    if not (project / "app").is_dir():
        raise Skip(f"{project} has no app/ folder, so it was not rendered from a blueprint")
    with tempfile.TemporaryDirectory(prefix="shipyard-check-render-") as scratch:
        fresh = Path(scratch) / "render"
        try:
            blueprints.render(spec, fresh)
        except ShipyardError as exc:
            raise Skip(f"the spec could not be rendered again: {exc.message}") from None
        # Migrations that ran and the hooks modules are written once (wizard/merge.py): the
        # project's own from then on, so they are not compared.
        rendered = {path for path in _files(fresh) if not write_once(path)}
        on_disk = _files(project)
        missing = sorted(rendered - on_disk)
        changed = sorted(
            path
            for path in rendered & on_disk
            if not filecmp.cmp(fresh / path, project / path, shallow=False)
        )
    findings = [Finding(f"{path} is missing: the spec renders it", path=path) for path in missing]
    findings += [
        Finding(f"{path} differs from what the spec renders", path=path) for path in changed
    ]
    # A missing file or a different policy means the code no longer enforces what the spec
    # says (the spec changed without `shipyard update`, or the rules were edited by hand);
    # other differences are usually the founder's own edits, worth a look but not a stop.
    disagrees = bool(missing) or any(path.startswith("app/policies/") for path in changed)
    note = f"compared {len(rendered)} rendered files"
    outcome = Outcome.of(findings, note)
    if findings and not disagrees:
        outcome.severity = "warn"
    return outcome
