"""squawk's reading of a generated migration: what it would lock or break on PostgreSQL.

The migration is turned into the SQL PostgreSQL would run (`alembic upgrade DOWN:REV --sql`,
offline: no database is needed) in a scratch copy of the new render, and squawk (the
squawk-cli package ships its binary) lints that SQL. Findings are advice shown with the
plan; they never stop an update. When a step cannot run, the lint says why instead.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wizard.migrations import VERSIONS, Migration

PG_VERSION = "16"  # staging's default postgres:16-alpine
# Offline SQL needs a PostgreSQL URL to pick the dialect; nothing connects to it.
_OFFLINE_URL = "postgresql+asyncpg://lint:lint@127.0.0.1:1/lint"
TIMEOUT = 120


@dataclass
class Lint:
    findings: list[dict[str, Any]] = field(default_factory=list)
    problem: str | None = None  # why squawk could not look at the migration

    def lines(self, migration: Migration) -> list[str]:
        name = Path(migration.path).name
        if self.problem:
            return [f"squawk did not lint {name}: {self.problem}"]
        if not self.findings:
            return [f"squawk finds nothing to warn about in {name} (PostgreSQL {PG_VERSION})"]
        lines = [f"squawk on {name} (PostgreSQL {PG_VERSION}; advice, nothing was refused):"]
        for finding in self.findings:
            help_text = (
                f"; {finding['help'][:1].lower()}{finding['help'][1:]}"
                if finding.get("help")
                else ""
            )
            lines.append(f"  {finding['message']}{help_text} [{finding['rule']}]")
        return lines

    def as_json(self) -> dict[str, Any]:
        return {"findings": self.findings, "problem": self.problem}


def squawk_binary() -> str | None:
    """squawk next to this Python (squawk-cli installed with Shipyard), else on PATH."""
    return shutil.which("squawk", path=str(Path(sys.executable).parent)) or shutil.which("squawk")


def lint_migration(migration: Migration, new_render: Path, project: Path) -> Lint:
    squawk = squawk_binary()
    if squawk is None:
        return Lint(problem="squawk is not installed (pip install squawk-cli)")
    with tempfile.TemporaryDirectory(prefix="shipyard-lint-") as scratch:
        root = Path(scratch)
        sql = _offline_sql(migration, new_render, project, root)
        if isinstance(sql, Lint):
            return sql
        (root / "migration.sql").write_text(sql, encoding="utf-8")
        try:
            done = subprocess.run(
                [squawk, "--reporter", "json", "--pg-version", PG_VERSION, "migration.sql"],
                cwd=root,
                capture_output=True,
                text=True,
                timeout=TIMEOUT,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            return Lint(problem=f"squawk did not run ({exc})")
    try:
        found = json.loads(done.stdout or "[]")
    except ValueError:
        return Lint(problem=f"squawk's answer was not JSON: {done.stderr.strip()[:200]}")
    findings: list[dict[str, Any]] = []
    for item in found if isinstance(found, list) else []:
        entry = {
            "rule": str(item.get("rule_name", "")),
            "message": str(item.get("message", "")).strip(),
            "help": str(item.get("help") or "").strip(),
            "line": item.get("line"),
        }
        if not any(
            f["rule"] == entry["rule"] and f["message"] == entry["message"] for f in findings
        ):
            findings.append(entry)
    return Lint(findings)


def _offline_sql(migration: Migration, new_render: Path, project: Path, root: Path) -> str | Lint:
    """The SQL `alembic upgrade --sql` writes for the migration alone, run in `root` with the
    new render's app and Alembic setup and the project's migrations plus the new one."""
    shutil.copytree(new_render / "alembic", root / "alembic")
    shutil.copy2(new_render / "alembic.ini", root / "alembic.ini")
    (root / "app").symlink_to(new_render / "app", target_is_directory=True)
    versions = root / VERSIONS
    shutil.rmtree(versions, ignore_errors=True)
    shutil.copytree(project / VERSIONS, versions, ignore=shutil.ignore_patterns("__pycache__"))
    (versions / Path(migration.path).name).write_text(migration.text, encoding="utf-8")
    python = project / ".venv" / "bin" / "python"
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "API_DATABASE_URL", "SECRET_KEY")
    }
    env.update(
        {"DATABASE_URL": _OFFLINE_URL, "ENVIRONMENT": "development", "PYTHONDONTWRITEBYTECODE": "1"}
    )
    target = f"{migration.down_revision}:{migration.revision}"
    interpreter = str(python if python.exists() else sys.executable)
    try:
        done = subprocess.run(
            [interpreter, "-m", "alembic", "upgrade", target, "--sql"],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return Lint(problem=f"Alembic could not write its SQL ({exc})")
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return Lint(problem=f"Alembic could not write its SQL ({last[:300]})")
    return done.stdout
