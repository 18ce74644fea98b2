"""Run a rendered project's own test suite with this interpreter: shared by the slow tests."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

SUITE_TIMEOUT = 1200


def run(
    command: list[str], cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """A command in (or for) a rendered project, bounded like its suite."""
    return subprocess.run(
        command,
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=SUITE_TIMEOUT,
        check=False,
    )


def run_suite(
    project: Path, database_url: str | None = None, files: list[str] | None = None
) -> str:
    """Run the project's pytest (only those of `files` it has, when given); its summary line.

    Fails unless the suite exits 0 and reports passed tests. DATABASE_URL is the given one or
    none (the project's SQLite default), never this machine's.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.pop("DATABASE_URL", None)
    if database_url:
        env["DATABASE_URL"] = database_url
    present = [f for f in files or [] if (project / f).is_file()]
    result = run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *present], project, env
    )
    summary = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""
    assert result.returncode == 0, (
        f"{project.name}: {summary}\n{result.stdout[-6000:]}\n{result.stderr[-3000:]}"
    )
    assert re.search(r"\d+ passed", summary), summary
    print(f"{project.name}: {summary}")
    return summary
