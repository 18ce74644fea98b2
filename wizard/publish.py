"""Publishing: put a committed project in a repository the founder owns and push it."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from urllib.parse import urlsplit

from wizard import github, repo, secret_scan
from wizard.errors import BadInput, ShipyardError
from wizard.events import Event, EventSink, ignore

REMOTE_NAME = "origin"
_STALL_LIMITS = {"GIT_HTTP_LOW_SPEED_LIMIT": "1000", "GIT_HTTP_LOW_SPEED_TIME": "60"}
_GITHUB_NAME = re.compile(r"^([A-Za-z0-9](?:[A-Za-z0-9-]{0,38}))/([A-Za-z0-9._-]{1,100})$")


@dataclass(frozen=True)
class Published:
    """Where the project now lives and what this run pushed."""

    remote_url: str
    branch: str
    head: str
    new_commits: int
    created: bool  # a GitHub repository was created by this run
    web_url: str | None = None

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class _Destination:
    url: str
    git_env: dict[str, str]
    created: bool = False
    web_url: str | None = None


def parse_github_name(text: str) -> tuple[str, str]:
    """'acme/club-house' -> ('acme', 'club-house'); BadInput for anything else."""
    match = _GITHUB_NAME.match(text.strip())
    if not match or match.group(2) in (".", ".."):
        raise BadInput(
            f"--github needs OWNER/NAME, like acme/club-house; got {text!r}.",
            hint="OWNER is your GitHub user or organisation; NAME may use letters, digits, "
            "'-', '_' and '.'.",
        )
    return match.group(1), match.group(2).removesuffix(".git")


def publish(
    project: Path,
    *,
    github_name: str | None = None,
    remote: str | None = None,
    public: bool = False,
    branch: str = repo.DEFAULT_BRANCH,
    prompts: bool = False,
    env: Mapping[str, str] | None = None,
    on_event: EventSink | None = None,
) -> Published:
    """Push ``branch`` of ``project`` to GitHub (``github_name``), to ``remote``, or to origin.

    Never force-pushes: a remote holding another project's history, or commits the
    project does not have, is refused with a message. ``prompts`` lets git ask for
    credentials on the terminal; unattended runs keep it False so nothing blocks.
    """
    env = os.environ if env is None else env
    emit = on_event or ignore
    project = project.resolve()
    token: github.Token | None = None
    try:
        if github_name and remote:
            raise BadInput("Choose one destination: --github OWNER/NAME or --remote URL, not both.")
        head = repo.branch_head(project, branch)
        if head is None:
            raise BadInput(
                f"{project} has no commits on the {branch} branch, so there is nothing to publish.",
                hint="Create the project with `shipyard new`, or commit your work to "
                f"{branch} first.",
            )
        if repo.has_uncommitted_changes(project):
            emit(Event("publish", "Note: uncommitted changes stay on this machine"))

        emit(Event("publish", "Checking the commits for secrets before anything leaves"))
        secret_scan.refuse_secrets(project, branch, repo.tracking_shas(project, REMOTE_NAME))

        origin = repo.remote_url(project, REMOTE_NAME)
        if github_name:
            owner, name = parse_github_name(github_name)
            _refuse_other_origin(origin, f"--github {owner}/{name}", (owner, name))
            token = github.find_token(env, github.api_url(env))
            destination = _github_destination(owner, name, token, public, env, emit)
            if origin is not None:  # the founder's own address for it (SSH, say) wins
                destination = replace(
                    destination, url=origin, git_env=_auth_env(origin, token, env)
                )
        elif remote:
            url = _absolute_if_local(remote)
            _refuse_other_origin(origin, f"--remote {remote}", url=url)
            destination = _Destination(url, {})
        elif origin:
            token = _token_for(origin, env)
            destination = _Destination(origin, _auth_env(origin, token, env))
        else:
            raise BadInput(
                "Say where to publish: this project has no remote yet.",
                hint="Use --github OWNER/NAME to create a GitHub repository, or --remote URL "
                "for any git host (GitLab, Gitea, a bare repository path).",
            )
        return _push(project, branch, head, destination, prompts, emit)
    except ShipyardError as exc:
        if token is not None:
            exc.message = exc.message.replace(token.value, "***")
            exc.hint = exc.hint.replace(token.value, "***") if exc.hint else exc.hint
            exc.args = (exc.message,)
        raise


def _github_destination(
    owner: str,
    name: str,
    token: github.Token,
    public: bool,
    env: Mapping[str, str],
    emit: EventSink,
) -> _Destination:
    client = github.GitHub(token, github.api_url(env))
    emit(Event("publish", f"Checking {token.described} with GitHub"))
    login = client.login()
    is_user = owner.lower() == login.lower()
    visibility = "public" if public else "private"
    emit(Event("publish", f"Creating the {visibility} repository {owner}/{name}"))
    created = True
    try:
        repository = client.create_repository(owner, name, private=not public, is_user=is_user)
    except github.NameTaken:
        created = False
        repository = client.get_repository(owner, name)
        if not repository.can_push:
            raise BadInput(
                f"{repository.full_name} already exists and {token.described} may not push to it.",
                hint="Choose another name with --github OWNER/NAME, or ask the repository's "
                "owner for write access.",
            ) from None
        emit(Event("publish", f"{repository.full_name} already exists; checking its history"))
        if repository.private == public:
            kept = "private" if repository.private else "public"
            emit(Event("publish", f"Note: {repository.full_name} stays {kept}, as it already is"))
    if urlsplit(repository.clone_url).username:
        raise ShipyardError(
            f"GitHub returned a clone address with credentials in it for {repository.full_name}.",
            hint="Shipyard never stores credentials in a remote URL; check GITHUB_API_URL.",
        )
    return _Destination(
        repository.clone_url,
        _auth_env(repository.clone_url, token, env),
        created=created,
        web_url=repository.html_url,
    )


def _push(
    project: Path,
    branch: str,
    head: str,
    destination: _Destination,
    prompts: bool,
    emit: EventSink,
) -> Published:
    url = destination.url
    git_env = dict(destination.git_env)
    if not prompts or git_env:  # with a token, a prompt would only confuse
        git_env["GIT_TERMINAL_PROMPT"] = "0"
    # A stalled connection gives up after a minute instead of hanging CI forever.
    for name, value in _STALL_LIMITS.items():
        git_env.setdefault(name, os.environ.get(name, value))

    emit(Event("publish", f"Reading what {url} already holds"))
    branches = repo.remote_branches(project, url, git_env)
    repo.fetch_objects(project, url, list(branches), git_env)
    state = _check_history(project, branch, head, url, branches)

    if repo.remote_url(project, REMOTE_NAME) is None:
        emit(Event("publish", f"Setting {REMOTE_NAME} to {url}"))
        repo.set_remote(project, REMOTE_NAME, url)

    if state == "same":
        emit(Event("publish", f"{url} is up to date: nothing new to push"))
        new_commits = 0
    else:
        new_commits = repo.count_commits(project, branch, list(branches.values()))
        plural = "" if new_commits == 1 else "s"
        emit(Event("publish", f"Pushing {new_commits} new commit{plural} on {branch} to {url}"))
        repo.push_branch(project, REMOTE_NAME, branch, git_env)
    emit(Event("done", f"Published {branch} ({head[:7]}) to {destination.web_url or url}"))
    return Published(
        remote_url=url,
        branch=branch,
        head=head,
        new_commits=new_commits,
        created=destination.created,
        web_url=destination.web_url,
    )


def _check_history(
    project: Path, branch: str, head: str, url: str, branches: Mapping[str, str]
) -> repo.Relation | None:
    """Refuse a remote whose history is not ours to extend; None for an empty remote."""
    if not branches:
        return None
    target = branches.get(branch)
    if target is None:
        # The branch is new there; refuse only if nothing on the remote shares our history.
        if all(repo.relation(project, head, sha) == "unrelated" for sha in branches.values()):
            raise _unrelated(url)
        return None
    state = repo.relation(project, head, target)
    if state == "unrelated":
        raise _unrelated(url)
    if state in ("behind", "diverged"):
        raise repo.PushRejected(
            f"{url} has commits on {branch} that this project does not have, "
            "so pushing would overwrite them; Shipyard never does that.",
            hint=f"Bring them in first (git pull --rebase origin {branch}), check the result, "
            "then publish again.",
        )
    return state


def _unrelated(url: str) -> BadInput:
    return BadInput(
        f"{url} already holds a different project's history; Shipyard will not push over it.",
        hint="Publish to a new repository (another --github OWNER/NAME or --remote URL), "
        "or empty that one first.",
    )


def _refuse_other_origin(
    origin: str | None,
    asked: str,
    github_name: tuple[str, str] | None = None,
    url: str | None = None,
) -> None:
    """Keep a project's existing origin: never silently repoint it somewhere else."""
    if origin is None:
        return
    if github_name is not None and _names_repository(origin, *github_name):
        return
    if url is not None and _same_place(origin, url):
        return
    raise BadInput(
        f"This project's origin already points at {origin}, not where {asked} would publish.",
        hint="Run `shipyard publish` without options to push to origin, or change it first "
        "(git remote set-url origin URL) if you really mean to move the project.",
    )


