"""The rendered TypeScript client compiles under `tsc --strict`, for the examples and for
specs nobody wrote by hand (npm's typescript, installed once per module), does what it
says against a running API under Node (sign in, refresh once on 401, typed errors), and,
copied into a frontend by `shipyard connect`, works in a real browser from the frontend's
origin and is refused by CORS from any other (headless Chromium, Debian's `chromium`)."""

from __future__ import annotations

import http.server
import json
import os
import queue
import re
import shutil
import signal
import subprocess
import threading
from pathlib import Path

import httpx
import pytest
import random_specs
from served_api import ADMIN, serve
from test_check_live import make_venv
from typer.testing import CliRunner

from wizard import cli, people
from wizard.blueprints import render
from wizard.pipeline import create_project
from wizard.spec import load_spec
from wizard.staging import local

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parent.parent
TYPESCRIPT = "typescript@5.9"
RANDOM_SEEDS = [100, 201]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


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


@pytest.fixture(scope="module")
def studio(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The studio example, rendered once for this module, with a venv for `shipyard up`."""
    project = create_project(
        load_spec(REPO / "examples" / "studio-booking.yaml"),
        tmp_path_factory.mktemp("client") / "studio-booking",
    )
    make_venv(project)
    return project


def test_the_client_of_the_studio_example_compiles_strictly(tsc, studio):
    compiles(tsc, studio)


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


def to_javascript(tsc: Path, client: Path, out: Path) -> None:
    """The client compiled to an ES module, out/api.js."""
    built = subprocess.run(
        [str(tsc), "--strict", "--target", "es2022", "--module", "es2022", "--lib", "es2022,dom",
         "--outDir", str(out), str(client)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert built.returncode == 0, built.stdout[-3000:]


def test_the_client_signs_in_refreshes_once_and_raises_typed_errors(tsc, studio, tmp_path):
    if shutil.which("node") is None:
        pytest.skip("node is not installed")
    project = studio
    out = tmp_path / "js"
    to_javascript(tsc, project / "client" / "api.ts", out)
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


# The page a frontend would be: the client `shipyard connect` copied in, compiled as Vite
# would, and the API address from the .env.local it wrote (Vite's import.meta.env, inlined).
PAGE = """<!doctype html>
<title>frontend</title>
<script type="application/json" id="config">%(config)s</script>
<script type="module">
import { Api, ApiError, memoryStore } from "./api.js";

const config = JSON.parse(document.getElementById("config").textContent);
const seen = { origin: location.origin };
const api = new Api(config.apiUrl, memoryStore());
try {
  await api.login({ email: config.email, password: config.password });
  seen.signedIn = api.signedIn;
  const made = await api.createBooking({ class: config.classId });
  seen.created = made.class;
  seen.listed = (await api.listBookings({ limit: 20 })).items.map((booking) => booking.id);
  seen.listed = seen.listed.map((id) => (id === made.id ? "mine" : id));
  try {
    await api.getBooking(config.othersBooking);
  } catch (error) {
    seen.others = error instanceof ApiError ? [error.status, error.detail] : String(error);
  }
} catch (error) {
  seen.failed = error instanceof ApiError ? ["ApiError", error.status] : [error.name, error.message];
}
await fetch("/report", { method: "POST", body: JSON.stringify(seen) });
</script>
"""
PASSWORD = "a long password for the browser"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class Frontend:
    """A static server for one folder on 127.0.0.1 (an origin of its own), which keeps what
    the page POSTs to /report."""

    def __init__(self, folder: Path) -> None:
        self.reports: queue.Queue[dict] = queue.Queue()
        reports = self.reports

        class Handler(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, directory=str(folder), **kwargs)

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                reports.put(json.loads(self.rfile.read(length)))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *_args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def in_chromium(frontend: Frontend, profile: Path, timeout: float = 60) -> dict:
    """Open the frontend's page in headless Chromium and wait for what it reports."""
    browser = subprocess.Popen(
        [CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"{frontend.origin}/"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        return frontend.reports.get(timeout=timeout)
    except queue.Empty:
        pytest.fail(f"the page at {frontend.origin} reported nothing within {timeout:.0f} s")
    finally:
        os.killpg(browser.pid, signal.SIGTERM)
        browser.wait(timeout=30)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def confirmed_person(url: str, admin: dict[str, str], email: str) -> str:
    """Sign a person up on staging and open the link the sign-up email holds; their token."""
    password = PASSWORD
    assert httpx.post(f"{url}/auth/signup", json={"email": email, "password": password}).is_success
    outbox = httpx.get(f"{url}/dev/outbox", headers=admin)
    body = next(m["body"] for m in outbox.json() if m["to"] == email)
    token = re.search(r"token=([A-Za-z0-9_\-]+)", body).group(1)
    assert httpx.post(f"{url}/auth/verify-email", json={"token": token}).is_success
    return token_of(url, email, password)


def token_of(url: str, email: str, password: str) -> str:
    signed_in = httpx.post(f"{url}/auth/login", json={"email": email, "password": password})
    assert signed_in.status_code == 200, signed_in.text
    return signed_in.json()["access_token"]


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)")
def test_a_connected_frontend_works_in_the_browser_and_a_foreign_origin_is_refused(
    tsc, studio, tmp_path
):
    allowed = Frontend(tmp_path / "frontend")
    foreign = Frontend(tmp_path / "elsewhere")
    folder = tmp_path / "frontend"
    folder.mkdir()
    (folder / "package.json").write_text(
        '{"name": "lovable-export", "devDependencies": {"vite": "^5"}}'
    )
    project = studio
    try:
        # What a founder types: connect with the frontend's address (a trailing slash, as
        # copied from the browser bar), staging up (it reads the origin from .env), then
        # connect again with the address staging printed.
        def connect(*more: str):
            done = CliRunner().invoke(cli.app, [
                "connect", str(folder), "-C", str(project), "--origin", f"{allowed.origin}/", *more
            ])  # fmt: skip
            assert done.exit_code == 0, done.output
            return done.output

        assert f"CORS_ORIGINS gains {allowed.origin}" in connect()
        url = local.up(project).api_url
        assert f"changed: .env.local: VITE_API_URL={url}" in connect("--api-url", url)
        assert (folder / ".env.local").read_text() == f"VITE_API_URL={url}\n"

        # An admin's studio and class; Bo's booking, which Ann (the page) may not read.
        admin, _said = people.create_admin(project, "local", ADMIN[0], ADMIN[1])
        boss = bearer(token_of(url, admin.email, admin.password))
        made = httpx.post(f"{url}/api/studios", json={"name": "Loft"}, headers=boss)
        made = httpx.post(f"{url}/api/classes", json={"studio": made.json()["id"]}, headers=boss)
        class_id = made.json()["id"]
        bo = bearer(confirmed_person(url, boss, "bo@example.com"))
        others = httpx.post(f"{url}/api/bookings", json={"class": class_id}, headers=bo).json()[
            "id"
        ]
        confirmed_person(url, boss, "ann@example.com")

        to_javascript(tsc, folder / "src" / "lib" / "api" / "api.ts", folder)
        config = {
            "apiUrl": (folder / ".env.local").read_text().split("=", 1)[1].strip(),
            "email": "ann@example.com",
            "password": PASSWORD,
            "classId": class_id,
            "othersBooking": others,
        }
        (folder / "index.html").write_text(PAGE % {"config": json.dumps(config)})
        shutil.copytree(folder, tmp_path / "elsewhere")

        seen = in_chromium(allowed, tmp_path / "profile-allowed")
        assert seen == {
            "origin": allowed.origin,
            "signedIn": True,
            "created": class_id,
            "listed": ["mine"],
            "others": [404, "There is no booking with that id, or you may not see it."],
        }
        # The same page from an origin the backend does not list: the browser's preflight is
        # refused, so fetch fails before any request is sent.
        seen = in_chromium(foreign, tmp_path / "profile-foreign")
        assert seen == {"origin": foreign.origin, "failed": ["TypeError", "Failed to fetch"]}
    finally:
        local.down(project)
        allowed.close()
        foreign.close()
