"""`shipyard connect`: a Vite frontend gets the typed client, its API address and an
allowed origin; anything else is refused with exit 2 and nothing written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from wizard import envfile
from wizard.cli import app
from wizard.pipeline import create_project
from wizard.spec import load_spec

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Path:
    spec = load_spec(REPO / "examples" / "studio-booking.yaml")
    return create_project(spec, tmp_path_factory.mktemp("connect") / "studio-booking")


def vite_project(folder: Path) -> Path:
    folder.mkdir()
    package = {"name": "lovable-export", "devDependencies": {"vite": "^5.4.0"}}
    (folder / "package.json").write_text(json.dumps(package))
    (folder / ".env.example").write_text("VITE_SUPABASE_URL=\n")
    return folder


def tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def connect(*args: str):
    return CliRunner().invoke(app, ["connect", *args])


def test_a_vite_project_is_wired_and_a_second_run_changes_nothing(backend, tmp_path):
    frontend = vite_project(tmp_path / "frontend")
    origin = "https://TheraMatch.lovable.app/"
    spec_file = backend / "shipyard.yaml"
    spec_file.write_text("# The founder's own note stays.\n" + spec_file.read_text())
    first = connect(str(frontend), "-C", str(backend), "--origin", origin)
    assert first.exit_code == 0, first.output
    assert spec_file.read_text().startswith("# The founder's own note stays.\n")
    client = frontend / "src" / "lib" / "api" / "api.ts"
    assert client.read_bytes() == (backend / "client" / "api.ts").read_bytes()
    assert (frontend / ".env.local").read_text() == "VITE_API_URL=http://localhost:8000\n"
    example = (frontend / ".env.example").read_text()
    assert example == "VITE_SUPABASE_URL=\nVITE_API_URL=http://localhost:8000\n"
    assert "https://theramatch.lovable.app" in load_spec(backend / "shipyard.yaml").frontend.origins
    cors = envfile.read_env(backend)["CORS_ORIGINS"].split(",")
    assert "https://theramatch.lovable.app" in cors and "http://localhost:5173" in cors
    assert "changed: copied the typed client" in first.output

    before = tree(frontend), tree(backend)
    again = connect(str(frontend), "-C", str(backend), "--origin", origin)
    assert again.exit_code == 0, again.output
    assert "changed:" not in again.output
    assert (tree(frontend), tree(backend)) == before


@pytest.mark.parametrize(
    ("package", "why"),
    [
        (None, "it has no package.json"),
        ("{not json", "its package.json is not JSON"),
        ('{"dependencies": {"next": "14"}}', "its package.json does not use vite"),
    ],
)
def test_a_folder_that_is_not_a_vite_project_is_refused(backend, tmp_path, package, why):
    folder = tmp_path / "site"
    folder.mkdir()
    if package is not None:
        (folder / "package.json").write_text(package)
    before = tree(folder), tree(backend)
    result = connect(str(folder), "-C", str(backend))
    assert result.exit_code == 2
    assert why in result.output and "nothing was written" in result.output
    assert (tree(folder), tree(backend)) == before


def test_an_origin_with_a_path_is_refused(backend, tmp_path):
    frontend = vite_project(tmp_path / "frontend")
    result = connect(str(frontend), "-C", str(backend), "--origin", "https://x.lovable.app/app")
    assert result.exit_code == 2
    assert "write https://x.lovable.app" in result.output
    assert not (frontend / ".env.local").exists()


def test_the_prompt_is_the_projects_frontend_md(backend):
    result = CliRunner().invoke(app, ["connect", "--prompt", "-C", str(backend)])
    assert result.exit_code == 0, result.output
    text = (backend / "FRONTEND.md").read_text()
    assert result.stdout == text
    assert "Do not create Supabase" in text and "POST /auth/login" in text
    assert "- `name`: text, required, at most 120 characters" in text
    assert "who may read: owner or owner_of(class); create: signed_in;" in text


def test_connect_without_a_folder_or_prompt_is_refused(backend):
    result = CliRunner().invoke(app, ["connect", "-C", str(backend)])
    assert result.exit_code == 2
    assert "FRONTEND_DIR" in result.output
