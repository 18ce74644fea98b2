"""What a production deploy of one project consists of: names, images, settings and secrets."""

from __future__ import annotations

import hashlib
import os
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from wizard.errors import BadInput
from wizard.spec import load_spec
from wizard.staging import state_dir
from wizard.staging.plan import ENV_POSTGRES_IMAGE, ENV_PYTHON_IMAGE, SPEC_FILE

ENV_PROXY_IMAGE = "SHIPYARD_PROXY_IMAGE"
DEFAULT_PROXY_IMAGE = "caddy:2"
# The production secrets, generated on the first deploy, in the project's git-ignored .shipyard/.
# Every value in it reaches the services as a Docker secret (a file), never as an environment
# value that `docker inspect` would show.
SECRETS_FILE = "production.env"

LABEL_APP = "dev.shipyard.deploy.app"
LABEL_PROJECT = "dev.shipyard.deploy.project"
LABEL_ROLE = "dev.shipyard.deploy.role"
LABEL_CONFIG = "dev.shipyard.deploy.config"

API_PORT = 8000
DB_PORT = 5432
ROLES = ("db", "migrate", "api", "proxy")

# Values only the database or the admin job reads.
_NOT_FOR_THE_API = frozenset({"POSTGRES_PASSWORD", "ADMIN_EMAIL", "ADMIN_PASSWORD"})
_LINE = re.compile(r"^(?P<key>[A-Za-z_][A-Za-z0-9_]*)=(?P<value>.*)$")
_DB_NAME = re.compile(r"[^a-z0-9_]")


@dataclass(frozen=True)
class DeployPlan:
    """Everything `shipyard deploy` needs to know about one project."""

    project: Path
    app: str
    title: str
    python_image: str
    postgres_image: str
    proxy_image: str
    replicas: int
    domain: str | None
    http_port: int
    https_port: int
    secrets: dict[str, str] = field(repr=False)
    db_user: str = "app"
    db_name: str = "app"

    @property
    def prefix(self) -> str:
        return f"shipyard-{self.app}-prod"

    def service(self, role: str) -> str:
        return f"{self.prefix}-{role}"

    @property
    def network(self) -> str:
        return self.prefix

    @property
    def volume(self) -> str:
        return f"{self.prefix}-pgdata"

    @property
    def proxy_volume(self) -> str:
        """Caddy's certificates and keys: kept across deploys so HTTPS is not re-issued."""
        return f"{self.prefix}-caddy"

    @property
    def image_repository(self) -> str:
        return f"shipyard-{self.app}-api"

    @property
    def external_database(self) -> bool:
        """The founder's own DATABASE_URL (a managed PostgreSQL): no database service then."""
        return bool(self.secrets.get("DATABASE_URL"))

    def labels(self, role: str | None = None) -> dict[str, str]:
        labels = {LABEL_APP: self.app, LABEL_PROJECT: str(self.project)}
        if role:
            labels[LABEL_ROLE] = role
        return labels

    def database_url(self) -> str:
        if self.external_database:
            return self.secrets["DATABASE_URL"]
        user = quote(self.db_user, safe="")
        password = quote(self.secrets["POSTGRES_PASSWORD"], safe="")
        return f"postgresql://{user}:{password}@{self.service('db')}:{DB_PORT}/{self.db_name}"

    def api_secrets(self) -> dict[str, str]:
        """What the API and the migration read from /run/secrets: every setting but the DB's."""
        values = {k: v for k, v in self.secrets.items() if k not in _NOT_FOR_THE_API}
        values["DATABASE_URL"] = self.database_url()
        return dict(sorted(values.items()))

    def admin_secrets(self) -> dict[str, str]:
        """What the one-off `python -m app create-admin` job reads; empty without an admin."""
        if not self.secrets.get("ADMIN_EMAIL"):
            return {}
        keys = ("ADMIN_EMAIL", "ADMIN_PASSWORD")
        return {**self.api_secrets(), **{k: self.secrets[k] for k in keys}}

    def db_secrets(self) -> dict[str, str]:
        return {"POSTGRES_PASSWORD": self.secrets["POSTGRES_PASSWORD"]}

    def secret_name(self, key: str, value: str) -> str:
        """Docker secrets cannot change, so a new value gets a new name (a hash, not the value)."""
        digest = hashlib.sha256(f"{self.app}\0{key}\0{value}".encode()).hexdigest()[:12]
        return f"{self.prefix}-{key.lower().replace('_', '-')}-{digest}"


