"""Docker staging against the real engine: real images, containers, volumes and PostgreSQL.

One rendered project is built once per session and shared; the failure tests reuse its
build cache, so the whole file costs one cold image build. In CI an unreachable engine
fails these tests; elsewhere it skips them.
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from docker_engine import engine_client, purge
from typer.testing import CliRunner

from wizard import people
from wizard.cli import app as cli
from wizard.errors import BadInput, ShipyardError
from wizard.events import Event
from wizard.spec import parse_spec
from wizard.staging import containers, services
from wizard.staging import docker as staging
from wizard.staging.plan import LABEL_APP, load_plan

docker_test = pytest.mark.docker

SPEC = """\
app:
  name: {name}
  title: Docker Test
login:
  methods: [email_password]
objects:
  Note:
    owner: creator
    fields:
      body: {{type: string, required: true, max_length: 200}}
    permissions:
      read: owner
      create: signed_in
      update: owner
      delete: owner
staging:
  target: docker
"""


@pytest.fixture(scope="session")
def client():
    return engine_client()


# The session's project also holds the objects and roles of a random spec nobody wrote by
# hand (tests/random_specs.py), beside the Note the tests here use.
RANDOM_SEED = 2020


def _spec_text(name: str) -> str:
    import yaml
    from random_specs import random_spec

    spec = yaml.safe_load(SPEC.format(name=name))
    extra = yaml.safe_load(random_spec(RANDOM_SEED)[0])
    assert not set(extra["objects"]) & set(spec["objects"]), "pick a seed without a Note"
    spec["objects"].update(extra["objects"])
    spec["roles"] = extra.get("roles", [])
    return yaml.safe_dump(spec, sort_keys=False)


def _render(dest: Path, name: str) -> Path:
    from wizard.pipeline import create_project

    return create_project(parse_spec(_spec_text(name)), dest)


def _leftovers(client, app: str) -> dict[str, list[str]]:
    label = {"label": f"{LABEL_APP}={app}"}
    return {
        "containers": [c.name for c in client.containers.list(all=True, filters=label)],
        "networks": [n.name for n in client.networks.list(filters=label)],
        "volumes": [v.name for v in client.volumes.list(filters=label)],
    }


NOTHING_LEFT: dict[str, list[str]] = {"containers": [], "networks": [], "volumes": []}


@pytest.fixture(scope="session")
def project(client, tmp_path_factory) -> Iterator[Path]:
    """A freshly rendered project, staged once (the session's one cold build)."""
    name = f"sy-test-{uuid.uuid4().hex[:6]}"
    path = _render(tmp_path_factory.mktemp("staging") / name, name)
    try:
        staging.up(path)
        yield path
    finally:
        purge(client, name, keep_cache=True)


@pytest.fixture
def api(project) -> Iterator[httpx.Client]:
    url = staging.status(project).api_url
    assert url
    with httpx.Client(base_url=url, timeout=30) as http:
        yield http


@pytest.fixture(scope="session")
def headers(project) -> dict[str, str]:
    """One founder account for the session (credential endpoints are rate limited)."""
    url = staging.status(project).api_url
    email = f"founder-{uuid.uuid4().hex[:8]}@example.com"
    password = "correct horse battery staple"
    # Only a confirmed address signs in with a password: the staging admin reads the
    # sign-up email in the outbox, and its link is opened as the founder would.
    # The staging admin may already exist (a test before this one ran `shipyard up` or
    # `shipyard check`, which make it once and keep it in .shipyard/admin-docker.json).
    admin = people.stored_admin(project, "docker") or people.create_admin(project, "docker")[0]
    with httpx.Client(base_url=url, timeout=30) as http:
        signup = http.post("/auth/signup", json={"email": email, "password": password})
        assert signup.status_code == 202, signup.text
        as_admin = http.post("/auth/login", json={"email": admin.email, "password": admin.password})
        assert as_admin.status_code == 200, as_admin.text
        outbox = http.get(
            "/dev/outbox", headers={"Authorization": f"Bearer {as_admin.json()['access_token']}"}
        )
        assert outbox.status_code == 200, outbox.text
        body = next(message["body"] for message in outbox.json() if message["to"] == email)
        link = re.search(r"token=([A-Za-z0-9_\-]+)", body)
        assert link, body
        confirmed = http.post("/auth/verify-email", json={"token": link.group(1)})
        assert confirmed.status_code == 204, confirmed.text
        login = http.post("/auth/login", json={"email": email, "password": password})
    assert login.status_code == 200, login.text
    return {"Authorization": f"Bearer {login.json()['access_token']}"}


def _notes(http: httpx.Client, headers: dict[str, str]) -> list[str]:
    listing = http.get("/api/notes", headers=headers)
    assert listing.status_code == 200, listing.text
    return [item["body"] for item in listing.json()["items"]]


def _ids(client, app: str) -> dict[str, str]:
    label = {"label": f"{LABEL_APP}={app}"}
    ids = {c.name: c.id for c in client.containers.list(all=True, filters=label)}
    ids.update({n.name: n.id for n in client.networks.list(filters=label)})
    ids.update({v.name: v.name for v in client.volumes.list(filters=label)})
    return ids


# --- the happy path ---------------------------------------------------------------------------


@docker_test
def test_up_serves_health_and_ready(api):
    assert api.get("/health").status_code == 200
    assert api.get("/ready").status_code == 200


@docker_test
def test_second_up_changes_no_containers_networks_or_volumes(client, project):
    app = load_plan(project).app
    before = _ids(client, app)
    assert len(before) == 4, before  # api, db, network, volume
    events: list[Event] = []
    staging.up(project, events.append)
    assert _ids(client, app) == before
    assert any("Reusing the API" in e.message for e in events)
    assert any("schema is up to date" in e.message for e in events)  # no migration container


@docker_test
def test_up_through_the_cli_prints_plain_progress_and_the_urls(project, monkeypatch):
    from wizard.commands import staging as staging_commands
    from wizard.staging import chosen_target, remember_target

    # Switched to local once when Docker failed; the engine answers now: offered, and a yes
    # goes back to Docker staging and forgets the switch.
    remember_target(project, "local")
    monkeypatch.setattr(staging_commands, "can_prompt", lambda: True)
    result = CliRunner().invoke(cli, ["up", "-C", str(project)], input="y\n")
    assert result.exit_code == 0, result.stderr
    assert "A Docker engine answers on this machine now" in result.stderr
    assert "Back to Docker staging" in result.stderr
    assert chosen_target(project) is None
    assert "Step 1/" in result.stderr  # no terminal: plain lines, no progress bar
    assert "Reusing the API" in result.stderr
    assert "API:    http://127.0.0.1:" in result.stdout
    assert "Docs:   http://127.0.0.1:" in result.stdout
    # The staging admin, made once inside the API container, and where its password is.
    assert "Admin: admin@example.com (password in " in result.stdout
    assert (project / ".shipyard" / "admin-docker.json").is_file()


@docker_test
def test_containers_are_locked_down(client, project):
    plan = load_plan(project)
    api = client.containers.get(plan.container("api"))
    host = api.attrs["HostConfig"]
    assert host["RestartPolicy"]["Name"] == "unless-stopped"
    assert host["Memory"] > 0
    assert host["PortBindings"]["8000/tcp"][0]["HostIp"] == "127.0.0.1"
    db_bindings = client.containers.get(plan.container("db")).attrs["HostConfig"]["PortBindings"]
    assert db_bindings["5432/tcp"][0]["HostIp"] == "127.0.0.1"
    uid = api.exec_run(["id", "-u"]).output.decode().strip()
    assert uid != "0"
    cmdline = api.exec_run(["cat", "/proc/1/cmdline"]).output.decode().split("\0")
    cores = client.info()["NCPU"]
    assert cmdline[cmdline.index("--workers") + 1] == str(cores)
    # Secrets reach the container from .env, never from the image.
    assert api.exec_run(["test", "-e", "/srv/app/.env"]).exit_code != 0


@docker_test
def test_data_survives_down_and_up(client, project, api, headers):
    assert api.post("/api/notes", json={"body": "kept"}, headers=headers).status_code == 201
    assert staging.down(project) is True
    app = load_plan(project).app
    assert _leftovers(client, app) == {
        "containers": [],
        "networks": [],
        "volumes": [load_plan(project).volume],
    }
    assert staging.status(project).running is False
    again = staging.up(project)
    assert again.api_url == str(api.base_url).rstrip("/")
    assert "kept" in _notes(api, headers)


@docker_test
def test_an_update_rebuilds_migrates_and_keeps_data_backing_up_before_a_removal(
    client, project, api, headers
):
    """`shipyard update` on running Docker staging: a new field rebuilds the image, migrates
    once and replaces the API (the database container and its records stay); the field's
    removal is refused naming the values it deletes, then with --allow-data-loss a pg_dump
    is taken first and printed with how to undo."""
    plan = load_plan(project)
    runner = CliRunner()
    kept = api.post("/api/notes", json={"body": "across updates"}, headers=headers)
    assert kept.status_code == 201, kept.text
    old_api = client.containers.get(plan.container("api")).id
    old_db = client.containers.get(plan.container("db")).id
    spec = project / "shipyard.yaml"
    field = "      body: {type: string, required: true, max_length: 200}\n"
    tag = "      tag: {type: string, max_length: 40}\n"
    spec.write_text(spec.read_text(encoding="utf-8").replace(field, field + tag))

    added = runner.invoke(cli, ["update", "--yes", "-C", str(project)])

    assert added.exit_code == 0, added.output
    assert "Staging (docker) runs the new code" in added.stdout
    assert "Backed up" not in added.stdout  # nothing is lost, so no backup
    assert client.containers.get(plan.container("api")).id != old_api
    assert client.containers.get(plan.container("db")).id == old_db
    assert "across updates" in _notes(api, headers)
    tagged = api.post("/api/notes", json={"body": "tagged", "tag": "red"}, headers=headers)
    assert tagged.status_code == 201 and tagged.json()["tag"] == "red", tagged.text

    spec.write_text(spec.read_text(encoding="utf-8").replace(tag, ""))
    refused = runner.invoke(cli, ["update", "--yes", "-C", str(project)])
    assert refused.exit_code == 2, refused.output
    assert "Note.tag removed: it deletes or changes 1 value on staging" in refused.stdout
    removed = runner.invoke(cli, ["update", "--yes", "--allow-data-loss", "-C", str(project)])
    assert removed.exit_code == 0, removed.output
    dumps = list((project / "backups").glob("*.dump"))
    assert len(dumps) == 1, dumps
    assert f"Backed up the staging data before the change: {dumps[0]}" in removed.stdout
    assert f"`shipyard restore {dumps[0]} --yes`" in removed.stdout
    assert "Staging (docker) runs the new code" in removed.stdout
    assert {"across updates", "tagged"} <= set(_notes(api, headers))
    assert "tag" not in api.get("/api/notes", headers=headers).json()["items"][0]

    # The undo the message prints: revert the commit, restore the dump; the value is back.
    who = ["-c", "user.name=Founder", "-c", "user.email=founder@example.com"]
    subprocess.run(
        ["git", *who, "-C", str(project), "revert", "--no-edit", "HEAD"],
        check=True,
        capture_output=True,
    )
    undone = runner.invoke(cli, ["restore", str(dumps[0]), "--yes", "-C", str(project)])
    assert undone.exit_code == 0, undone.output
    items = api.get("/api/notes", headers=headers).json()["items"]
    assert {item["body"]: item.get("tag") for item in items}["tagged"] == "red"
    for dump in (project / "backups").glob("*.dump"):
        dump.unlink()  # the backup test below reads its own


@docker_test
def test_status_json_and_logs_through_the_cli(project):
    runner = CliRunner()
    result = runner.invoke(cli, ["status", "-C", str(project), "--format", "json"])
    assert result.exit_code == 0, result.stderr
    import json

    report = json.loads(result.stdout)
    assert report["running"] is True and report["target"] == "docker"
    assert report["api_url"].startswith("http://127.0.0.1:")
    assert report["db"] == "running, healthy"
    logs = runner.invoke(cli, ["logs", "db", "-C", str(project), "--tail", "50"])
    assert logs.exit_code == 0, logs.stderr
    assert "ready to accept connections" in logs.stdout


@docker_test
def test_backup_and_restore_round_trip(project, api, headers):
    assert api.post("/api/notes", json={"body": "before"}, headers=headers).status_code == 201
    saved = _notes(api, headers)
    runner = CliRunner()
    result = runner.invoke(cli, ["backup", "-C", str(project)])
    assert result.exit_code == 0, result.stderr
    dump = project / result.stdout.strip()
    assert dump.parent == project / "backups" and dump.stat().st_size > 0
    assert dump.stat().st_mode & 0o077 == 0

    assert api.post("/api/notes", json={"body": "after"}, headers=headers).status_code == 201
    refused = runner.invoke(cli, ["restore", str(dump), "-C", str(project)])
    assert refused.exit_code == 2 and "--yes" in refused.stderr
    assert sorted(_notes(api, headers)) == sorted([*saved, "after"])

    restored = runner.invoke(cli, ["restore", str(dump), "--yes", "-C", str(project)])
    assert restored.exit_code == 0, restored.stderr
    assert sorted(_notes(api, headers)) == sorted(saved)
    # The dumps hold every user's data: git never sees them.
    tracked = subprocess.run(
        ["git", "-C", str(project), "status", "--porcelain", "--untracked-files=all"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "backups" not in tracked


@docker_test
def test_changed_database_password_is_explained(client, project):
    env_file = project / ".env"
    original = env_file.read_text(encoding="utf-8")
    app = load_plan(project).app
    before = _ids(client, app)
    env_file.write_text(
        original.replace("POSTGRES_PASSWORD=", "POSTGRES_PASSWORD=changed-"), encoding="utf-8"
    )
    try:
        with pytest.raises(ShipyardError) as caught:
            staging.up(project)
    finally:
        env_file.write_text(original, encoding="utf-8")
    assert "different database password" in caught.value.message
    assert "down --volumes" in (caught.value.hint or "")
    assert _ids(client, app) == before  # the running staging was not touched


# --- failures leave nothing behind ------------------------------------------------------------


@pytest.fixture
def sibling(client, project, tmp_path) -> Iterator[Path]:
    """A copy of the project under another app name (shares the build cache, not the data)."""
    name = f"sy-fail-{uuid.uuid4().hex[:6]}"
    copy = tmp_path / name
    shutil.copytree(project, copy, ignore=shutil.ignore_patterns("backups", ".git"))
    spec = copy / "shipyard.yaml"
    old = load_plan(project).app
    spec.write_text(spec.read_text(encoding="utf-8").replace(old, name), encoding="utf-8")
    try:
        yield copy
    finally:
        purge(client, name)


@docker_test
def test_failing_dockerfile_shows_the_step_and_leaves_nothing(client, sibling):
    dockerfile = sibling / "Dockerfile"
    dockerfile.write_text(
        dockerfile.read_text(encoding="utf-8").replace(
            "COPY . .", "COPY . .\nRUN echo 'the broken step says hi' && exit 3", 1
        ),
        encoding="utf-8",
    )
    with pytest.raises(ShipyardError) as caught:
        staging.up(sibling)
    message = caught.value.message
    assert "did not build" in message
    assert "RUN echo 'the broken step says hi'" in message
    assert "  the broken step says hi" in message
    assert _leftovers(client, load_plan(sibling).app) == NOTHING_LEFT


@docker_test
def test_database_that_never_gets_healthy_is_bounded_and_cleaned_up(client, sibling, monkeypatch):
    never = {**containers.DB_HEALTHCHECK, "test": ["CMD", "false"]}
    monkeypatch.setattr(containers, "DB_HEALTHCHECK", never)
    monkeypatch.setattr(containers, "DB_TIMEOUT", 6.0)
    with pytest.raises(ShipyardError) as caught:
        staging.up(sibling)
    assert "database did not become healthy within 6 seconds" in caught.value.message
    assert "Its last log lines" in caught.value.message
    assert "shipyard logs db" in (caught.value.hint or "")
    assert _leftovers(client, load_plan(sibling).app) == NOTHING_LEFT


@docker_test
def test_crashing_api_shows_its_logs_and_leaves_nothing(client, sibling, monkeypatch):
    monkeypatch.setattr(
        containers, "API_HEALTHCHECK", {**containers.API_HEALTHCHECK, "start_period": 5 * 10**9}
    )
    main = sibling / "app" / "main.py"
    main.write_text(
        main.read_text(encoding="utf-8") + "\nraise RuntimeError('the API refuses to start')\n",
        encoding="utf-8",
    )
    with pytest.raises(ShipyardError) as caught:
        staging.up(sibling)
    assert caught.value.message.startswith("The API")
    assert "the API refuses to start" in caught.value.message
    assert "shipyard logs api" in (caught.value.hint or "")
    assert _leftovers(client, load_plan(sibling).app) == NOTHING_LEFT


@docker_test
def test_volume_made_elsewhere_with_another_password_is_explained(client, sibling):
    """A volume Shipyard did not label (made by compose, or by hand) is checked by logging in."""
    plan = load_plan(sibling)
    client.volumes.create(plan.volume)  # no labels: nothing tells its password
    try:
        mount = services.volume_mountpoint(client, plan.postgres_image)
        init = client.containers.run(
            plan.postgres_image,
            environment={**plan.db_environment(), "POSTGRES_PASSWORD": "another-password"},
            volumes={plan.volume: {"bind": mount, "mode": "rw"}},
            detach=True,
        )
        try:
            for _ in range(120):
                if init.exec_run(["pg_isready", "-q", "-h", "127.0.0.1"]).exit_code == 0:
                    break
                time.sleep(1)
        finally:
            init.remove(force=True)
        with pytest.raises(ShipyardError) as caught:
            staging.up(sibling)
        assert "different database password" in caught.value.message
        assert _leftovers(client, plan.app)["containers"] == []
        assert client.volumes.get(plan.volume)  # never deletes data it did not make
    finally:
        client.volumes.get(plan.volume).remove(force=True)


@docker_test
def test_another_project_with_the_same_app_name_is_explained(client, project, tmp_path):
    twin = tmp_path / "twin"
    shutil.copytree(project, twin, ignore=shutil.ignore_patterns("backups", ".git", ".shipyard"))
    app = load_plan(project).app
    before = _ids(client, app)
    with pytest.raises(ShipyardError) as caught:
        staging.up(twin)
    assert "Another project with the same app name" in caught.value.message
    assert str(project) in caught.value.message
    assert _ids(client, app) == before


@docker_test
def test_a_port_taken_after_the_check_moves_on_instead_of_failing(client, sibling, monkeypatch):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = holder.getsockname()[1]
        real_check = services.port_is_free
        # The preflight sees the port free; Docker then finds it taken, as when a race is lost.
        monkeypatch.setattr(
            services,
            "port_is_free",
            lambda port, address: port == taken or real_check(port, address),
        )
        events: list[Event] = []
        result = staging.up(sibling, events.append, port=taken)
    assert any("Port taken meanwhile" in e.message for e in events)
    assert result.running and result.api_url != f"http://127.0.0.1:{taken}"
    assert httpx.get(f"{result.api_url}/health", timeout=30).status_code == 200


@docker_test
def test_taken_port_asked_for_explicitly_is_refused_before_anything_is_made(client, sibling):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        with pytest.raises(BadInput) as caught:
            staging.up(sibling, port=port)
    assert f"Port {port} is already taken" in caught.value.message
    assert _leftovers(client, load_plan(sibling).app) == NOTHING_LEFT


def test_unreachable_engine_says_how_to_start_docker(tmp_path, monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/missing.sock")
    project = tmp_path / "p"
    project.mkdir()
    (project / "shipyard.yaml").write_text(SPEC.format(name="no-engine"), encoding="utf-8")
    (project / "Dockerfile").write_text("FROM scratch\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["up", "--target", "docker", "-C", str(project)])
    assert result.exit_code == 1
    assert "cannot reach the Docker engine" in result.stderr
    assert "--target local" in result.stderr
    assert "Traceback" not in result.stderr


# --- the end: down --volumes ------------------------------------------------------------------


class _Webhook:
    """apprise's json:// alerts, received on the staging network's gateway (this machine)."""

    def __init__(self, host: str) -> None:
        import json
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.titles: list[str] = []
        self.messages: list[dict[str, str]] = []
        self.bodies: list[bytes] = []
        titles, messages, bodies = self.titles, self.messages, self.bodies

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                bodies.append(body)
                messages.append(json.loads(body))
                titles.append(json.loads(body)["title"])
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer((host, 0), Handler)
        self.url = f"json://{host}:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, word: str, timeout: float, since: int = 0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(word in title for title in self.titles[since:]):
                return True
            time.sleep(0.25)
        return False

    def wait_for_message(self, text: str, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(text in message.get("message", "") for message in self.messages):
                return True
            time.sleep(0.25)
        return False

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@docker_test
def test_alerts_reach_a_webhook_and_a_stopped_database_is_not_ready_then_recovered(client, project):
    """Issue 20 on Docker staging with PostgreSQL and two workers, the project holding a
    random spec: `alert set` restarts the API with the destination (data kept), `alert test`
    goes through the container's settings, /metrics is refused to anonymous callers and adds
    up every worker, the launch check's monitoring step passes (its provoked error reaches
    the webhook within 10 s with its request id, and its Sentry event a local envelope
    endpoint), 50 identical errors spread over the workers are one alert that says 50, the
    /ready watcher alerts when the database stops and again when it is back, and no secret
    of .env is in any alert or event."""
    from test_monitoring import SentryIngest

    from wizard import envfile
    from wizard.checklist import load_checklist
    from wizard.checklist.model import Checklist
    from wizard.checklist.runner import build_context, run_checklist

    plan = load_plan(project)
    gateway = client.networks.get(plan.network).attrs["IPAM"]["Config"][0]["Gateway"]
    webhook = _Webhook(gateway)
    ingest = SentryIngest(gateway)
    db = services.find_container(client, plan, "db")
    fast = {
        "READY_WATCH_SECONDS": "1",
        "READY_ALERT_AFTER_SECONDS": "4",
        "SENTRY_DSN": ingest.dsn,
    }
    try:
        for key, value in fast.items():
            envfile.set_value(project, key, value)
        result = CliRunner().invoke(cli, ["alert", "set", webhook.url, "-C", str(project)])
        if result.exit_code:
            api_logs = services.find_container(client, plan, "api").logs(tail=80).decode()
            raise AssertionError(f"{result.output}\n{api_logs}")
        url = staging.status(project).api_url
        assert httpx.get(f"{url}/metrics", timeout=10).status_code == 401
        for _ in range(30):  # a new connection each: the API's workers share the answers
            httpx.get(f"{url}/auth/me", headers={"Connection": "close"}, timeout=10)
        token = envfile.read_env(project)["METRICS_TOKEN"]
        scraped = httpx.get(
            f"{url}/metrics", headers={"Authorization": f"Bearer {token}"}, timeout=10
        ).text
        assert 'http_requests_total{method="GET",route="/auth/me",status="401"} 30.0' in scraped
        tested = CliRunner().invoke(cli, ["alert", "test", "-C", str(project)])
        assert tested.exit_code == 0, tested.output
        assert webhook.wait_for("test alert", 10)

        # The launch check's monitoring step, as `shipyard check` runs it.
        step = Checklist(version=1, steps=[load_checklist().step("monitoring")])
        report = run_checklist(build_context(project=project), step)
        items = {item.id: item for item in report.items}
        assert {i: item.status for i, item in items.items()} == {
            "alert-destination": "pass",
            "metrics-private": "pass",
            "error-monitoring": "pass",
        }, [(c.id, c.status, c.note, c.findings) for item in items.values() for c in item.checks]
        [live] = [c for c in items["alert-destination"].checks if c.id == "live.alert_delivered"]
        seconds = float(re.search(r"ALERT_URL in ([\d.]+) s", live.note)[1])
        assert seconds < 10, live.note
        assert "SENTRY_DSN endpoint accepted the event" in live.note, live.note
        rid = re.search(r"shipyard-check-[0-9a-f]{12}", live.note)[0]
        assert any(rid in m["message"] for m in webhook.messages), webhook.messages
        assert any(e.get("tags", {}).get("request_id") == rid for e in ingest.events())

        # 50 identical errors at once, each on a new connection (so over both workers).
        admin = people.stored_admin(project, "docker") or people.create_admin(project, "docker")[0]
        login = httpx.post(
            f"{url}/auth/login", json={"email": admin.email, "password": admin.password}
        )
        assert login.status_code == 200, login.text
        bearer = {"Authorization": f"Bearer {login.json()['access_token']}"}
        group = uuid.uuid4().hex[:8]

        def provoke(number: int) -> int:
            headers = {**bearer, "Connection": "close", "X-Request-ID": f"fifty-{number}"}
            return httpx.post(
                f"{url}/dev/error", params={"same": group}, headers=headers, timeout=30
            ).status_code

        from concurrent.futures import ThreadPoolExecutor

        began = time.monotonic()
        with ThreadPoolExecutor(10) as pool:
            assert set(pool.map(provoke, range(50))) == {500}
        took = time.monotonic() - began
        assert webhook.wait_for_message(f"group {group}", 20), webhook.titles
        time.sleep(2)  # a second alert for the group would be here by now
        grouped = [m for m in webhook.messages if f"group {group}" in m["message"]]
        assert len(grouped) == 1, (took, grouped)
        assert "Happened 50 times so far" in grouped[0]["message"], (took, grouped[0])
        assert re.search(r"Request id: fifty-\d+", grouped[0]["message"])
        print(f"monitoring: {live.note}; 50 errors in {took:.1f} s -> {len(grouped)} alert")

        # The watcher's probe has a 1 s timeout here (READY_WATCH_SECONDS=1), so a loaded
        # machine may have said "not ready" during the storm above: count from now on.
        def count(word: str) -> int:
            return sum(word in title for title in webhook.titles)

        deadline = time.monotonic() + 30
        while count("not ready") > count("recovered") and time.monotonic() < deadline:
            time.sleep(0.25)  # let such a "not ready" have its "recovered" first
        since = len(webhook.titles)
        db.stop(timeout=10)
        assert webhook.wait_for("not ready", 40, since), webhook.titles[since:]
        assert not any("recovered" in title for title in webhook.titles[since:])
        db.start()
        assert webhook.wait_for("recovered", 60, since), webhook.titles[since:]
        assert sum("not ready" in title for title in webhook.titles[since:]) == 1

        secrets = [
            value
            for key, value in envfile.read_env(project).items()
            if key in ("SECRET_KEY", "POSTGRES_PASSWORD", "POSTGRES_API_PASSWORD", "METRICS_TOKEN")
        ] + [admin.password, login.json()["access_token"]]
        for raw in [*webhook.bodies, *ingest.bodies]:
            leaked = [secret[:6] for secret in secrets if secret and secret.encode() in raw]
            assert not leaked, leaked
    finally:
        db.reload()
        if db.status != "running":
            db.start()
        webhook.close()
        ingest.close()
        for key, value in {
            "ALERT_URL": "",
            "SENTRY_DSN": "",
            "READY_WATCH_SECONDS": "10",
            "READY_ALERT_AFTER_SECONDS": "60",
        }.items():
            envfile.set_value(project, key, value)
        staging.up(project)


@docker_test
def test_down_volumes_asks_first_then_leaves_nothing(client, project):
    runner = CliRunner()
    app = load_plan(project).app
    refused = runner.invoke(cli, ["down", "--volumes", "-C", str(project)])
    assert refused.exit_code == 2 and "--yes" in refused.stderr
    assert _leftovers(client, app)["volumes"] == [load_plan(project).volume]
    done = runner.invoke(cli, ["down", "--volumes", "--yes", "-C", str(project)])
    assert done.exit_code == 0, done.stderr
    assert _leftovers(client, app) == NOTHING_LEFT


# --- no engine needed ---------------------------------------------------------------------------


@pytest.mark.parametrize("explicit", [False, True])
def test_a_taken_port_moves_to_the_next_free_one_saying_so(explicit):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = holder.getsockname()[1]
        notes: list[str] = []
        if explicit:
            with pytest.raises(BadInput):
                services.choose_port(
                    taken, "127.0.0.1", held=None, explicit=True, what="API", notes=notes
                )
            return
        chosen = services.choose_port(
            taken, "127.0.0.1", held=None, explicit=False, what="API", notes=notes
        )
        assert chosen > taken
        assert notes == [
            f"Port {taken} is taken by another program; the API uses port {chosen} instead."
        ]
        # A port our own container already holds is not "taken".
        assert (
            services.choose_port(
                taken, "127.0.0.1", held=taken, explicit=False, what="API", notes=[]
            )
            == taken
        )


def test_missing_staging_secrets_are_added_to_env_only(tmp_path):
    from wizard.staging.plan import ensure_secrets

    env = tmp_path / ".env"
    env.write_text(
        "SECRET_KEY=kept-as-it-is-kept-as-it-is-kept-as-it-is\nENVIRONMENT=development",
        encoding="utf-8",
    )
    values = ensure_secrets(tmp_path)
    assert values["SECRET_KEY"] == "kept-as-it-is-kept-as-it-is-kept-as-it-is"
    assert len(values["POSTGRES_PASSWORD"]) >= 32
    text = env.read_text(encoding="utf-8")
    assert text.startswith("SECRET_KEY=kept-as-it-is")
    assert f"\nPOSTGRES_PASSWORD={values['POSTGRES_PASSWORD']}\n" in text
    assert len(values["POSTGRES_API_PASSWORD"]) >= 32
    assert values["POSTGRES_API_PASSWORD"] != values["POSTGRES_PASSWORD"]
    assert env.stat().st_mode & 0o077 == 0
    assert ensure_secrets(tmp_path) == values  # a second run adds nothing


def test_database_url_quotes_what_a_url_cannot_hold(tmp_path):
    from wizard.staging.plan import Plan

    plan = Plan(tmp_path, "demo", "Demo", "py", "pg", {}, "app", "demo", "p@ss/w:rd")
    assert plan.database_url() == "postgresql://app:p%40ss%2Fw%3Ard@db:5432/demo"


def test_the_api_connects_as_its_own_database_role(tmp_path):
    from wizard.staging.plan import Plan

    plan = Plan(tmp_path, "demo", "Demo", "py", "pg", {}, "app", "demo", "owner", "api/pw")
    env = plan.api_environment(workers=1)
    assert env["DATABASE_URL"] == "postgresql://app:owner@shipyard-demo-db:5432/demo"
    assert env["API_DATABASE_URL"] == "postgresql://app_api:api%2Fpw@shipyard-demo-db:5432/demo"


class _NoContainers:
    def get(self, name):
        import docker.errors

        raise docker.errors.NotFound(f"no {name}")


class _EngineWithDisk:
    """Just enough of a DockerClient for the preflight's disk check."""

    containers = _NoContainers()

    def __init__(self, root: Path) -> None:
        self.root = root

    def info(self) -> dict[str, str]:
        return {"DockerRootDir": str(self.root)}


@pytest.mark.parametrize(("free_gb", "outcome"), [(0.5, "refused"), (2, "warned"), (50, "quiet")])
def test_preflight_checks_disk_space_where_docker_keeps_images(
    tmp_path, monkeypatch, free_gb, outcome
):
    from collections import namedtuple

    from wizard.staging.plan import Plan

    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(
        staging.shutil, "disk_usage", lambda path: usage(0, 0, int(free_gb * 2**30))
    )
    plan = Plan(tmp_path, "disk-demo", "Disk", "py", "pg", {}, "app", "demo", "pw")
    events: list[Event] = []
    if outcome == "refused":
        with pytest.raises(ShipyardError, match="disk space"):
            staging._preflight(
                _EngineWithDisk(tmp_path), plan, public=False, port=None, emit=events.append
            )
        return
    staging._preflight(_EngineWithDisk(tmp_path), plan, public=False, port=None, emit=events.append)
    warned = any("Disk space is low" in e.message for e in events)
    assert warned == (outcome == "warned")


@docker_test
def test_an_image_that_cannot_be_had_is_said_before_and_offers_local_after(client):
    from wizard.staging import build, engine

    present = next(tag for image in client.images.list() for tag in image.tags)
    assert engine.readiness([present]) is None
    missing = "127.0.0.1:9/shipyard-nowhere:1"  # a registry that cannot answer
    problem = engine.readiness([present, missing])
    assert problem is not None and f"cannot download the image {missing}" in problem
    with pytest.raises(engine.DockerUnavailable) as caught:
        build.ensure_image(client, missing, lambda event: None, "postgres")
    assert "--target local" in (caught.value.hint or "")
