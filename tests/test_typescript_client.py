"""The rendered TypeScript client compiles under `tsc --strict`, for the examples and for
specs nobody wrote by hand (npm's typescript, installed once per session)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import random_specs

from wizard.blueprints import render
from wizard.spec import load_spec

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parent.parent
TYPESCRIPT = "typescript@5.9"
SPECS = ["studio-booking"]
RANDOM_SEEDS = [100, 201]


@pytest.fixture(scope="module")
def tsc(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("npm") is None:
        pytest.skip("npm is not installed")
    folder = tmp_path_factory.mktemp("typescript")
    installed = subprocess.run(
        ["npm", "install", "--silent", "--no-audit", "--no-fund", TYPESCRIPT],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert installed.returncode == 0, installed.stderr[-3000:]
    return folder / "node_modules" / ".bin" / "tsc"


def compiles(tsc: Path, project: Path) -> None:
    client = project / "client" / "api.ts"
    assert client.is_file(), "the render wrote no client/api.ts"
    result = subprocess.run(
        [
            str(tsc),
            "--strict",
            "--noEmit",
            "--target",
            "es2022",
            "--lib",
            "es2022,dom",
            str(client),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


@pytest.mark.parametrize("name", SPECS)
def test_the_client_of_an_example_compiles_strictly(name, tsc, tmp_path):
    project = tmp_path / name
    render(load_spec(REPO / "examples" / f"{name}.yaml"), project)
    compiles(tsc, project)


@pytest.mark.parametrize("seed", RANDOM_SEEDS)
def test_the_client_of_a_random_spec_compiles_strictly(seed, tsc, tmp_path):
    _text, spec = random_specs.random_spec(seed)
    project = tmp_path / f"random-{seed}"
    render(spec, project)
    compiles(tsc, project)
