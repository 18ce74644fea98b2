"""What a project was last rendered from: the spec and blueprint version, kept in the project.

Every render writes `.shipyard/rendered.json`; `shipyard update` reads it to know what changed
since (the spec diff) and to rebuild the last render, the base of its three-way merge.
Founders never edit it: a render rewrites it whole.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wizard import __version__
from wizard.errors import BadInput
from wizard.spec.models import LaunchSpec

RECORD_FILE = ".shipyard/rendered.json"
_NOTE = (
    "Written by Shipyard each time it renders this project; do not edit. "
    "`shipyard update` compares shipyard.yaml with the spec below."
)
# Caches a developer's tools leave in a blueprint folder; they are not part of its version.
_NOT_BLUEPRINT = ("__pycache__", ".ruff_cache", ".pytest_cache", ".mypy_cache")


@dataclass(frozen=True)
class Record:
    """The spec and blueprint a project was rendered from."""

    spec: LaunchSpec
    blueprint: str
    blueprint_version: str
    shipyard_version: str


def blueprint_version(folder: Path) -> str:
    """A short digest of every file of a blueprint: it changes whenever what it renders may."""
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if not path.is_file() or any(part in _NOT_BLUEPRINT for part in relative.parts):
            continue
        if path.suffix in (".pyc", ".pyo"):
            continue
        digest.update(relative.as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def record_text(spec: LaunchSpec, blueprint_folder: Path) -> str:
    data: dict[str, Any] = {
        "note": _NOTE,
        "shipyard": __version__,
        "blueprint": spec.blueprint,
        "blueprint_version": blueprint_version(blueprint_folder),
        "spec": spec.model_dump(mode="json", exclude_none=True),
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def write_record(dest: Path, spec: LaunchSpec, blueprint_folder: Path) -> None:
    path = dest / RECORD_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(record_text(spec, blueprint_folder), encoding="utf-8")


def parse_record(text: str, where: str = RECORD_FILE) -> Record:
    try:
        data = json.loads(text)
        return Record(
            spec=LaunchSpec.model_validate(data["spec"]),
            blueprint=str(data["blueprint"]),
            blueprint_version=str(data["blueprint_version"]),
            shipyard_version=str(data.get("shipyard", "")),
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise BadInput(
            f"{where} is damaged ({type(exc).__name__}: {exc}), so Shipyard cannot tell what "
            "this project was rendered from.",
            hint=f"Restore it from git (git checkout -- {RECORD_FILE}) and run the command again.",
        ) from None


def read_record(project: Path) -> Record:
    """The record in a project; BadInput when it has none (rendered before Shipyard kept one)."""
    path = project / RECORD_FILE
    if not path.is_file():
        raise BadInput(
            f"{project} has no {RECORD_FILE}, so Shipyard does not know which spec it was "
            "rendered from.",
            hint="Projects made by `shipyard new` since this version have one. For an older "
            "project, check out the commit Shipyard made, copy its shipyard.yaml aside and run "
            "`shipyard update --since FILE` with it.",
        )
    return parse_record(path.read_text(encoding="utf-8"), str(path))