def load_deploy_plan(
    project: Path,
    *,
    replicas: int | None = None,
    domain: str | None = None,
    http_port: int | None = None,
    https_port: int | None = None,
    admin_email: str | None = None,
) -> DeployPlan:
    """Read the spec and the production secrets (generating the ones that are missing)."""
    project = Path(project).resolve()
    spec_path = project / SPEC_FILE
    if not spec_path.is_file():
        raise BadInput(
            f"{project} is not a Shipyard project (there is no {SPEC_FILE}).",
            hint="Run the command inside the project folder, or pass it with -C DIR.",
        )
    if not (project / "Dockerfile").is_file():
        raise BadInput(
            f"{project} has no Dockerfile, so there is nothing to deploy.",
            hint="Re-render the project with `shipyard update`.",
        )
    if replicas is not None and not 1 <= replicas <= 50:
        raise BadInput(f"--replicas {replicas} is out of range.", hint="Use 1 to 50 replicas.")
    for name, port in (("--http-port", http_port), ("--https-port", https_port)):
        if port is not None and not 1 <= port <= 65535:
            raise BadInput(f"{name} {port} is not a port number.", hint="Use 1 to 65535.")
    if domain is not None and not re.fullmatch(
        r"[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?", domain
    ):
        raise BadInput(
            f"--domain {domain!r} is not a domain name.",
            hint="For example: --domain api.example.com",
        )
    if admin_email is not None and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", admin_email):
        raise BadInput(
            f"--admin-email {admin_email!r} is not an email address.",
            hint="For example: --admin-email founder@example.com",
        )
    spec = load_spec(spec_path)
    values = ensure_production_secrets(project, admin_email)
    return DeployPlan(
        project=project,
        app=spec.app.name,
        title=spec.app.title,
        python_image=os.environ.get(ENV_PYTHON_IMAGE) or spec.staging.images.python,
        postgres_image=os.environ.get(ENV_POSTGRES_IMAGE) or spec.staging.images.postgres,
        proxy_image=os.environ.get(ENV_PROXY_IMAGE) or DEFAULT_PROXY_IMAGE,
        replicas=replicas or 2,
        domain=domain or None,
        http_port=http_port or 80,
        https_port=https_port or 443,
        secrets=values,
        db_name=_DB_NAME.sub("_", spec.app.name.lower()),
    )


def secrets_path(project: Path) -> Path:
    return state_dir(project) / SECRETS_FILE


def read_secrets(project: Path) -> dict[str, str]:
    path = secrets_path(project)
    if not path.is_file():
        return {}
    values = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        found = _LINE.match(line.strip())
        if found and found["value"]:
            values[found["key"]] = found["value"]
    return values


def ensure_production_secrets(project: Path, admin_email: str | None = None) -> dict[str, str]:
    """The production settings file's values, after adding a strong value for each one missing.

    With `admin_email` (the first time it is given), the admin's address and a generated
    password are kept there too: the admin is created once, by the deploy that adds them.
    """
    values = read_secrets(project)
    wanted = ["SECRET_KEY", "POSTGRES_PASSWORD"]
    if admin_email and not values.get("ADMIN_EMAIL"):
        values["ADMIN_EMAIL"] = admin_email
        wanted.append("ADMIN_PASSWORD")
    missing = {
        key: secrets.token_urlsafe(48 if key == "SECRET_KEY" else 24)
        for key in wanted
        if not values.get(key)
    }
    if admin_email and "ADMIN_PASSWORD" in missing:
        missing = {"ADMIN_EMAIL": admin_email, **missing}
    if missing:
        path = secrets_path(project)
        existing = path.read_text(encoding="utf-8") if path.is_file() else _HEADER
        if not existing.endswith("\n"):
            existing += "\n"
        added = "".join(f"{key}={value}\n" for key, value in missing.items())
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(existing + added)
        os.chmod(path, 0o600)
        values.update(missing)
    return values


_HEADER = """\
# Production settings for `shipyard deploy`. Never commit this file (.shipyard/ is git-ignored).
# Every line reaches the API as a Docker secret: a file under /run/secrets, not an environment
# value, so `docker inspect` never shows it. Add your own, e.g. SMTP_HOST=..., SMTP_PASSWORD=...
# DATABASE_URL=postgresql://... uses your managed PostgreSQL instead of the stack's own.
"""
