"""Answers to a committed project: render, write the spec and secrets, commit, then move into place."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from wizard import envfile
from wizard.env_answers import EnvAnswers
from wizard.errors import BadInput, Cancelled, ShipyardError
from wizard.events import Event, EventSink, ignore
from wizard.spec import LaunchSpec, dump_spec

SPEC_FILE = "shipyard.yaml"


def check_destination(dest: Path) -> None:
    """Refuse anything but a missing or empty folder: Shipyard never writes over files."""
    if dest.exists() and not dest.is_dir():
        raise BadInput(
            f"{dest} already exists and is a file, not a folder.",
            hint="Choose another folder name for the new project.",
        )
    if dest.is_dir() and any(dest.iterdir()):
        raise BadInput(
            f"{dest} is not empty; Shipyard only creates projects in a new or empty folder.",
            hint="Choose another folder name, or move the files out of this one first.",
        )


def create_project(
    spec: LaunchSpec,
    dest: Path,
    on_event: EventSink | None = None,
    env_answers: EnvAnswers | None = None,
) -> Path:
    """Render `spec` into the new folder `dest`, with its spec, .env and a first git commit.

    `env_answers` are the wizard's answers that are secrets (where alerts go): they go into
    the git-ignored .env with the generated secrets, never into shipyard.yaml.

    Everything is built in a temporary folder beside `dest` (same filesystem) and renamed
    into place at the end, so a failure or Ctrl-C leaves nothing half-written.
    """
    # Imported here so that `import wizard.pipeline` stays cheap (Copier, GitPython).
    from wizard import blueprints, repo

    emit = on_event or ignore
    dest = Path(os.path.abspath(dest))
    check_destination(dest)
    created_parent = _first_missing(dest.parent)
    dest.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{dest.name}.shipyard-", dir=dest.parent))
    try:
        emit(Event("render", f"Rendering the {spec.blueprint} blueprint for {spec.app.title}"))
        blueprints.render(spec, work)

        emit(Event("spec", f"Writing the launch spec to {SPEC_FILE}"))
        (work / SPEC_FILE).write_text(dump_spec(spec), encoding="utf-8")

        emit(Event("secrets", "Generating secrets into .env (git-ignored, readable only by you)"))
        envfile.write_env(work, spec, env_answers.values() if env_answers else None)

        emit(Event("git", "Creating the git repository and the first commit"))
        repo.init_repository(work)
        first = repo.commit_all(work, f"Create {spec.app.title} with Shipyard")
        # The first commit is the render itself: the base of the first `shipyard update`.
        repo.update_ref(work, repo.RENDER_REF, first)
        if envfile.ENV_FILE in repo.tracked_files(work):
            raise ShipyardError(
                "The first commit would contain .env and its secrets; Shipyard stopped.",
                hint=f"The {spec.blueprint} blueprint's .gitignore must list .env. "
                "Please report this to the blueprint's authors.",
            )

        if dest.is_dir():
            dest.rmdir()  # empty, checked above
        os.replace(work, dest)
        umask = os.umask(0)
        os.umask(umask)
        dest.chmod(0o777 & ~umask)  # mkdtemp made it 0700
    except KeyboardInterrupt:
        _discard(work, created_parent)
        raise Cancelled(f"Cancelled: nothing was written ({dest} was not created).") from None
    except BaseException:
        _discard(work, created_parent)
        raise
    emit(Event("done", f"Created {dest}"))
    return dest


def _first_missing(path: Path) -> Path | None:
    """The outermost ancestor of `path` (itself included) that does not exist yet."""
    missing = None
    while not path.exists():
        missing, path = path, path.parent
    return missing


def _discard(work: Path, created_parent: Path | None) -> None:
    """Remove the temporary folder, and the parent folders this run created if now empty."""
    shutil.rmtree(work, ignore_errors=True)
    if created_parent is None:
        return
    folder = work.parent
    while True:
        try:
            folder.rmdir()
        except OSError:
            return
        if folder == created_parent:
            return
        folder = folder.parent
