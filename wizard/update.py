"""`shipyard update`: apply an edited shipyard.yaml to a project, keeping the founder's edits.

The plan compares shipyard.yaml with the spec the project was last rendered from (its record),
renders both into scratch folders and merges three ways per file. Applying it writes the files,
then commits once on a clean tree; with conflicts nothing is committed and `abort` puts every
file back as it was, byte for byte.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wizard import merge, migrations, repo
from wizard.errors import BadInput, ShipyardError
from wizard.events import Event, EventSink, ignore
from wizard.merge import SPEC_FILE, FileResult, merge_trees
from wizard.record import RECORD_FILE, Record, blueprint_version, read_record
from wizard.spec import LaunchSpec, load_spec
from wizard.spec.diff import Change, Rename, diff_specs, summary_line

STATE_FILE = "shipyard-update.json"
STATE_DIR = "shipyard-update"


@dataclass
class Plan:
    """Everything an update would do, worked out without writing to the project."""

    project: Path
    record: Record
    spec: LaunchSpec
    changes: list[Change]
    blueprint_changed: bool
    base_from: str  # "git" (the render Shipyard kept) or "render" (the recorded spec again)
    files: list[FileResult] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    migration: migrations.Migration | None = None
    lint: Any = None  # squawk's findings on the migration (wizard.migration_lint.Lint)
    new_render: Path | None = None  # the scratch folder with the new render (while open)
    _scratch: tempfile.TemporaryDirectory[str] | None = None

    restoring: list[str] = field(default_factory=list)

    @property
    def nothing_to_do(self) -> bool:
        return not self.changes and not self.blueprint_changed and not self.restoring

    @property
    def conflicts(self) -> list[FileResult]:
        return [f for f in self.files if f.action == "conflict"]

    @property
    def message(self) -> str:
        if self.changes:
            subject = summary_line(self.changes)
        elif self.restoring:
            subject = f"Restore {', '.join(self.restoring)} as the {self.spec.blueprint} blueprint renders it"
        else:
            subject = f"Update to the {self.spec.blueprint} blueprint's new version"
        lines = [f"- {change.text}" for change in self.changes]
        lines += [f"- restored {path} as the blueprint renders it" for path in self.restoring]
        if self.blueprint_changed:
            lines.append(
                f"- the {self.spec.blueprint} blueprint changed "
                f"({self.record.blueprint_version} -> {blueprint_version_now(self.spec)})"
            )
        return subject + "\n\n" + "\n".join(lines) + "\n"

    def close(self) -> None:
        if self._scratch is not None:
            self._scratch.cleanup()
            self._scratch = None
            self.new_render = None

    def __enter__(self) -> Plan:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def as_json(self) -> dict[str, Any]:
        by_action: dict[str, list[dict[str, object]]] = {}
        for result in self.files:
            by_action.setdefault(result.action, []).append(result.as_json())
        return {
            "project": str(self.project),
            "spec_changes": [change.as_json() for change in self.changes],
            "blueprint_changed": self.blueprint_changed,
            "base": self.base_from,
            "files": {
                "changed": [f.path for f in self.files if f.action in ("updated", "merged")],
                "added": [f.path for f in self.files if f.action == "added"],
                "removed": [f.path for f in self.files if f.action == "removed"],
                "kept_deleted": [f.path for f in self.files if f.action == "kept_deleted"],
                "kept_orphans": [f.as_json() for f in self.files if f.action == "kept_orphan"],
                "restored": [f.path for f in self.files if f.action == "restored"],
                "conflicts": [f.as_json() for f in self.conflicts],
            },
            "migration": None
            if self.migration is None
            else {
                "file": self.migration.path,
                "revision": self.migration.revision,
                "down_revision": self.migration.down_revision,
                "operations": self.migration.operations,
                "lint": None if self.lint is None else self.lint.as_json(),
            },
            "refused": list(self.refused),
        }


def blueprint_version_now(spec: LaunchSpec) -> str:
    from wizard.blueprints import find_blueprint

    return blueprint_version(find_blueprint(spec.blueprint))


def _open_project(project: Path) -> Path:
    project = project.resolve()
    if not (project / SPEC_FILE).is_file():
        raise BadInput(
            f"{project} has no {SPEC_FILE}, so it is not a Shipyard project.",
            hint="Run `shipyard update` inside a folder made by `shipyard new`, or pass -C FOLDER.",
        )
    if not repo.is_repository(project):
        raise BadInput(
            f"{project} is not the top of a git repository, so Shipyard cannot merge or undo.",
            hint="Run `shipyard update` in the project's own folder (the one `shipyard new` made).",
        )
    return project


def plan_update(
    project: Path,
    renames: list[Rename] | None = None,
    since: Path | None = None,
    on_event: EventSink | None = None,
    restore: list[str] | None = None,
) -> Plan:
    """Work out the update; the caller must `close()` the plan (it holds a scratch folder)."""
    from wizard import blueprints

    emit = on_event or ignore
    project = _open_project(project)
    spec = load_spec(project / SPEC_FILE)
    if since is not None:
        old = load_spec(since)
        record = Record(old, old.blueprint, "", "")
    else:
        record = read_record(project)
    changes = diff_specs(record.spec, spec, renames or [])
    current = blueprint_version_now(spec)
    blueprint_changed = bool(record.blueprint_version) and record.blueprint_version != current
    plan = Plan(project, record, spec, changes, blueprint_changed, base_from="render")
    plan.refused = _unknown_renames(record.spec, spec, renames or [])
    plan.restoring = list(restore or [])
    if plan.nothing_to_do:
        return plan
    plan._scratch = tempfile.TemporaryDirectory(prefix="shipyard-update-")
    try:
        scratch = Path(plan._scratch.name)
        base, theirs = scratch / "base", scratch / "new"
        if since is None and _kept_render(project, base):
            plan.base_from = "git"
        else:
            emit(Event("render", "Rendering the spec this project was last rendered from"))
            blueprints.render(record.spec, base)
        emit(Event("render", "Rendering shipyard.yaml"))
        reuse = None
        if plan.base_from == "git" and not blueprint_changed and _same_shipyard(record):
            # The kept render holds every unchanged object's files as they render now.
            reuse = blueprints.Reuse(base, blueprints.reusable(record.spec, spec))
        openapi = blueprints.render(spec, theirs, reuse=reuse, wait=False)
        plan.new_render = theirs
        try:
            # While the new app writes its openapi.json: the migration and squawk's lint.
            plan.migration = migrations.plan_migration(
                record.spec, spec, changes, project, ruff_config=theirs / "pyproject.toml"
            )
            if plan.migration is not None:
                from wizard.migration_lint import lint_migration

                emit(Event("lint", f"Linting {plan.migration.path} with squawk"))
                plan.lint = lint_migration(plan.migration, theirs, project)
        finally:
            openapi()
        emit(Event("merge", "Merging the new render with your files"))
        plan.files = merge_trees(base, theirs, project, repo.project_files(project))
        if plan.restoring:
            plan.files, problems = merge.restore(plan.files, theirs, project, plan.restoring)
            plan.refused += problems
        if plan.migration is not None:
            plan.files.append(
                FileResult(plan.migration.path, "added", plan.migration.text.encode(), 0o644)
            )
    except BaseException:
        plan.close()
        raise
    return plan


def _same_shipyard(record: Record) -> bool:
    from wizard import __version__

    return record.shipyard_version == __version__


def _unknown_renames(old: LaunchSpec, new: LaunchSpec, renames: list[Rename]) -> list[str]:
    problems = []
    for rename in renames:
        before, after = old.objects.get(rename.object), new.objects.get(rename.object)
        if before is None or after is None:
            problems.append(f"--rename {rename}: {rename.object} is not an object in both specs")
        elif rename.old not in before.fields or rename.old in after.fields:
            problems.append(
                f"--rename {rename}: {rename.object}.{rename.old} is not a field that was removed"
            )
        elif rename.new not in after.fields or rename.new in before.fields:
            problems.append(
                f"--rename {rename}: {rename.object}.{rename.new} is not a field that was added"
            )
    return problems


def _kept_render(project: Path, dest: Path) -> bool:
    """Extract the last render Shipyard kept in git (refs/shipyard/rendered) when it matches the
    project's record; False when there is none (then the recorded spec is rendered again)."""
    sha = repo.read_ref(project, repo.RENDER_REF)
    if sha is None:
        return False
    kept = repo.show_file(project, sha, RECORD_FILE)
    mine = project / RECORD_FILE
    if kept is None or not mine.is_file() or kept != mine.read_bytes():
        return False
    repo.extract_tree(project, sha, dest)
    (dest / SPEC_FILE).unlink(missing_ok=True)
    return True


