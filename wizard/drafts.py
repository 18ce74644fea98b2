"""Wizard answers saved as they go, in a draft file beside the target folder, for resuming."""

from __future__ import annotations

import contextlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from wizard.spec.models import LaunchSpec

SUFFIX = ".shipyard-draft.yaml"
_VERSION = 1


@dataclass
class Draft:
    """Answers so far, the wizard step they were on, and the folder they are for."""

    spec: LaunchSpec
    step: str
    dest: Path
    path: Path


def draft_path(dest: Path) -> Path:
    """`./studio-booking` -> `./.studio-booking.shipyard-draft.yaml`: beside the folder, never in it."""
    dest = Path(os.path.abspath(dest))
    return dest.parent / f".{dest.name}{SUFFIX}"


def save_draft(dest: Path, spec: LaunchSpec, step: str) -> Path:
    """Write the draft for `dest` atomically (a crash leaves the old draft or the new one)."""
    path = draft_path(dest)
    data: dict[str, Any] = {
        "shipyard_draft": _VERSION,
        "step": step,
        "dest": str(Path(os.path.abspath(dest))),
        "spec": spec.model_dump(mode="json"),
    }
    text = "# Shipyard wizard answers in progress; `shipyard new` offers to resume them.\n"
    text += yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    return path


def load_draft(path: Path) -> Draft | None:
    """The draft at `path`; None when there is none or it cannot be used any more."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        if not isinstance(data, dict) or data.get("shipyard_draft") != _VERSION:
            return None
        spec = LaunchSpec.model_validate(data["spec"])
        return Draft(
            spec=spec, step=str(data.get("step", "")), dest=Path(data["dest"]), path=Path(path)
        )
    except (OSError, yaml.YAMLError, ValidationError, KeyError, TypeError, ValueError):
        return None


def find_draft(dest: Path | None) -> Draft | None:
    """The draft for `dest`; without a folder, the newest draft in the current folder."""
    if dest is not None:
        return load_draft(draft_path(dest))
    candidates = sorted(
        Path.cwd().glob(f".*{SUFFIX}"), key=lambda p: p.stat().st_mtime, reverse=True
    )
    for candidate in candidates:
        if (draft := load_draft(candidate)) is not None:
            return draft
    return None


def discard_draft(path: Path | None) -> None:
    if path is not None:
        with contextlib.suppress(OSError):
            Path(path).unlink()
