"""Publishing: GitHub through a local fake of its API, any remote through bare repositories."""

from __future__ import annotations

import base64
import os
import socket
import stat
import subprocess
import sys
from pathlib import Path

import git
import pytest
from typer.testing import CliRunner

from tests.github_fake import FakeGitHub
from wizard import repo
from wizard.cli import app
from wizard.errors import BadInput, ShipyardError
from wizard.publish import parse_github_name, publish
from wizard.secret_scan import SecretFound, check_content, check_name

TOKEN = "ghp_" + "Fake0Token1For2Shipyard3Tests4567890"
OTHER_TOKEN = "ghp_" + "Wrong0Token1Nobody2Knows3About456789"
LOGIN = "octo"
REPO_ROOT = Path(__file__).resolve().parent.parent


# --- fixtures -------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def no_outside_credentials(monkeypatch, tmp_path):
    """No token, API address or `gh` from the developer's machine leaks into a test."""
    for name in ("GITHUB_TOKEN", "GH_TOKEN", "GITHUB_API_URL", "GIT_CONFIG_COUNT", "CI"):
        monkeypatch.delenv(name, raising=False)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    git_path = subprocess.run(["which", "git"], capture_output=True, text=True).stdout.strip()
    (bin_dir / "git").symlink_to(git_path)
    monkeypatch.setenv("PATH", str(bin_dir))  # no gh here unless a test puts one
    return bin_dir


@pytest.fixture
def project(tmp_path) -> Path:
    """A small committed project, with a git-ignored .env holding a secret."""
    path = tmp_path / "club-house"
    repo.init_repository(path)
    (path / "app").mkdir()
    (path / "app" / "main.py").write_text("print('hello')\n")
    (path / "README.md").write_text("# Club House\n")
    (path / ".gitignore").write_text(".env\n")
    (path / ".env").write_text("SECRET_KEY=not-for-git\n")
    (path / ".env.example").write_text("SECRET_KEY=change-me\n")
    repo.commit_all(path, "Create Club House with Shipyard")
    return path


@pytest.fixture
def fake(tmp_path, monkeypatch):
    with FakeGitHub(tmp_path / "github", tokens={TOKEN: LOGIN}, orgs={"acme": {LOGIN}}) as server:
        monkeypatch.setenv("GITHUB_API_URL", server.api_url)
        monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
        yield server


@pytest.fixture
def http_fake(tmp_path, monkeypatch):
    """The fake whose clone_url is served over smart HTTP and demands the token."""
    with FakeGitHub(
        tmp_path / "github", tokens={TOKEN: LOGIN}, orgs={"acme": {LOGIN}}, git_over_http=True
    ) as server:
        monkeypatch.setenv("GITHUB_API_URL", server.api_url)
        monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
        yield server


def run(*args: str):
    return CliRunner().invoke(app, list(args))


def head(path: Path, ref: str = "main") -> str | None:
    try:
        return git.Repo(path).commit(ref).hexsha
    except (git.BadName, ValueError):
        return None


def commit_file(project: Path, name: str, text: str, message: str) -> str:
    (project / name).write_text(text)
    return repo.commit_all(project, message)


def bare(path: Path) -> Path:
    git.Repo.init(path, bare=True, initial_branch="main")
    return path


def assert_clean_failure(result, code: int) -> None:
    assert result.exit_code == code, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


# --- the GitHub flow ------------------------------------------------------------------------


def test_github_creates_a_private_org_repository_and_pushes_head(project, fake):
    result = run("publish", "--github", "acme/club-house", "-C", str(project))

    assert result.exit_code == 0, result.stderr
    assert [(r.method, r.path) for r in fake.requests] == [
        ("GET", "/user"),
        ("POST", "/orgs/acme/repos"),
    ]
    create = fake.requests[1]
    assert create.body == {"name": "club-house", "private": True, "auto_init": False}
    for request in fake.requests:
        assert request.headers["Authorization"] == f"Bearer {TOKEN}"
        assert request.headers["Accept"] == "application/vnd.github+json"
        assert request.headers["X-GitHub-Api-Version"] == "2022-11-28"
    created = fake.repository("acme", "club-house")
    assert created.private
    assert head(created.path) == head(project)
    assert git.Repo(project).remote("origin").url == str(created.path)
    assert result.stdout.strip() == f"{fake.base_url}/acme/club-house"
    assert "Creating the private repository acme/club-house" in result.stderr


