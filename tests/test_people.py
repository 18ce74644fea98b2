"""People and roles without curl, against a real rendered project running as a local process:
`up` makes the staging admin once, then `users`, `grant`, `revoke` and `admin create`."""

from __future__ import annotations

import json
import stat

import httpx
import pytest
from test_check_live import STUDIO, new_project
from typer.testing import CliRunner

from wizard.cli import app
from wizard.staging import local

pytestmark = pytest.mark.slow


def test_people_and_roles_with_shipyard_commands_alone(tmp_path, monkeypatch):
    project = new_project(STUDIO.read_text(), tmp_path / "studio-booking")
    monkeypatch.chdir(project)
    runner = CliRunner()

    def shipyard(*args: str, code: int = 0):  # type: ignore[no-untyped-def]
        result = runner.invoke(app, list(args))
        assert result.exit_code == code, result.output
        return result

    try:
        up = shipyard("up", "--target", "local")
        # `up` makes the staging admin once and says where its credentials are.
        assert "Admin: admin@example.com (password in .shipyard/admin-local.json)" in up.stdout
        credentials = project / ".shipyard" / "admin-local.json"
        assert stat.S_IMODE(credentials.stat().st_mode) == 0o600
        assert "admin@example.com" in shipyard("up", "--target", "local").stdout
        url = local.status(project).api_url
        assert url
        signup = {"email": "Therapist@Example.com", "password": "a long enough password"}
        assert httpx.post(f"{url}/auth/signup", json=signup).status_code == 202

        listed = shipyard("users").stdout
        assert "therapist@example.com" in listed and "admin@example.com" in listed
        granted = shipyard("grant", "therapist@example.com", "staff")
        assert granted.stdout.strip() == "therapist@example.com now has the roles: staff"
        people = json.loads(shipyard("users", "--json").stdout)
        assert {p["email"]: p["roles"] for p in people}["therapist@example.com"] == ["staff"]
        again = shipyard("grant", "therapist@example.com", "staff")
        assert "already has the role staff" in again.stderr
        unknown = shipyard("grant", "therapist@example.com", "wizard", code=2)
        assert "Use one of: admin, staff" in unknown.stderr
        nobody = shipyard("grant", "nobody@example.com", "staff", code=2)
        assert "no account with the email nobody@example.com" in nobody.stderr
        revoked = shipyard("revoke", "therapist@example.com", "staff")
        assert revoked.stdout.strip() == "therapist@example.com now has no roles"

        shipyard("admin", "create", "--email", "boss@example.com", "--password", "boss password 1")
        people = json.loads(shipyard("users", "--json").stdout)
        assert {p["email"]: p["roles"] for p in people}["boss@example.com"] == ["admin"]

        # Any deployment: --url with an admin's credentials from the environment.
        refused = shipyard("users", "--url", url, code=2)
        assert "SHIPYARD_ADMIN_EMAIL" in refused.stderr
        monkeypatch.setenv("SHIPYARD_ADMIN_EMAIL", "boss@example.com")
        monkeypatch.setenv("SHIPYARD_ADMIN_PASSWORD", "boss password 1")
        assert "therapist@example.com" in shipyard("users", "--url", url).stdout

        # Wiping the data wipes its admin; the next `up` makes a new one.
        shipyard("down", "--volumes", "--yes")
        assert not credentials.exists()
        shipyard("up", "--target", "local")
        assert credentials.exists()
        assert "therapist@example.com" not in shipyard("users").stdout
    finally:
        local.down(project)
