"""Git through GitPython: initialise a project's repository and commit to it."""

from __future__ import annotations

from pathlib import Path

import git

from wizard.errors import ShipyardError

DEFAULT_BRANCH = "main"
AUTHOR_NAME = "Shipyard"
AUTHOR_EMAIL = "shipyard@localhost"


def _git_failed(action: str, exc: Exception) -> ShipyardError:
    detail = getattr(exc, "stderr", "") or str(exc)
    return ShipyardError(
        f"Could not {action}: {detail.strip()}",
        hint="Check that git is installed (git --version) and the folder is writable.",
    )


def init_repository(path: Path) -> git.Repo:
    """Create a repository at ``path`` whose first branch is ``main``."""
    try:
        return git.Repo.init(path, initial_branch=DEFAULT_BRANCH)
    except (git.GitError, OSError) as exc:
        raise _git_failed(f"create a git repository in {path}", exc) from exc


def commit_all(path: Path, message: str) -> str:
    """Stage everything git does not ignore and commit it; return the new commit's sha.

    The founder's own git identity is used when they have one; otherwise the commit
    is attributed to Shipyard so a fresh machine still works.
    """
    try:
        repo = git.Repo(path)
        repo.git.add(all=True)
        reader = repo.config_reader()
        has_identity = reader.has_option("user", "name") and reader.has_option("user", "email")
        identity = {} if has_identity else {
            "author": git.Actor(AUTHOR_NAME, AUTHOR_EMAIL),
            "committer": git.Actor(AUTHOR_NAME, AUTHOR_EMAIL),
        }
        commit = repo.index.commit(message, **identity)
        return commit.hexsha
    except (git.GitError, OSError, ValueError) as exc:
        raise _git_failed(f"commit in {path}", exc) from exc


def tracked_files(path: Path) -> set[str]:
    """Paths (relative, with forward slashes) in the repository's HEAD commit."""
    try:
        listing = git.Repo(path).git.ls_tree("-r", "--name-only", "HEAD")
    except (git.GitError, OSError) as exc:
        raise _git_failed(f"list the files committed in {path}", exc) from exc
    return set(listing.splitlines())
