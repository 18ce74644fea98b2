"""What every check gets to look at, and the registry that maps check ids to functions."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wizard.checklist.results import Outcome, Skip
from wizard.events import EventSink, ignore
from wizard.spec import LaunchSpec


@dataclass
class CheckContext:
    """The spec, the project folder and the live API a check run looks at (any may be absent)."""

    spec: LaunchSpec | None = None
    project: Path | None = None
    url: str | None = None
    # True when the founder pointed us at the API (--url): unreachable is then "could not run".
    url_given: bool = False
    # Why there is no live API to probe, when there is none.
    url_missing_reason: str = "no staging is running and no --url was given"
    admin: tuple[str, str] | None = None
    admin_source: str = ""
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    on_event: EventSink = ignore
    timeout: float = 10.0
    # Shared state between checks of one run (the live session, the project's settings...).
    cache: dict[str, Any] = field(default_factory=dict)

    def need_spec(self) -> LaunchSpec:
        if self.spec is None:
            raise Skip("there is no shipyard.yaml to check")
        return self.spec

    def need_project(self) -> Path:
        if self.project is None:
            raise Skip("no project folder was given (run inside the project, or pass -C DIR)")
        return self.project

    def need_url(self) -> str:
        if not self.url:
            raise Skip(self.url_missing_reason)
        return self.url


CheckFunction = Callable[[CheckContext], Outcome]
CHECKS: dict[str, CheckFunction] = {}


def check(check_id: str) -> Callable[[CheckFunction], CheckFunction]:
    """Register a check function under the id that checklists/launch.yaml refers to."""

    def register(function: CheckFunction) -> CheckFunction:
        if check_id in CHECKS:
            raise ValueError(f"check {check_id} is registered twice")
        CHECKS[check_id] = function
        return function

    return register


def registered() -> dict[str, CheckFunction]:
    """Every known check, after importing the modules that define them."""
    from wizard.checklist import (  # noqa: F401 - they register on import
        files,
        headers,
        login_probes,
        monitoring,
        permissions,
        probes,
        row_security,
        runtime,
        static,
    )

    return dict(CHECKS)
