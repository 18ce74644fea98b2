"""Git through GitPython: initialise a project's repository, commit, set remotes and push."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Literal

import git
from gitdb.util import hex_to_bin

from wizard.errors import BadInput, ShipyardError

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
        actor = None if has_identity else git.Actor(AUTHOR_NAME, AUTHOR_EMAIL)
        commit = repo.index.commit(message, author=actor, committer=actor)
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


# --- remotes, history and push (publishing) ---------------------------------

Relation = Literal["same", "ahead", "behind", "diverged", "unrelated"]

_UNREACHABLE = (
    "could not resolve host",
    "connection refused",
    "couldn't connect",
    "failed to connect",
    "connection timed out",
    "operation timed out",
    "network is unreachable",
    "does not appear to be a git repository",
    "could not read from remote repository",
    "repository not found",
    "not found",
    "no such file or directory",
)
_AUTH_FAILED = (
    "authentication failed",
    "returned error: 401",
    "returned error: 403",
    "permission denied",
    "terminal prompts disabled",
    "could not read username",
)


class PushRejected(ShipyardError):
    """The remote refused the push (a hook, branch protection, or commits we do not have)."""


def open_repository(path: Path) -> git.Repo:
    """The project's repository; BadInput when the folder is not one."""
    try:
        return git.Repo(path)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError) as exc:
        raise BadInput(
            f"{path} is not a git repository, so there is nothing to publish.",
            hint="Run the command inside a project created by `shipyard new`, or pass its folder.",
        ) from exc


def branch_head(path: Path, branch: str = DEFAULT_BRANCH) -> str | None:
    """The sha at the tip of a local branch, or None when the branch has no commits."""
    repo = open_repository(path)
    try:
        return repo.commit(f"refs/heads/{branch}").hexsha
    except (git.BadName, ValueError):
        return None


def has_uncommitted_changes(path: Path) -> bool:
    return open_repository(path).is_dirty(untracked_files=True)


def remote_url(path: Path, name: str = "origin") -> str | None:
    """The URL a named remote points at, or None when there is no such remote."""
    repo = open_repository(path)
    if name not in [remote.name for remote in repo.remotes]:
        return None
    return repo.remote(name).url


def set_remote(path: Path, name: str, url: str) -> None:
    """Point remote ``name`` at ``url``, creating it when missing."""
    repo = open_repository(path)
    try:
        if name in [remote.name for remote in repo.remotes]:
            repo.remote(name).set_url(url)
        else:
            repo.create_remote(name, url)
    except (git.GitError, OSError) as exc:
        raise _git_failed(f"set the remote {name} to {url}", exc) from exc


def unpushed_files(
    path: Path, rev: str, exclude: Iterable[str], max_bytes: int
) -> Iterator[tuple[str, bytes | None]]:
    """(path, content) of each file version reachable from ``rev`` but not from ``exclude``.

    Content is None for files larger than ``max_bytes``. Commits in ``exclude`` that this
    repository does not have are ignored.
    """
    repo = open_repository(path)
    try:
        known = [sha for sha in exclude if _has_commit(repo, sha)]
        listing = repo.git.rev_list("--objects", rev, *(["--not", *known] if known else []))
        seen: set[tuple[str, str]] = set()
        for line in str(listing).splitlines():
            sha, _, name = line.partition(" ")
            if not name or (sha, name) in seen:
                continue
            seen.add((sha, name))
            info = repo.odb.info(hex_to_bin(sha))
            if info.type != b"blob":
                continue
            data = repo.odb.stream(hex_to_bin(sha)).read() if info.size <= max_bytes else None
            yield name, data
    except (git.GitError, OSError, ValueError) as exc:
        raise _git_failed(f"read the unpushed commits of {path}", exc) from exc


def first_commit_with(path: Path, rev: str, exclude: Iterable[str], file: str) -> str:
    """Short sha of the oldest commit in ``rev`` but not in ``exclude`` that touches ``file``."""
    repo = open_repository(path)
    known = [sha for sha in exclude if _has_commit(repo, sha)]
    args = ["--format=%h", "--reverse", rev, *(["--not", *known] if known else [])]
    try:
        shas = str(repo.git.log(*args, "--", file)).split()
    except git.GitCommandError:
        return ""
    return shas[0] if shas else ""


def _has_commit(repo: git.Repo, sha: str) -> bool:
    try:
        repo.commit(sha)
    except (ValueError, git.BadName, git.BadObject):
        return False
    return True


def tracking_shas(path: Path, name: str = "origin") -> list[str]:
    """Tips of the remote-tracking branches of ``name``: what was on the remote when last seen."""
    repo = open_repository(path)
    prefix = f"refs/remotes/{name}/"
    return [
        ref.commit.hexsha
        for ref in repo.refs
        if ref.path.startswith(prefix) and not ref.path.endswith("/HEAD")
    ]


