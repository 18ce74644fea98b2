"""`shipyard deploy` on a local single-node swarm: the whole production path, once.

One deploy of a spec no example has, with three replicas, checked through the proxy on
127.0.0.1 only (never an overlay address): limits across replicas, secrets kept out of
`docker inspect`, the migration run once, a re-deploy that changes nothing, a rolling update
and an automatic rollback that lose no request of a bounded stream, HTTPS for `--domain
localhost`, and a `deploy down` that leaves nothing. The swarm is left as it was found.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from docker_engine import engine_client

from wizard.deploy import stack
from wizard.deploy.plan import DEFAULT_PROXY_IMAGE, ENV_PROXY_IMAGE, LABEL_APP, read_secrets

pytestmark = [pytest.mark.slow, pytest.mark.docker]
REPO = Path(__file__).resolve().parent.parent

SPEC = """\
app:
  name: {name}
  title: Repair Desk
login:
  methods: [email_password]
roles: [technician]
objects:
  Ticket:
    owner: creator
    fields:
      summary: {{type: string, required: true, max_length: 160}}
      urgent: bool
    permissions:
      read: owner | role:technician
      create: signed_in
      update: owner | role:technician
      delete: owner
  Visit:
    owner: ticket
    fields:
      ticket: {{type: ref, to: Ticket, required: true}}
      notes: text
    permissions:
      read: owner | role:technician
      create: role:technician
      update: role:technician
      delete: role:technician
"""
STREAM_LIMIT = 20_000  # requests per stream, at most
STREAM_SECONDS = 420.0


@pytest.fixture(scope="module")
def swarm_client() -> Iterator[object]:
    """The engine; a swarm the test initialised is left again afterwards."""
    client = engine_client()
    proxy = os.environ.get(ENV_PROXY_IMAGE) or DEFAULT_PROXY_IMAGE
    try:
        client.images.get(proxy)
    except Exception:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the deploy test, but the proxy image {proxy} is missing")
        pytest.skip(f"the proxy image {proxy} is missing (../shared/ci/standin-images.sh)")
    before = client.info()["Swarm"]["LocalNodeState"]
    had_bridge = bool(client.networks.list(names=["docker_gwbridge"]))
    try:
        yield client
    finally:
        if before == "inactive" and client.info()["Swarm"]["LocalNodeState"] == "active":
            client.swarm.leave(force=True)
            if not had_bridge:
                for network in client.networks.list(names=["docker_gwbridge"]):
                    with contextlib.suppress(Exception):
                        network.remove()


@pytest.fixture(scope="module")
def project(swarm_client, tmp_path_factory) -> Iterator[Path]:
    from wizard.pipeline import create_project
    from wizard.spec import parse_spec

    name = f"sy-deploy-{uuid.uuid4().hex[:6]}"
    path = create_project(parse_spec(SPEC.format(name=name)), tmp_path_factory.mktemp("d") / name)
    try:
        yield path
    finally:
        with contextlib.suppress(Exception):
            stack.down(path, volumes=True)
        for image in swarm_client.images.list(name=f"shipyard-{name}-api"):
            with contextlib.suppress(Exception):
                swarm_client.images.remove(image.id, force=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("0.0.0.0", 0))
        return int(sock.getsockname()[1])


def _shipyard(*args: str, timeout: float = 900) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO), "CI": "true"}
    return subprocess.run(
        [sys.executable, "-m", "wizard", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        check=False,
    )


def _set_version(project: Path, version: str, *, ready: bool = True) -> None:
    """A code change: every answer says its version; `ready=False` also fails GET /ready."""
    main = project / "app" / "main.py"
    marker = "# deploy-test\n"
    text = main.read_text(encoding="utf-8").split(marker)[0]
    text += (
        f"{marker}"
        "from starlette.responses import JSONResponse  # noqa: E402\n\n\n"
        '@app.middleware("http")\n'
        "async def _version(request, call_next):\n"
        f'    if request.url.path == "/ready" and {not ready}:\n'
        '        return JSONResponse({"detail": "broken on purpose"}, status_code=503)\n'
        "    response = await call_next(request)\n"
        f'    response.headers["X-Test-Version"] = "{version}"\n'
        "    return response\n"
    )
    main.write_text(text, encoding="utf-8")


class Stream:
    """Sequential GET /health requests from two clients until stopped (bounded)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.outcomes: Counter[str] = Counter()
        self.versions: Counter[str] = Counter()
        self.last_version = ""
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run) for _ in range(2)]

    def _run(self) -> None:
        deadline = time.monotonic() + STREAM_SECONDS
        with httpx.Client(timeout=15) as http:
            for _ in range(STREAM_LIMIT):
                if self._stop.is_set() or time.monotonic() > deadline:
                    return
                try:
                    response = http.get(f"{self.url}/health")
                except httpx.HTTPError as exc:
                    self.outcomes[type(exc).__name__] += 1
                    continue
                self.outcomes[str(response.status_code)] += 1
                version = response.headers.get("X-Test-Version", "")
                self.versions[version] += 1
                self.last_version = version

    def __enter__(self) -> Stream:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()

    @property
    def failures(self) -> int:
        return sum(n for outcome, n in self.outcomes.items() if outcome != "200")


