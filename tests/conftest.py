"""Shared fixtures: every test runs with a throwaway HOME and git identity, never the developer's."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import throwaway_postgres

REPO_ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = REPO_ROOT / "examples"


@pytest.fixture(scope="session")
def shared_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One XDG cache for the session: Shipyard keeps what a render can reuse there (the
    rendered app's OpenAPI document), so the suite pays for each distinct render once."""
    return tmp_path_factory.mktemp("xdg-cache")


@pytest.fixture(autouse=True)
def isolated_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch, shared_cache: Path
) -> Path:
    """A fresh HOME and git config for each test, so results never depend on this machine."""
    # pip's download cache is kept (it is a cache, not configuration): rendered projects
    # installed by slow tests would otherwise download everything again each time.
    pip_cache = os.environ.get("PIP_CACHE_DIR") or str(Path.home() / ".cache" / "pip")
    monkeypatch.setenv("PIP_CACHE_DIR", pip_cache)
    home = tmp_path_factory.mktemp("home")
    gitconfig = home / ".gitconfig"
    gitconfig.write_text(
        "[user]\n\tname = Shipyard Tests\n\temail = tests@shipyard.invalid\n"
        "[init]\n\tdefaultBranch = main\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(gitconfig))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(shared_cache))
    for name in (
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_INDEX_FILE",
        "GITHUB_TOKEN",
        "GH_TOKEN",
        "SHIPYARD_VERBOSE",
        "DATABASE_URL",
    ):
        monkeypatch.delenv(name, raising=False)
    return home


@pytest.fixture
def studio_spec_file() -> Path:
    """The design doc's example launch spec, as shipped in examples/."""
    return EXAMPLES / "studio-booking.yaml"


@pytest.fixture(scope="module")
def postgres() -> Iterator[throwaway_postgres.PostgresServer]:
    """A throwaway PostgreSQL server for one test module (skips without the server programs)."""
    if not throwaway_postgres.available():
        pytest.skip("PostgreSQL server programs (initdb, pg_ctl) are not installed")
    server = throwaway_postgres.PostgresServer.start()
    try:
        yield server
    finally:
        server.stop()


# --- two test processes ---------------------------------------------------------------------
#
# scripts/test runs the suite in two processes (pytest-xdist, --dist loadgroup): most slow
# tests wait on one child process (a rendered project's own suite, a container, a browser),
# so a second process keeps the second core busy. A group runs whole in one process, so what a
# module sets up once (a render, a staging, a throwaway PostgreSQL) is set up once there. A
# group is a test file unless the file names finer groups (tests that share nothing costly).
# Groups start longest first, by the order below (minutes measured in CI), so that no long
# file starts last; files not named here follow in file order.
LONGEST_FIRST = (
    "test_deploy_swarm",
    "test_check_live",
    "test_rendered_projects",
    "test_update",
    "test_staging_docker",
    "test_conformance",
    "test_monitoring",
    "test_typescript_client",
    "test_people",
    "test_plain",
    "test_rls",
    "test_login_methods",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("xdist_group") is None:
            item.add_marker(pytest.mark.xdist_group(item.module.__name__))
    rank = {name: index for index, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.module.__name__, len(rank)))