def test_github_owner_that_is_the_user_uses_user_repos(project, fake):
    result = run("publish", "--github", f"{LOGIN}/club-house", "--public", "-C", str(project))

    assert result.exit_code == 0, result.stderr
    assert fake.requests[1].method == "POST" and fake.requests[1].path == "/user/repos"
    assert fake.requests[1].body == {"name": "club-house", "private": False, "auto_init": False}
    assert not fake.repository(LOGIN, "club-house").private


def test_second_publish_pushes_only_the_new_commit(project, fake):
    first = publish(project, github_name="acme/club-house")
    assert first.created and first.new_commits == 1
    new_head = commit_file(project, "NOTES.md", "more\n", "Add notes")

    second = publish(project, github_name="acme/club-house")

    assert not second.created and second.new_commits == 1
    bare_repo = git.Repo(fake.repository("acme", "club-house").path)
    assert bare_repo.commit("main").hexsha == new_head
    assert bare_repo.commit("main").parents[0].hexsha == first.head  # fast-forward, not forced
    # the taken name was looked up, not created twice
    assert [(r.method, r.path) for r in fake.requests[2:]] == [
        ("GET", "/user"),
        ("POST", "/orgs/acme/repos"),
        ("GET", "/repos/acme/club-house"),
    ]


def test_rerun_without_options_pushes_to_origin_and_nothing_when_up_to_date(project, fake):
    publish(project, github_name="acme/club-house")
    new_head = commit_file(project, "NOTES.md", "more\n", "Add notes")

    result = run("publish", "-C", str(project), "--json")

    assert result.exit_code == 0, result.stderr
    assert head(fake.repository("acme", "club-house").path) == new_head
    assert '"new_commits": 1' in result.stdout
    again = publish(project)
    assert again.new_commits == 0


def test_existing_empty_repository_is_used(project, fake):
    fake.add_repository("acme", "club-house", private=True)
    events = []

    published = publish(project, github_name="acme/club-house", public=True, on_event=events.append)

    assert not published.created
    assert head(fake.repository("acme", "club-house").path) == head(project)
    assert "Note: acme/club-house stays private, as it already is" in [e.message for e in events]


def test_existing_repository_with_unrelated_history_is_refused(project, fake, tmp_path):
    existing = fake.add_repository("acme", "club-house")
    other = tmp_path / "other"
    repo.init_repository(other)
    commit_file(other, "README.md", "someone else's project\n", "Their start")
    git.Repo(other).git.push(str(existing.path), "main:main")
    before = head(existing.path)

    result = run("publish", "--github", "acme/club-house", "-C", str(project))

    assert_clean_failure(result, 2)
    assert "different project's history" in result.stderr
    assert head(existing.path) == before
    assert repo.remote_url(project, "origin") is None  # nothing changed in the project


def test_existing_repository_we_may_not_push_to_is_refused(project, fake):
    fake.add_repository("other", "club-house", private=False)
    fake.fail("POST", "/orgs/other/repos", 422, "name already exists on this account")

    result = run("publish", "--github", "other/club-house", "-C", str(project))

    assert_clean_failure(result, 2)
    assert "may not push" in result.stderr and "GITHUB_TOKEN" in result.stderr


def test_gh_cli_token_is_used_when_no_variable_is_set(project, fake, monkeypatch):
    monkeypatch.delenv("GITHUB_TOKEN")
    gh = Path(os.environ["PATH"]) / "gh"
    gh.write_text(f'#!/bin/sh\n[ "$1 $2" = "auth token" ] && echo {TOKEN}\n')
    gh.chmod(gh.stat().st_mode | stat.S_IEXEC)

    published = publish(project, github_name="acme/club-house")

    assert published.created
    assert fake.requests[0].headers["Authorization"] == f"Bearer {TOKEN}"


def test_gh_token_variable_is_honoured_and_named(project, fake, monkeypatch):
    monkeypatch.delenv("GITHUB_TOKEN")
    monkeypatch.setenv("GH_TOKEN", OTHER_TOKEN)

    result = run("publish", "--github", "acme/club-house", "-C", str(project))

    assert_clean_failure(result, 2)
    assert "GH_TOKEN" in result.stderr and "401" in result.stderr


