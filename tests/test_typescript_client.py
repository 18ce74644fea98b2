"""The rendered TypeScript client compiles under `tsc --strict`, for the examples and for
specs nobody wrote by hand (npm's typescript, installed once per module), and does what it
says against a running API under Node (sign in, refresh once on 401, typed errors)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import random_specs
from served_api import ADMIN, serve

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


SCRIPT = """
import { Api, ApiError, memoryStore } from "./api.js";

const api = new Api(process.argv[2], memoryStore());
const seen = {};
const pair = await api.login({ email: process.argv[3], password: process.argv[4] });
seen.signedIn = api.signedIn && pair.token_type === "bearer";
const made = await api.createStudio({ name: "Client's studio", city: "Lyon" });
seen.created = made.name;
seen.listed = (await api.listStudios({ limit: 5 })).items.map((studio) => studio.id).includes(made.id);
try {
  await api.getStudio(999999);
} catch (error) {
  seen.missing = error instanceof ApiError ? [error.status, error.detail] : String(error);
}
try {
  await api.createStudio({ name: "x".repeat(500) });
} catch (error) {
  seen.invalid = error instanceof ApiError ? [error.status, error.errors[0]?.field] : String(error);
}
// An access token that has ended: the client refreshes once and the call goes through.
const tokens = api.tokens.get();
api.tokens.set({ ...tokens, access_token: "expired" });
seen.afterRefresh = (await api.me()).email;
seen.rotated = api.tokens.get().refresh_token !== tokens.refresh_token;
await api.logout();
seen.signedOut = !api.signedIn;
try {
  await api.createStudio({ name: "after logout" });
} catch (error) {
  seen.anonymous = error instanceof ApiError ? error.status : String(error);
}
console.log(JSON.stringify(seen));
"""


def test_the_client_signs_in_refreshes_once_and_raises_typed_errors(tsc, tmp_path):
    if shutil.which("node") is None:
        pytest.skip("node is not installed")
    project = tmp_path / "studio-booking"
    render(load_spec(REPO / "examples" / "studio-booking.yaml"), project)
    out = tmp_path / "js"
    built = subprocess.run(
        [str(tsc), "--strict", "--target", "es2022", "--module", "es2022", "--lib", "es2022,dom",
         "--outDir", str(out), str(project / "client" / "api.ts")],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert built.returncode == 0, built.stdout[-3000:]
    (out / "package.json").write_text('{"type": "module"}')
    (out / "run.js").write_text(SCRIPT)
    for url in serve(project, f"sqlite+aiosqlite:///{tmp_path / 'client.db'}"):
        result = subprocess.run(
            ["node", "run.js", url, *ADMIN],
            cwd=out, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr[-3000:]
        seen = json.loads(result.stdout)
    assert seen == {
        "signedIn": True,
        "created": "Client's studio",
        "listed": True,
        "missing": [404, "There is no studio with that id, or you may not see it."],
        "invalid": [422, "name"],
        "afterRefresh": ADMIN[0],
        "rotated": True,
        "signedOut": True,
        "anonymous": 401,
    }