def _app_objects(client, app: str) -> dict[str, list[str]]:
    label = {"label": f"{LABEL_APP}={app}"}
    services = [s["Spec"]["Name"] for s in client.api.services(filters=label)]
    containers = [
        c.name
        for c in client.containers.list(all=True)
        if c.labels.get("com.docker.swarm.service.name", "").startswith(f"shipyard-{app}-prod")
    ]
    return {
        "services": services,
        "containers": containers,
        "secrets": [s.name for s in client.secrets.list(filters=label)],
        "configs": [c.name for c in client.configs.list(filters=label)],
        "networks": [n.name for n in client.networks.list(filters=label)],
        "volumes": sorted(v.name for v in client.volumes.list(filters=label)),
    }


def test_deploy_replicas_limits_secrets_updates_rollback_and_down(swarm_client, project):
    client = swarm_client
    port = _free_port()
    app = project.name
    url = f"http://127.0.0.1:{port}"

    # First deploy: asks nothing with --yes (it may initialise the swarm).
    first = _shipyard(
        *("deploy", "-C", str(project), "--replicas", "3", "--http-port", str(port)),
        *("--admin-email", "founder@example.com", "--yes", "--json"),
    )
    assert first.returncode == 0, first.stderr[-4000:]
    result = json.loads(first.stdout)
    assert result["url"] == url and result["replicas"] == 3 and result["migrated"]
    with httpx.Client(base_url=url, timeout=15) as http:
        ready = http.get("/ready")
        assert ready.status_code == 200, ready.text
        assert ready.headers["X-Content-Type-Options"] == "nosniff"
        assert http.get("/docs").status_code == 404  # ENVIRONMENT=production
        too_big = http.post("/auth/login", content=b"x" * (2 << 20))
        assert too_big.status_code == 413

        # Ten wrong passwords through the proxy, whichever replica answers each: then 429.
        email = f"nobody-{uuid.uuid4().hex[:6]}@example.com"
        codes = [
            http.post("/auth/login", json={"email": email, "password": "wrong password!"})
            for _ in range(11)
        ]
        assert [c.status_code for c in codes[:10]] == [401] * 10, [c.text for c in codes]
        assert codes[10].status_code == 429
        # The admin was created (once: one job task), and signs in through the proxy. After
        # signing out, every replica refuses the token within SESSION_CACHE_SECONDS (5 s).
        admin = client.api.tasks(filters={"service": f"shipyard-{app}-prod-admin"})
        assert [t["Status"]["State"] for t in admin] == ["complete"]
        password = read_secrets(project)["ADMIN_PASSWORD"]
        login = http.post(
            "/auth/login", json={"email": "founder@example.com", "password": password}
        )
        assert login.status_code == 200, login.text
        bearer = {"Authorization": f"Bearer {login.json()['access_token']}"}
        seen = [http.get("/auth/me", headers=bearer) for _ in range(9)]  # each replica caches it
        assert {r.status_code for r in seen} == {200} and "admin" in seen[0].json()["roles"]
        assert http.post("/auth/logout", headers=bearer).status_code == 204
        time.sleep(5.5)
        after = [http.get("/auth/me", headers=bearer).status_code for _ in range(12)]
        assert after == [401] * 12, after
    api_containers = client.containers.list(
        filters={"label": f"com.docker.swarm.service.name=shipyard-{app}-prod-api"}
    )
    assert len(api_containers) == 3
    answered = [c.logs().decode().count("/auth/login") for c in api_containers]
    assert sum(1 for n in answered if n) >= 2, answered  # the failures were counted across

    # No secret value in `docker inspect` of any service or container of the app.
    values = [*read_secrets(project).values()]
    values.append(stack.load_deploy_plan(project).database_url())
    inspected = [
        json.dumps(s) for s in client.api.services(filters={"label": f"{LABEL_APP}={app}"})
    ]
    inspected += [json.dumps(c.attrs) for c in client.containers.list(all=True)]
    assert len(values) >= 3
    for value in values:
        assert not any(value in text for text in inspected)

    # The migration ran once: one job task, complete, one container that said so.
    migrate = f"shipyard-{app}-prod-migrate"
    tasks = client.api.tasks(filters={"service": migrate})
    assert [t["Status"]["State"] for t in tasks] == ["complete"]
    logs = b"".join(client.api.service_logs(migrate, stdout=True, stderr=True)).decode()
    assert logs.count("Context impl PostgresqlImpl") == 1, logs[-2000:]  # one run
    assert logs.count("Running upgrade  -> ") == 1, logs[-2000:]  # from an empty schema

    # A second deploy with nothing changed changes nothing.
    versions = {
        s["Spec"]["Name"]: s["Version"]["Index"]
        for s in client.api.services(filters={"label": f"{LABEL_APP}={app}"})
    }
    again = _shipyard("deploy", "-C", str(project), "--json")
    assert again.returncode == 0, again.stderr[-4000:]
    assert json.loads(again.stdout)["changed"] is False
    assert json.loads(again.stdout)["changes"]["admin"] == "unchanged"
    assert {
        s["Spec"]["Name"]: s["Version"]["Index"]
        for s in client.api.services(filters={"label": f"{LABEL_APP}={app}"})
    } == versions

    # A rolling update of changed code loses none of a bounded stream of requests.
    _set_version(project, "2")
    with Stream(url) as stream:
        update = _shipyard("deploy", "-C", str(project), "--json")
        time.sleep(2)
    assert update.returncode == 0, update.stderr[-4000:]
    assert stream.failures == 0, stream.outcomes
    assert stream.last_version == "2", stream.versions
    assert sum(stream.outcomes.values()) > 100, stream.outcomes

    # A version that fails its healthcheck is rolled back; the old one answers throughout.
    _set_version(project, "3", ready=False)
    with Stream(url) as stream:
        broken = _shipyard("deploy", "-C", str(project), "--json")
    assert broken.returncode == 1, broken.stderr[-4000:]
    assert "rolled the API back" in broken.stderr and "keeps serving" in broken.stderr
    assert stream.failures == 0, stream.outcomes
    assert set(stream.versions) == {"2"}, stream.versions

    # HTTPS with --domain: `localhost` gets a certificate from Caddy's local CA (no ACME server
    # is reachable here), with HSTS; plain HTTP then redirects to HTTPS.
    # The good code again: the API is already that version (what Swarm rolled back to).
    _set_version(project, "2")
    https_port = _free_port()
    secure = _shipyard(
        *("deploy", "-C", str(project), "--domain", "localhost"),
        *("--https-port", str(https_port), "--json"),
    )
    assert secure.returncode == 0, secure.stderr[-4000:]
    changes = json.loads(secure.stdout)["changes"]
    assert changes["api"] == "unchanged" and changes["proxy"] == "updated", changes
    ready = httpx.get(f"https://localhost:{https_port}/ready", verify=False, timeout=15)
    assert ready.status_code == 200, ready.text
    assert ready.headers["Strict-Transport-Security"].startswith("max-age=")
    assert httpx.get(f"{url}/ready", timeout=15).status_code == 308

    # `deploy down` leaves no service, container, network, secret or config; data only goes
    # with --volumes.
    down = _shipyard("deploy", "down", "-C", str(project))
    assert down.returncode == 0, down.stderr[-4000:]
    left = _app_objects(client, app)
    assert left == {
        "services": [],
        "containers": [],
        "secrets": [],
        "configs": [],
        "networks": [],
        "volumes": [f"shipyard-{app}-prod-caddy", f"shipyard-{app}-prod-pgdata"],
    }
    gone = _shipyard("deploy", "down", "-C", str(project), "--volumes", "--yes")
    assert gone.returncode == 0, gone.stderr[-4000:]
    assert _app_objects(client, app)["volumes"] == []