# --- the token never lands on disk ----------------------------------------------------------


def files_containing(root: Path, needles: list[bytes]) -> list[Path]:
    found = []
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink():
            data = path.read_bytes()
            if any(needle in data for needle in needles):
                found.append(path)
    return found


def test_token_reaches_git_only_in_memory(project, http_fake, tmp_path):
    publish(project, github_name="acme/club-house")
    commit_file(project, "NOTES.md", "more\n", "Add notes")
    publish(project, github_name="acme/club-house")
    publish(project)  # re-run through origin, token still only in memory

    bare_path = http_fake.repository("acme", "club-house").path
    assert head(bare_path) == head(project)
    # git really authenticated with the token (the fake refuses anything else) ...
    pushes = [r for r in http_fake.git_requests if r.path.endswith("git-receive-pack")]
    assert len(pushes) == 2
    header = base64.b64encode(f"x-access-token:{TOKEN}".encode()).decode()
    assert {r.headers.get("Authorization") for r in http_fake.git_requests} == {f"Basic {header}"}
    # ... yet neither the token nor its header is written anywhere: project, .git, remote, HOME
    origin = git.Repo(project).remote("origin").url
    assert origin == f"{http_fake.base_url}/git/acme/club-house.git"
    assert "extraheader" not in (project / ".git" / "config").read_text().lower()
    needles = [TOKEN.encode(), header.encode()]
    assert files_containing(tmp_path, needles) == []


def test_push_without_the_token_is_refused_not_prompted(project, http_fake, monkeypatch):
    publish(project, github_name="acme/club-house")
    commit_file(project, "NOTES.md", "more\n", "Add notes")
    monkeypatch.delenv("GITHUB_TOKEN")

    result = run("publish", "-C", str(project))

    assert_clean_failure(result, 2)
    assert "credentials" in result.stderr


def test_token_travels_in_git_config_env_after_existing_entries():
    env = repo.auth_environment(
        "https://github.com/", "Authorization: Basic abc", {"GIT_CONFIG_COUNT": "2"}
    )
    assert env == {
        "GIT_CONFIG_COUNT": "3",
        "GIT_CONFIG_KEY_2": "http.https://github.com/.extraHeader",
        "GIT_CONFIG_VALUE_2": "Authorization: Basic abc",
    }


# --- GitHub's errors ------------------------------------------------------------------------


def test_wrong_token_is_refused_naming_the_variable(project, fake, monkeypatch):
    monkeypatch.setenv("GITHUB_TOKEN", OTHER_TOKEN)

    result = run("publish", "--github", "acme/club-house", "-C", str(project))

    assert_clean_failure(result, 2)
    assert "GITHUB_TOKEN" in result.stderr and "401" in result.stderr
    assert OTHER_TOKEN not in result.stderr
    assert [(r.method, r.path) for r in fake.requests] == [("GET", "/user")]
    assert repo.remote_url(project, "origin") is None


def test_missing_token_names_the_variables(project, fake, monkeypatch):
    monkeypatch.delenv("GITHUB_TOKEN")

    result = run("publish", "--github", "acme/club-house", "-C", str(project))

    assert_clean_failure(result, 2)
    assert "GITHUB_TOKEN" in result.stderr and "GH_TOKEN" in result.stderr
    assert fake.requests == []


def test_missing_scope_is_explained(project, tmp_path, monkeypatch):
    with FakeGitHub(
        tmp_path / "github", tokens={TOKEN: LOGIN}, scopes={TOKEN: "public_repo"}
    ) as server:
        monkeypatch.setenv("GITHUB_API_URL", server.api_url)
        monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
        result = run("publish", "--github", "acme/club-house", "-C", str(project))

    assert_clean_failure(result, 2)
    assert "403" in result.stderr and "'repo' scope" in result.stderr
    assert "GITHUB_TOKEN" in result.stderr and "public_repo" in result.stderr


def test_rate_limit_is_a_failure_not_bad_input(project, fake):
    fake.fail("GET", "/user", 403, "API rate limit exceeded", **{"X-RateLimit-Remaining": "0"})

    result = run("publish", "--github", "acme/club-house", "-C", str(project))

    assert_clean_failure(result, 1)
    assert "rate limit" in result.stderr