def auth_environment(
    url: str, header: str, base: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Git environment that sends ``header`` to ``url`` only, for this one command.

    The header travels as GIT_CONFIG_KEY_n/GIT_CONFIG_VALUE_n (git >= 2.31): nothing
    lands in .git/config, the remote URL or the command line other users can see.
    """
    base = os.environ if base is None else base
    index = int(base.get("GIT_CONFIG_COUNT", "0") or 0)
    return {
        "GIT_CONFIG_COUNT": str(index + 1),
        f"GIT_CONFIG_KEY_{index}": f"http.{url}.extraHeader",
        f"GIT_CONFIG_VALUE_{index}": header,
    }


def remote_branches(path: Path, url: str, env: Mapping[str, str] | None = None) -> dict[str, str]:
    """Branch name -> sha on the remote at ``url`` (empty for an empty repository)."""
    repo = open_repository(path)
    try:
        output = str(repo.git.ls_remote("--heads", url, env=dict(env or {})))
    except git.GitCommandError as exc:
        raise _remote_failed(f"read the remote {url}", url, exc) from exc
    branches: dict[str, str] = {}
    for line in output.splitlines():
        sha, _, ref = line.partition("\t")
        if ref.startswith("refs/heads/"):
            branches[ref.removeprefix("refs/heads/")] = sha
    return branches


def fetch_objects(
    path: Path, url: str, branches: list[str], env: Mapping[str, str] | None = None
) -> None:
    """Download the remote branches' commits without creating or moving any ref."""
    if not branches:
        return
    repo = open_repository(path)
    refspecs = [f"refs/heads/{branch}" for branch in branches]
    try:
        repo.git.fetch("--no-tags", "--no-write-fetch-head", url, *refspecs, env=dict(env or {}))
    except git.GitCommandError as exc:
        raise _remote_failed(f"read the history of {url}", url, exc) from exc


def relation(path: Path, local: str, remote: str) -> Relation:
    """How the local commit's history relates to the remote one's."""
    if local == remote:
        return "same"
    repo = open_repository(path)
    ours, theirs = repo.commit(local), repo.commit(remote)
    if repo.is_ancestor(theirs, ours):
        return "ahead"
    if repo.is_ancestor(ours, theirs):
        return "behind"
    return "diverged" if repo.merge_base(ours, theirs) else "unrelated"


def count_commits(path: Path, rev: str, exclude: list[str]) -> int:
    """How many commits reachable from ``rev`` are not reachable from ``exclude``."""
    repo = open_repository(path)
    args = [rev] + (["--not", *exclude] if exclude else [])
    return int(repo.git.rev_list("--count", *args) or 0)


def push_branch(
    path: Path, remote: str, branch: str = DEFAULT_BRANCH, env: Mapping[str, str] | None = None
) -> None:
    """Push ``branch`` to the same branch on ``remote`` and track it; never forced."""
    repo = open_repository(path)
    url = repo.remote(remote).url
    refspec = f"refs/heads/{branch}:refs/heads/{branch}"
    try:
        repo.git.push("--porcelain", "--set-upstream", remote, refspec, env=dict(env or {}))
    except git.GitCommandError as exc:
        raise _remote_failed(f"push {branch} to {url}", url, exc) from exc


def _remote_failed(action: str, url: str, exc: git.GitCommandError) -> ShipyardError:
    """Classify a failed git network command: rejected push, refused credentials, or unreachable."""
    # GitPython frames them as "\n  stderr: '...'"; unwrap to git's own words.
    output = "\n".join(
        re.sub(r"^\s*(?:stdout|stderr): '(.*)'\s*$", r"\1", str(part or ""), flags=re.DOTALL)
        for part in (exc.stdout, exc.stderr)
    )
    lowered = output.lower()
    detail = "\n".join(dict.fromkeys(_git_said(output))) or output.strip()
    if "rejected" in lowered or "declined" in lowered or "non-fast-forward" in lowered:
        return PushRejected(
            f"The remote refused the push ({action}):\n{detail}",
            hint="Nothing was overwritten. If the remote has commits you do not, pull them "
            "first (git pull --rebase), then publish again; if a rule or hook on the remote "
            "refused it, ask its owner.",
        )
    if any(marker in lowered for marker in _AUTH_FAILED):
        return BadInput(
            f"The remote did not accept your credentials ({action}):\n{detail}",
            hint="Check that you may push to it (for GitHub, that GITHUB_TOKEN is valid and "
            "has the 'repo' scope), then run the command again.",
        )
    if any(marker in lowered for marker in _UNREACHABLE):
        return ShipyardError(
            f"Could not reach the remote {url}:\n{detail}",
            hint="Check the address, your network connection and that the repository exists, "
            "then run the command again.",
        )
    return ShipyardError(
        f"Could not {action}:\n{detail}",
        hint="Run the git command yourself to see more (git push origin main).",
    )


def _git_said(output: str) -> list[str]:
    """The lines of git's output a person needs."""
    said = []
    for raw in output.splitlines():
        line = raw.strip()
        if line.startswith("!\t"):  # porcelain: "!<TAB>src:dst<TAB>[summary] (reason)"
            fields = line.split("\t")
            ref = (
                fields[1].rpartition(":")[2].removeprefix("refs/heads/") if len(fields) > 1 else ""
            )
            line = f"{ref}: {fields[2] if len(fields) > 2 else 'rejected'}"
        elif not line.startswith(("remote:", "error:", "fatal:")):
            continue
        if line.removeprefix("remote:").strip():
            said.append(line)
    return said


# --- plumbing for `shipyard update` ------------------------------------------

RENDER_REF = "refs/shipyard/rendered"


def _plumbing(
    path: Path, *args: str, env: Mapping[str, str] | None = None, check: bool = True
) -> subprocess.CompletedProcess[bytes]:
    try:
        done = subprocess.run(
            ["git", "-C", str(path), *args],
            capture_output=True,
            env={**os.environ, **(env or {})},
            check=False,
            timeout=300,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise _git_failed(f"run git {args[0]} in {path}", exc) from exc
    if check and done.returncode != 0:
        raise ShipyardError(
            f"Could not run git {args[0]} in {path}: {done.stderr.decode(errors='replace').strip()}",
            hint="Check that git is installed (git --version) and the folder is a git repository.",
        )
    return done


def is_repository(path: Path) -> bool:
    done = _plumbing(path, "rev-parse", "--show-toplevel", check=False)
    return done.returncode == 0 and Path(done.stdout.decode().strip()).resolve() == path.resolve()


def git_dir(path: Path) -> Path:
    found = _plumbing(path, "rev-parse", "--absolute-git-dir").stdout.decode().strip()
    return Path(found)


def head_sha(path: Path) -> str | None:
    done = _plumbing(path, "rev-parse", "--verify", "-q", "HEAD", check=False)
    return done.stdout.decode().strip() or None


def uncommitted_paths(path: Path) -> list[str]:
    """Paths with changes git would commit (untracked files included), as git status names them."""
    output = _plumbing(path, "status", "--porcelain", "-z", "--untracked-files=all").stdout
    paths: list[str] = []
    entries = output.decode(errors="replace").split("\0")
    index = 0
    while index < len(entries):
        entry = entries[index]
        index += 1
        if not entry:
            continue
        paths.append(entry[3:])
        if entry[0] in "RC":
            index += 1  # a rename's second path (the source)
    return paths


def project_files(path: Path) -> set[str]:
    """Tracked files plus untracked ones git does not ignore."""
    output = _plumbing(path, "ls-files", "-z", "-co", "--exclude-standard").stdout
    return {name for name in output.decode().split("\0") if name and (path / name).is_file()}


def force_add(path: Path, file: str) -> None:
    """Stage `file` even where a .gitignore covers it."""
    if (path / file).is_file():
        _plumbing(path, "add", "--force", "--", file)


def read_ref(path: Path, ref: str) -> str | None:
    done = _plumbing(path, "rev-parse", "--verify", "-q", f"{ref}^{{commit}}", check=False)
    return done.stdout.decode().strip() or None


def update_ref(path: Path, ref: str, sha: str) -> None:
    _plumbing(path, "update-ref", ref, sha)


def show_file(path: Path, rev: str, file: str) -> bytes | None:
    done = _plumbing(path, "show", f"{rev}:{file}", check=False)
    return done.stdout if done.returncode == 0 else None


def extract_tree(path: Path, rev: str, dest: Path) -> None:
    """Write the files of commit `rev` into `dest` (never touching the work tree or index)."""
    import io
    import tarfile

    archive = _plumbing(path, "archive", "--format=tar", rev).stdout
    dest.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(dest, filter="data")


def snapshot_tree(path: Path, folder: Path, message: str, parent: str | None) -> str:
    """A commit of `folder`'s files in `path`'s object store, on no branch; its sha.

    It goes through a throwaway index, so the project's index and work tree stay as they are.
    """
    import tempfile

    with tempfile.TemporaryDirectory(prefix="shipyard-index-") as scratch:
        env = {
            "GIT_INDEX_FILE": str(Path(scratch) / "index"),
            "GIT_AUTHOR_NAME": AUTHOR_NAME,
            "GIT_AUTHOR_EMAIL": AUTHOR_EMAIL,
            "GIT_COMMITTER_NAME": AUTHOR_NAME,
            "GIT_COMMITTER_EMAIL": AUTHOR_EMAIL,
        }
        env["GIT_DIR"] = str(git_dir(path))
        env["GIT_WORK_TREE"] = str(folder)
        _plumbing(folder, "add", "-A", "--force", ".", env=env)
        tree = _plumbing(folder, "write-tree", env=env).stdout.decode().strip()
        parents = ["-p", parent] if parent else []
        commit = _plumbing(folder, "commit-tree", tree, *parents, "-m", message, env=env)
    return commit.stdout.decode().strip()
