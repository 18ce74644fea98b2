"""Render every example spec and run the rendered project's own lint and test suite.

On SQLite always; on PostgreSQL with a throwaway server (tests/throwaway_postgres.py)
when the server programs are installed. The rendered suites run with this interpreter,
which has the blueprint's dependencies; one test also installs a project the way its
README says, in a fresh virtual environment.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest
import random_specs
from rendered_suite import run, run_suite

from wizard.blueprints import render
from wizard.spec import load_spec

REPO = Path(__file__).resolve().parent.parent
SPECS = [
    *sorted((REPO / "examples").glob("*.yaml")),
    *sorted((REPO / "tests" / "blueprint_specs").glob("*.yaml")),
]
# Specs nobody wrote by hand (tests/random_specs.py); fixed seeds keep failures reproducible.
RANDOM_SEEDS = [100, 105, 201]


def spec_id(path: Path) -> str:
    return path.stem


def per_spec(paths: list[Path]) -> list:
    """One test process group per spec (tests/conftest.py): its render is made once there."""
    return [
        pytest.param(p, id=spec_id(p), marks=pytest.mark.xdist_group(f"rendered-{p.stem}"))
        for p in paths
    ]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[Path, Path]:
    """Each spec rendered once for this module, on demand."""
    return {}


def render_once(cache: dict[Path, Path], spec_path: Path, tmp_path_factory) -> Path:
    if spec_path not in cache:
        dest = tmp_path_factory.mktemp(spec_path.stem) / spec_path.stem
        render(load_spec(spec_path), dest)
        cache[spec_path] = dest
    return cache[spec_path]


@pytest.mark.slow
@pytest.mark.parametrize("spec_path", per_spec(SPECS))
def test_rendered_project_passes_ruff(spec_path, rendered, tmp_path_factory):
    project = render_once(rendered, spec_path, tmp_path_factory)
    for args in (["check", "--no-cache", "."], ["format", "--no-cache", "--check", "."]):
        result = run([sys.executable, "-m", "ruff", *args], project)
        assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
@pytest.mark.parametrize("spec_path", per_spec(SPECS))
def test_rendered_suite_on_sqlite(spec_path, rendered, tmp_path_factory):
    run_suite(render_once(rendered, spec_path, tmp_path_factory), None)


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.parametrize("spec_path", per_spec(SPECS))
def test_rendered_suite_on_postgresql(spec_path, rendered, tmp_path_factory, postgres):
    project = render_once(rendered, spec_path, tmp_path_factory)
    database = re.sub(r"[^a-z0-9]", "_", spec_path.stem.lower())
    run_suite(project, postgres.create_database(database))


@pytest.mark.slow
@pytest.mark.parametrize(
    "seed",
    [pytest.param(s, marks=pytest.mark.xdist_group(f"rendered-seed-{s}")) for s in RANDOM_SEEDS],
)
def test_random_spec_renders_and_passes_its_suite(seed, tmp_path):
    text, spec = random_specs.random_spec(seed)
    project = tmp_path / spec.app.name
    render(spec, project)
    (tmp_path / "shipyard.yaml").write_text(text)  # kept beside the project for debugging
    for args in (["check", "--no-cache", "."], ["format", "--no-cache", "--check", "."]):
        result = run([sys.executable, "-m", "ruff", *args], project)
        assert result.returncode == 0, text + result.stdout
    run_suite(project, None)


@pytest.mark.slow
@pytest.mark.xdist_group("rendered-readme-install")
def test_rendered_project_installs_as_its_readme_says(rendered, tmp_path_factory, tmp_path):
    """`pip install -e '.[dev]' && pytest` in a fresh virtual environment (needs PyPI)."""
    project = render_once(rendered, REPO / "examples" / "studio-booking.yaml", tmp_path_factory)
    venv = tmp_path / "venv"
    assert run([sys.executable, "-m", "venv", str(venv)], tmp_path).returncode == 0
    python = venv / "bin" / "python"
    install = run([str(python), "-m", "pip", "install", "-q", "-e", ".[dev]"], project)
    if install.returncode != 0 and "Could not find a version" in install.stderr + install.stdout:
        pytest.skip("no package index reachable")
    assert install.returncode == 0, install.stderr[-3000:]
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    tests = run([str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider"], project, env)
    assert tests.returncode == 0, tests.stdout[-4000:]