def test_unknown_organisation_is_bad_input(project, fake):
    result = run("publish", "--github", "nobody-org/club-house", "-C", str(project))

    assert_clean_failure(result, 2)
    assert "nobody-org" in result.stderr and "404" in result.stderr


def test_invalid_name_rejected_by_github_is_bad_input(project, fake):
    fake.fail("POST", "/orgs/acme/repos", 422, "Validation Failed")

    result = run("publish", "--github", "acme/club-house", "-C", str(project))

    assert_clean_failure(result, 2)
    assert "422" in result.stderr


def test_github_server_error_is_a_failure(project, fake):
    fake.fail("POST", "/orgs/acme/repos", 502, "Server Error")

    result = run("publish", "--github", "acme/club-house", "-C", str(project))

    assert_clean_failure(result, 1)
    assert "502" in result.stderr


def test_unreachable_github_is_a_failure(project, monkeypatch):
    monkeypatch.setenv("GITHUB_API_URL", f"http://127.0.0.1:{closed_port()}")
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)

    result = run("publish", "--github", "acme/club-house", "-C", str(project))

    assert_clean_failure(result, 1)
    assert "Could not reach GitHub" in result.stderr and "GITHUB_API_URL" in result.stderr


@pytest.mark.parametrize("name", ["club-house", "acme/", "/x", "a/b/c", "acme/..", "ac me/x"])
def test_github_name_must_be_owner_slash_name(name):
    with pytest.raises(BadInput, match="OWNER/NAME"):
        parse_github_name(name)


# --- any remote -----------------------------------------------------------------------------


def test_remote_bare_repository_path(project, tmp_path, monkeypatch):
    target = bare(tmp_path / "backup.git")
    monkeypatch.chdir(tmp_path)

    result = run("publish", "--remote", "backup.git", "-C", str(project))  # relative to cwd

    assert result.exit_code == 0, result.stderr
    assert head(target) == head(project)
    assert repo.remote_url(project, "origin") == str(target)
    assert git.Repo(project).git.rev_parse("--abbrev-ref", "main@{upstream}") == "origin/main"


def test_remote_ahead_is_refused_never_forced(project, tmp_path):
    target = bare(tmp_path / "shared.git")
    publish(project, remote=str(target))
    colleague = tmp_path / "colleague"
    git.Repo.clone_from(str(target), colleague)
    their_head = commit_file(colleague, "THEIRS.md", "theirs\n", "Their change")
    git.Repo(colleague).git.push("origin", "main")
    commit_file(project, "MINE.md", "mine\n", "My change")

    result = run("publish", "-C", str(project))

    assert_clean_failure(result, 1)
    assert "never does that" in result.stderr and "git pull" in result.stderr
    assert head(target) == their_head


def test_rejected_push_says_what_the_remote_said(project, tmp_path):
    target = bare(tmp_path / "guarded.git")
    hook = target / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'main is protected here' >&2\nexit 1\n")
    hook.chmod(0o755)

    result = run("publish", "--remote", str(target), "-C", str(project))

    assert_clean_failure(result, 1)
    assert "refused the push" in result.stderr and "main is protected here" in result.stderr
    assert head(target) is None


def test_unreachable_remote_is_a_failure(project, tmp_path):
    result = run("publish", "--remote", str(tmp_path / "missing.git"), "-C", str(project))
    assert_clean_failure(result, 1)
    assert "Could not reach the remote" in result.stderr

    url = f"http://127.0.0.1:{closed_port()}/x.git"
    result = run("publish", "--remote", url, "-C", str(project))
    assert_clean_failure(result, 1)
    assert "Could not reach the remote" in result.stderr


def test_origin_pointing_elsewhere_is_kept(project, tmp_path):
    publish(project, remote=str(bare(tmp_path / "first.git")))

    result = run("publish", "--remote", str(bare(tmp_path / "second.git")), "-C", str(project))

    assert_clean_failure(result, 2)
    assert "already points at" in result.stderr
    assert head(tmp_path / "second.git") is None


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ([], "no remote yet"),
        (["--github", "acme/x", "--remote", "/tmp/x.git"], "not both"),
    ],
)
def test_where_to_publish_must_be_clear(project, args, expected):
    result = run("publish", *args, "-C", str(project))
    assert_clean_failure(result, 2)
    assert expected in result.stderr