def _names_repository(url: str, owner: str, name: str) -> bool:
    path = url.rstrip("/").removesuffix(".git").replace(":", "/").lower()
    return path.endswith(f"/{owner}/{name}".lower())


def _same_place(a: str, b: str) -> bool:
    if a == b:
        return True
    if _is_local(a) and _is_local(b):
        return Path(a).resolve() == Path(b).resolve()
    return a.rstrip("/").removesuffix(".git") == b.rstrip("/").removesuffix(".git")


def _is_local(url: str) -> bool:
    if "://" in url:
        return url.startswith("file://")
    # scp-like "host:path" is remote; "C:\\path" and "./a:b" are not worth the ambiguity here.
    return ":" not in url.split("/", 1)[0]


def _absolute_if_local(url: str) -> str:
    """A relative path means the founder's current folder, not the project's."""
    if "://" in url or not _is_local(url):
        return url
    return str(Path(url).expanduser().resolve())


def _auth_env(url: str, token: github.Token | None, env: Mapping[str, str]) -> dict[str, str]:
    """The token as an in-memory git header, only for http(s) on the GitHub host it belongs to."""
    parts = urlsplit(url)
    if token is None or parts.scheme not in ("http", "https"):
        return {}
    scope = f"{parts.scheme}://{parts.netloc}/"
    return repo.auth_environment(scope, github.basic_auth_header(token), env)


def _token_for(origin: str, env: Mapping[str, str]) -> github.Token | None:
    """Re-running without options: use the token only when origin is on the GitHub host."""
    parts = urlsplit(origin)
    if parts.scheme not in ("http", "https"):
        return None
    if parts.netloc != github.web_host(github.api_url(env)):
        return None
    try:
        return github.find_token(env, github.api_url(env))
    except BadInput:
        return None  # git then uses the founder's own credential helper