# --- applying, finishing and undoing ------------------------------------------------------


@dataclass
class Outcome:
    committed: str | None
    conflicts: list[FileResult]
    written: list[FileResult]


def refuse_dirty(project: Path) -> None:
    """BadInput unless every change in the tree is to shipyard.yaml (the edit being applied)."""
    dirty = [path for path in repo.uncommitted_paths(project) if path != SPEC_FILE]
    if dirty:
        shown = ", ".join(dirty[:8]) + (f" and {len(dirty) - 8} more" if len(dirty) > 8 else "")
        raise BadInput(
            f"The project has uncommitted changes ({shown}); `shipyard update` merges into a "
            "clean tree so it can always be undone.",
            hint="Commit them (git add -A && git commit -m 'My changes') or stash them "
            "(git stash -u), then run `shipyard update` again. Only shipyard.yaml may be "
            "uncommitted: the update commits it with the code.",
        )


def _state_path(project: Path) -> Path:
    return repo.git_dir(project) / STATE_FILE


def in_progress(project: Path) -> dict[str, Any] | None:
    path = _state_path(project)
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def refuse_in_progress(project: Path) -> None:
    state = in_progress(project)
    if state is not None:
        raise BadInput(
            "An update with conflicts is not finished: "
            + ", ".join(state.get("conflicts", [])[:8]),
            hint="Resolve the conflict markers (<<<<<<<) in those files, then run "
            "`shipyard update --continue`; or run `shipyard update --abort` to put every file "
            "back as it was.",
        )


