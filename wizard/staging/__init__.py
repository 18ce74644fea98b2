"""Staging environments: one module per target, all with the same three functions.

A target module (``wizard.staging.local``, ``wizard.staging.docker``) provides::

    up(project: Path, on_event: EventSink | None = None) -> Staging
    down(project: Path, on_event: EventSink | None = None) -> bool   # False: nothing was running
    status(project: Path) -> Staging                                   # running=False when down

and raises ``ShipyardError`` (with a hint) for anything a founder must act on.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

from wizard.errors import BadInput, ShipyardError

TARGETS = ("docker", "local")
STATE_DIR = ".shipyard"
CHOSEN_FILE = "target"  # in STATE_DIR: the target the founder switched to when `up` failed


@dataclass(frozen=True)
class Staging:
    """Where a project's staging runs, as far as a front end needs to know."""

    target: str
    running: bool
    api_url: str | None = None
    details: dict[str, str] = field(default_factory=dict)

    @property
    def docs_url(self) -> str | None:
        return f"{self.api_url}/docs" if self.api_url else None

    @property
    def outbox_url(self) -> str | None:
        return f"{self.api_url}/dev/outbox" if self.api_url else None

    def as_dict(self) -> dict[str, object]:
        return {
            "target": self.target,
            "running": self.running,
            "api_url": self.api_url,
            "docs_url": self.docs_url,
            "outbox_url": self.outbox_url,
            **self.details,
        }


def target_module(target: str) -> ModuleType:
    """The module that drives `target` ("docker" or "local")."""
    if target not in TARGETS:
        raise BadInput(
            f"Unknown staging target {target!r}.",
            hint=f"Use one of: {', '.join(TARGETS)}.",
        )
    try:
        return importlib.import_module(f"wizard.staging.{target}")
    except ModuleNotFoundError as exc:
        if exc.name != f"wizard.staging.{target}":
            raise
        raise ShipyardError(
            f"This version of Shipyard cannot stage on {target} yet.",
            hint="Use --target local to run the backend as a local process on SQLite.",
        ) from None


def default_target(project: Path) -> str:
    """The target a command means when none is given: the running local API, else the spec's."""
    if (project / STATE_DIR / "local.json").is_file():
        return "local"
    chosen = chosen_target(project)
    if chosen is not None:
        return chosen
    from wizard.spec import load_spec

    spec_file = project / "shipyard.yaml"
    if not spec_file.is_file():
        raise BadInput(
            f"{project} has no shipyard.yaml, so it is not a project Shipyard created.",
            hint="Run the command inside the project folder, or pass it with -C DIR.",
        )
    return load_spec(spec_file).staging.target


def ignored_dir(path: Path) -> Path:
    """`path`, made if missing, kept out of git by a .gitignore of its own."""
    path.mkdir(exist_ok=True)
    ignore = path / ".gitignore"
    if not ignore.exists():
        # Ignores itself and everything beside it, whatever the project's .gitignore says.
        ignore.write_text("*\n", encoding="utf-8")
    return path


def state_dir(project: Path) -> Path:
    """The project's git-ignored folder for staging state (pids, ports, logs)."""
    return ignored_dir(project / STATE_DIR)


def chosen_target(project: Path) -> str | None:
    """The target the founder chose for this machine instead of shipyard.yaml's, if any."""
    try:
        chosen = (project / STATE_DIR / CHOSEN_FILE).read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return chosen if chosen in TARGETS else None


def remember_target(project: Path, target: str | None) -> None:
    """Keep `target` as this project's staging on this machine (None: back to shipyard.yaml's).

    Kept in the git-ignored .shipyard/, not in shipyard.yaml: a machine without Docker is a
    fact about this machine, not about the app."""
    path = project / STATE_DIR / CHOSEN_FILE
    if target is None:
        path.unlink(missing_ok=True)
    else:
        state_dir(project)
        path.write_text(f"{target}\n", encoding="utf-8")
