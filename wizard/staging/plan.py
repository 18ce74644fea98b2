"""What Docker staging of one project consists of: names, labels, images, secrets and settings."""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from wizard import envfile
from wizard.errors import BadInput
from wizard.spec import load_spec
from wizard.staging import ignored_dir

SPEC_FILE = "shipyard.yaml"
BACKUP_DIR = "backups"

# Labels on everything Shipyard creates, so it finds (and only ever touches) its own objects.
LABEL_APP = "dev.shipyard.app"
LABEL_PROJECT = "dev.shipyard.project"
LABEL_SERVICE = "dev.shipyard.service"
LABEL_CONFIG = "dev.shipyard.config"
LABEL_CREDENTIALS = "dev.shipyard.credentials"
LABEL_POSTGRES_IMAGE = "dev.shipyard.postgres-image"

LOOPBACK = "127.0.0.1"
API_PORT = 8000  # inside the container
DB_PORT = 5432
DEFAULT_API_PORT = 8000  # on the host, when free
DEFAULT_DB_PORT = 5432

ENV_PYTHON_IMAGE = "SHIPYARD_PYTHON_IMAGE"
ENV_POSTGRES_IMAGE = "SHIPYARD_POSTGRES_IMAGE"

_DB_NAME = re.compile(r"[^a-z0-9_]")


@dataclass(frozen=True)
class Plan:
    """Everything `up` needs to know about one project, read from its spec and .env."""

    project: Path
    app: str
    title: str
    python_image: str
    postgres_image: str
    env: dict[str, str] = field(repr=False)
    db_user: str = "app"
    db_name: str = "app"
    db_password: str = field(default="", repr=False)
    # The API's own database role: it owns nothing and row-level security binds it. The
    # migrate container (as db_user, the owner) creates it; the API connects as it.
    api_db_password: str = field(default="", repr=False)

    @property
    def api_db_user(self) -> str:
        return f"{self.db_user}_api"

    @property
    def network(self) -> str:
        return f"shipyard-{self.app}"

    @property
    def volume(self) -> str:
        return f"shipyard-{self.app}-pgdata"

    @property
    def image(self) -> str:
        return f"shipyard-{self.app}-api:staging"

    def container(self, service: str) -> str:
        return f"shipyard-{self.app}-{service}"

    def labels(self, service: str | None = None) -> dict[str, str]:
        labels = {LABEL_APP: self.app, LABEL_PROJECT: str(self.project)}
        if service:
            labels[LABEL_SERVICE] = service
        return labels

    @property
    def credentials_fingerprint(self) -> str:
        """Identifies user, password and database name without revealing the password."""
        text = f"{self.volume}\0{self.db_user}\0{self.db_password}\0{self.db_name}"
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def database_url(self, host: str = "db", port: int = DB_PORT, *, api: bool = False) -> str:
        """The database as its owner, or with `api` as the API's own role."""
        user, password = (
            (self.api_db_user, self.api_db_password) if api else (self.db_user, self.db_password)
        )
        user, password = quote(user, safe=""), quote(password, safe="")
        return f"postgresql://{user}:{password}@{host}:{port}/{self.db_name}"

    def db_environment(self) -> dict[str, str]:
        return {
            "POSTGRES_USER": self.db_user,
            "POSTGRES_PASSWORD": self.db_password,
            "POSTGRES_DB": self.db_name,
        }

    def api_environment(self, workers: int) -> dict[str, str]:
        """The API's settings: the project's .env, pointed at the staging database."""
        env = {k: v for k, v in self.env.items() if not k.startswith("POSTGRES_")}
        env.update(
            DATABASE_URL=self.database_url(host=self.container("db")),
            API_DATABASE_URL=self.database_url(host=self.container("db"), api=True),
            ENVIRONMENT="staging",
            WEB_CONCURRENCY=str(workers),
        )
        return dict(sorted(env.items()))


def fingerprint(config: dict[str, Any]) -> str:
    """A short stable hash of a container's configuration, kept in a label to spot changes."""
    text = json.dumps(config, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def load_plan(project: Path) -> Plan:
    """Read the project's spec and .env (adding a database password to .env if it has none)."""
    project = Path(project).resolve()
    spec_path = project / SPEC_FILE
    if not spec_path.is_file():
        raise BadInput(
            f"{project} is not a Shipyard project (there is no {SPEC_FILE}).",
            hint="Run the command inside the project folder, or pass it with -C DIR.",
        )
    if not (project / "Dockerfile").is_file():
        raise BadInput(
            f"{project} has no Dockerfile, so there is nothing to build for Docker staging.",
            hint="Put it back with `shipyard update --restore Dockerfile`, or use `--target local`.",
        )
    spec = load_spec(spec_path)
    env = ensure_secrets(project)
    return Plan(
        project=project,
        app=spec.app.name,
        title=spec.app.title,
        python_image=os.environ.get(ENV_PYTHON_IMAGE) or spec.staging.images.python,
        postgres_image=os.environ.get(ENV_POSTGRES_IMAGE) or spec.staging.images.postgres,
        env=env,
        db_user=env.get("POSTGRES_USER") or "app",
        db_name=env.get("POSTGRES_DB") or _DB_NAME.sub("_", spec.app.name.lower()),
        db_password=env["POSTGRES_PASSWORD"],
        api_db_password=env["POSTGRES_API_PASSWORD"],
    )


def ensure_secrets(project: Path) -> dict[str, str]:
    """The project's .env values, after appending any secret staging needs and .env lacks."""
    env = envfile.read_env(project)
    missing = {
        key: secrets.token_urlsafe(32 if key.startswith("POSTGRES_") else 48)
        for key in ("SECRET_KEY", "POSTGRES_PASSWORD", "POSTGRES_API_PASSWORD", "METRICS_TOKEN")
        if not env.get(key)
    }
    if missing:
        path = project / envfile.ENV_FILE
        existing = path.read_text(encoding="utf-8") if path.is_file() else ""
        if existing and not existing.endswith("\n"):
            existing += "\n"
        added = "".join(f"{key}={value}\n" for key, value in missing.items())
        note = "# Added by `shipyard up` for Docker staging.\n"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(existing + note + added)
        os.chmod(path, 0o600)  # it holds secrets now, whatever its mode was
        env.update(missing)
    return env


def backups_dir(project: Path) -> Path:
    """The project's git-ignored folder for database dumps (they hold every user's data)."""
    return ignored_dir(project / BACKUP_DIR)