def test_not_a_repository_or_no_commits(tmp_path):
    result = run("publish", "--remote", "/tmp/x.git", "-C", str(tmp_path))
    assert_clean_failure(result, 2)
    assert "not a git repository" in result.stderr

    repo.init_repository(tmp_path / "empty")
    result = run("publish", "--remote", "/tmp/x.git", "-C", str(tmp_path / "empty"))
    assert_clean_failure(result, 2)
    assert "no commits" in result.stderr


# --- secrets stay home ----------------------------------------------------------------------


def test_committed_env_file_is_refused_before_anything_leaves(project, fake):
    git.Repo(project).git.add("--force", ".env")
    repo.commit_all(project, "Oops")

    result = run("publish", "--github", "acme/club-house", "-C", str(project))

    assert_clean_failure(result, 2)
    assert ".env" in result.stderr and "Refusing to push" in result.stderr
    assert fake.requests == []  # no repository created for a push that cannot happen


def test_private_key_and_tokens_are_named(project, tmp_path):
    key = (
        "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk=\n-----END OPENSSH PRIVATE KEY-----\n"
    )
    commit_file(project, "deploy_key", key, "Add key")
    commit_file(project, "settings.py", f"TOKEN = '{TOKEN}'\n", "Add settings")
    target = bare(tmp_path / "x.git")

    with pytest.raises(SecretFound) as caught:
        publish(project, remote=str(target))

    paths = {finding.path for finding in caught.value.findings}
    assert paths == {"deploy_key", "settings.py"}
    assert "private key" in str(caught.value) and "GitHub token" in str(caught.value)
    assert head(target) is None


def test_only_commits_not_yet_pushed_are_scanned(project, tmp_path):
    target = bare(tmp_path / "x.git")
    publish(project, remote=str(target))
    commit_file(project, "id_rsa", "not really a key\n", "Add id_rsa")

    with pytest.raises(SecretFound, match="id_rsa"):
        publish(project)


@pytest.mark.parametrize(
    ("name", "flagged"),
    [
        (".env", True),
        ("config/.env.production", True),
        (".env.example", False),
        ("id_ed25519", True),
        ("id_ed25519.pub", False),
        ("certs/store.p12", True),
        ("app/env.py", False),
    ],
)
def test_secret_file_names(name, flagged):
    assert (check_name(name) is not None) is flagged


@pytest.mark.parametrize(
    ("text", "flagged"),
    [
        ("AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE", True),
        ("key = 'sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc'", True),
        ("slack = 'xoxb-" + "123456789012-abcdefghij'", True),
        ("OPENAI_API_KEY=sk-proj-" + "Ab3dEfGh1jKlMn0pQrStUvWxYz012345_-ab", True),
        ("class='sk-spinner-double-bounce-container-element-wide'", False),
        ("SECRET_KEY=change-me", False),
        ("password_hash = argon2.hash(password)", False),
        ("token = secrets.token_urlsafe(32)", False),
    ],
)
def test_secret_contents(text, flagged):
    assert (check_content(text.encode()) is not None) is flagged


# --- the console script and the core's boundaries -------------------------------------------


def test_shipyard_publish_as_a_process(project, fake):
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "wizard", "publish", "--github", "acme/club-house"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert head(fake.repository("acme", "club-house").path) == head(project)
    assert done.stdout.strip() == f"{fake.base_url}/acme/club-house"


def test_publishing_modules_import_no_front_end():
    code = (
        "import sys, wizard.publish, wizard.github, wizard.repo, wizard.secret_scan\n"
        "bad = [m for m in ('typer', 'textual', 'questionary', 'click') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO_ROOT, timeout=60)


def test_errors_are_shipyard_errors(project, tmp_path):
    with pytest.raises(ShipyardError):
        publish(project, remote=str(tmp_path / "missing.git"))


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_enterprise_api_url_with_a_path_is_honoured(project, tmp_path, monkeypatch):
    with FakeGitHub(tmp_path / "ghes", tokens={TOKEN: LOGIN}, prefix="/api/v3") as server:
        monkeypatch.setenv("GITHUB_API_URL", server.api_url + "/")
        monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
        published = publish(project, github_name=f"{LOGIN}/club-house")

        assert [r.path for r in server.requests] == ["/user", "/user/repos"]
        assert head(server.repository(LOGIN, "club-house").path) == published.head