def apply_update(
    plan: Plan, on_event: EventSink | None = None, *, loses_data: bool = False
) -> Outcome:
    """Write the plan's files; commit once unless there are conflicts (then save how to undo)."""
    emit = on_event or ignore
    project = plan.project
    refuse_in_progress(project)
    refuse_dirty(project)
    if plan.new_render is None:
        raise ShipyardError("The update plan was already closed; nothing was written.")
    written = [f for f in plan.files if f.writes]
    backup = repo.git_dir(project) / STATE_DIR
    shutil.rmtree(backup, ignore_errors=True)
    backup.mkdir(parents=True)
    saved: dict[str, Any] = {}
    created_dirs: list[str] = []
    for index, result in enumerate(written):
        target = project / result.path
        if target.is_file():
            shutil.copy2(target, backup / str(index))
            saved[result.path] = {"backup": str(index), "mode": target.stat().st_mode & 0o777}
        else:
            saved[result.path] = None
            folder = target.parent
            missing = []
            while not folder.exists():
                missing.append(folder)
                folder = folder.parent
            created_dirs += [d.relative_to(project).as_posix() for d in missing]
    render_commit = repo.snapshot_tree(
        project,
        plan.new_render,
        "Shipyard's render of shipyard.yaml",
        repo.read_ref(project, repo.RENDER_REF),
    )
    state = {
        "head": repo.head_sha(project),
        "files": saved,
        "created_dirs": created_dirs,
        "conflicts": [f.path for f in plan.conflicts],
        "message": plan.message,
        "render_commit": render_commit,
        "loses_data": loses_data,  # so that --continue backs staging up before applying it
    }
    _state_path(project).write_text(json.dumps(state, indent=2), encoding="utf-8")
    emit(Event("write", f"Writing {len(written)} files"))
    for result in written:
        target = project / result.path
        if result.content is None:
            target.unlink(missing_ok=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(result.content)
        if result.mode is not None:
            target.chmod(result.mode)
    if plan.conflicts:
        return Outcome(None, plan.conflicts, written)
    sha = _commit(project, state)
    return Outcome(sha, [], written)


def _commit(project: Path, state: dict[str, Any]) -> str:
    # Staging keeps .shipyard/ git-ignored (its own .gitignore): the record is committed anyway.
    repo.force_add(project, RECORD_FILE)
    sha = repo.commit_all(project, state["message"])
    repo.update_ref(project, repo.RENDER_REF, state["render_commit"])
    _forget(project)
    return sha


def _forget(project: Path) -> None:
    _state_path(project).unlink(missing_ok=True)
    shutil.rmtree(repo.git_dir(project) / STATE_DIR, ignore_errors=True)


def in_progress_loses_data(project: Path) -> bool:
    """Whether the unfinished update deletes stored data (False when none is waiting)."""
    with contextlib.suppress(BadInput):
        project = _open_project(project)
        return bool((in_progress(project) or {}).get("loses_data"))
    return False


def continue_update(project: Path) -> str:
    """Commit an update whose conflicts the founder resolved; the commit's sha."""
    project = _open_project(project)
    state = in_progress(project)
    if state is None:
        raise BadInput(
            "No update is waiting to be finished.",
            hint="Run `shipyard update` to apply shipyard.yaml.",
        )
    unresolved = [
        path
        for path in state["conflicts"]
        if (project / path).is_file() and b"<<<<<<< " in (project / path).read_bytes()
    ]
    if unresolved:
        raise BadInput(
            "These files still have conflict markers (<<<<<<<): " + ", ".join(unresolved),
            hint="Edit them to keep what you want, then run `shipyard update --continue` again.",
        )
    return _commit(project, state)


def abort_update(project: Path) -> list[str]:
    """Put every file the unfinished update wrote back as it was; the paths restored."""
    project = _open_project(project)
    state = in_progress(project)
    if state is None:
        raise BadInput(
            "No update is waiting to be finished, so there is nothing to abort.",
            hint="`shipyard update --abort` undoes an update that stopped on conflicts.",
        )
    backup = repo.git_dir(project) / STATE_DIR
    restored = []
    for path, saved in state["files"].items():
        target = project / path
        if saved is None:
            target.unlink(missing_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(backup / saved["backup"], target)
            target.chmod(saved["mode"])
        restored.append(path)
    for folder in sorted(state["created_dirs"], key=len, reverse=True):
        with contextlib.suppress(OSError):
            (project / folder).rmdir()
    _forget(project)
    return restored


def count_on_staging(project: Path, targets: list[str]) -> dict[str, int | None] | None:
    """Rows or values of each target in the running staging database (`python -m app count`);
    None when staging is not running or cannot count (the plan then says so)."""
    from wizard.monitoring import app_command

    if not targets:
        return {}
    try:
        code, out = app_command(project, ["count", "--json", *targets])
    except ShipyardError:
        return None
    for line in reversed(out.strip().splitlines()):
        try:
            counts = json.loads(line)
        except ValueError:
            continue
        if code == 0 and isinstance(counts, dict):
            return {key: counts.get(key) for key in targets}
    return None
