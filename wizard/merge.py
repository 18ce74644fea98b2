"""Three-way merge of a project's files: the last render (base), the working tree, the new render.

Each file is merged with `git merge-file`, so a founder's edits outside the changed lines survive
and overlapping ones become conflict markers in the file itself (never .rej files).
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from wizard.errors import ShipyardError
from wizard.record import RECORD_FILE

SPEC_FILE = "shipyard.yaml"
# Written once, then the founder's (or the database's) alone: a migration that ran must never
# change, so the spec's later changes reach the database as new migrations instead; the hooks
# modules are the founder's own code.
WRITE_ONCE = ("alembic/versions/", "app/hooks/")
LABELS = ("yours (working tree)", "last render", "new render")


@dataclass
class FileResult:
    """What the update does to one file."""

    path: str
    action: str  # updated, merged, added, removed, restored, conflict, kept_deleted, kept_orphan
    content: bytes | None = None  # the file's new bytes; None to delete it (or leave it alone)
    mode: int | None = None
    conflicts: int = 0
    note: str = ""

    @property
    def writes(self) -> bool:
        return self.action in ("updated", "merged", "added", "removed", "restored") or (
            self.action == "conflict" and self.content is not None
        )

    def as_json(self) -> dict[str, object]:
        data: dict[str, object] = {"path": self.path, "action": self.action}
        if self.conflicts:
            data["conflicts"] = self.conflicts
        if self.note:
            data["note"] = self.note
        return data


def write_once(path: str) -> bool:
    return path.startswith(WRITE_ONCE)


def _files(root: Path) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for folder, _dirs, names in os.walk(root):
        for name in names:
            full = Path(folder) / name
            found[full.relative_to(root).as_posix()] = full
    return found


def _mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def merge_trees(base: Path, theirs: Path, project: Path, ours: set[str]) -> list[FileResult]:
    """The result for every file the last or the new render has (`ours`: the project's files)."""
    base_files, their_files = _files(base), _files(theirs)
    results: list[FileResult] = []
    for path in sorted(set(base_files) | set(their_files)):
        if path == SPEC_FILE:
            continue  # the founder's spec is the input, never an output
        result = _merge_one(
            path, base_files.get(path), their_files.get(path), project / path, path in ours
        )
        if result is not None:
            results.append(result)
    return results


def _merge_one(
    path: str, base: Path | None, theirs: Path | None, mine: Path, have: bool
) -> FileResult | None:
    b = base.read_bytes() if base else None
    t = theirs.read_bytes() if theirs else None
    o = mine.read_bytes() if have else None
    if path == RECORD_FILE and t is not None:
        return None if o == t else FileResult(path, "updated", t, _mode(theirs))  # type: ignore[arg-type]
    if write_once(path):
        if o is None and b is None and t is not None and theirs is not None:
            return FileResult(path, "added", t, _mode(theirs))
        if path.startswith("app/hooks/") and b is not None and t is None and o is not None:
            # The founder's code for an object the spec no longer has: never deleted for them.
            return FileResult(
                path,
                "kept_orphan",
                note="its object left the spec: nothing calls these hooks or mounts their "
                "routes now, and its import of the object's model fails; move what you still "
                "need, then delete the file",
            )
        return None
    if t is not None and theirs is not None:
        if o is None:
            if b is None:
                return FileResult(path, "added", t, _mode(theirs))
            if b != t:
                return FileResult(
                    path, "kept_deleted", note="you deleted it; the new render changes it"
                )
            return None
        if o == t or b == t:
            return None  # already there, or the render did not change it: yours stays
        mode = _mode(theirs) if base is not None and _mode(base) != _mode(theirs) else None
        if o == b:
            return FileResult(path, "updated", t, mode)
        if b"\0" in o + t + (b or b""):
            return FileResult(
                path, "conflict", note="a binary file you changed; the new render changes it too"
            )
        merged, conflicts = merge_file(o, b or b"", t)
        if conflicts:
            return FileResult(path, "conflict", merged, mode, conflicts)
        return FileResult(path, "merged", merged, mode)
    # The new render no longer has the file.
    if o is None:
        return None
    if o == b:
        return FileResult(path, "removed")
    return FileResult(
        path, "conflict", note="you changed it, and the new spec no longer renders it"
    )


def merge_file(ours: bytes, base: bytes, theirs: bytes) -> tuple[bytes, int]:
    """`git merge-file` on three versions: the merged bytes and how many conflicts they hold."""
    with tempfile.TemporaryDirectory(prefix="shipyard-merge-") as scratch:
        names = []
        for name, data in (("ours", ours), ("base", base), ("theirs", theirs)):
            file = Path(scratch) / name
            file.write_bytes(data)
            names.append(str(file))
        labels = [arg for label in LABELS for arg in ("-L", label)]
        try:
            done = subprocess.run(
                ["git", "merge-file", "-p", *labels, *names],
                capture_output=True,
                check=False,
                timeout=60,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ShipyardError(
                f"Could not merge files with git merge-file: {exc}",
                hint="Check that git is installed (git --version).",
            ) from exc
    if done.returncode < 0 or done.returncode > 127:
        raise ShipyardError(
            f"git merge-file failed: {done.stderr.decode(errors='replace').strip()}",
            hint="Check that git is installed (git --version).",
        )
    return done.stdout, done.returncode


def restore(
    results: list[FileResult], theirs: Path, project: Path, wanted: list[str]
) -> tuple[list[FileResult], list[str]]:
    """Take the new render's version of each wanted file or folder, whatever is on disk.

    Returns the results with those files replaced, and a sentence for each wanted path the
    render does not have.
    """
    their_files = _files(theirs)
    problems: list[str] = []
    chosen: dict[str, FileResult] = {}
    for item in wanted:
        prefix = item.strip("/").removeprefix("./")
        matches = [p for p in their_files if p == prefix or p.startswith(prefix + "/")]
        matches = [p for p in matches if p not in (SPEC_FILE, RECORD_FILE)]
        if not matches:
            problems.append(f"--restore {item}: the blueprint renders no such file or folder")
        for path in matches:
            content = their_files[path].read_bytes()
            mine = project / path
            if mine.is_file() and mine.read_bytes() == content:
                continue
            chosen[path] = FileResult(path, "restored", content, _mode(their_files[path]))
    kept = [r for r in results if r.path not in chosen]
    return sorted(kept + list(chosen.values()), key=lambda r: r.path), problems
