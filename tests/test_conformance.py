"""The rendered API against its own openapi.json, property-based (schemathesis).

A frontend's client is generated from the document, so the document must be true: with
every check schemathesis has except positive_data_acceptance (which expects any
schema-valid body to be accepted, whatever the business rules say), a bounded run against
each running example finds no server error, no response that breaks the document and no
undocumented status. Two examples (studio-booking: datetime fields, two login methods;
freelancer-tool: date fields), on PostgreSQL only (what staging runs; each rendered
project's own suite covers SQLite), a fixed seed and few cases per operation keep it
reproducible and cheaper than one example on two databases was.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from served_api import ADMIN, serve

from wizard.blueprints import render
from wizard.spec import load_spec

pytestmark = pytest.mark.slow
pytest.importorskip("schemathesis")

REPO = Path(__file__).resolve().parent.parent
# Each example, and the paths its run covers: the auth, admin, health and dev routes are the
# same code whatever the spec (freelancer-tool's one login method is among the studio's), so
# they are checked once; every example's own records are checked.
EXAMPLES = {
    "studio-booking": [],
    "freelancer-tool": ["--include-path-regex", "^/api/"],
}
# Cases per operation and phase (schemathesis' default is 100): enough to reach every status
# an operation answers (the coverage phase tries every boundary and wrong type whatever
# this is), few enough that two examples cost less than one did on two databases.
MAX_EXAMPLES = 2


@pytest.fixture(params=list(EXAMPLES))
def project(request, tmp_path: Path) -> Path:
    project = tmp_path / request.param
    render(load_spec(REPO / "examples" / f"{request.param}.yaml"), project)
    assert (project / "openapi.json").is_file()
    return project


@pytest.fixture
def api(project: Path, postgres) -> Iterator[str]:
    yield from serve(project, postgres.create_database(project.name.replace("-", "_")))


@pytest.mark.postgres
def test_the_api_keeps_its_own_document(project: Path, api: str, tmp_path: Path) -> None:
    login = httpx.post(f"{api}/auth/login", json={"email": ADMIN[0], "password": ADMIN[1]})
    assert login.status_code == 200, login.text
    token = login.json()["access_token"]
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "--no-color",
        "run",
        str(project / "openapi.json"),
        "--url",
        api,
        "--checks",
        "all",
        "--exclude-checks",
        "positive_data_acceptance",
        # Signing out would end the admin's session for every case after it.
        "--exclude-operation-id",
        "logout",
        "--header",
        f"Authorization: Bearer {token}",
        "--max-examples",
        str(MAX_EXAMPLES),
        "--seed",
        "20261203",
        "--workers",
        "1",
        *EXAMPLES[project.name],
    ]
    result = subprocess.run(
        command, cwd=tmp_path, capture_output=True, text=True, timeout=600, check=False
    )
    output = result.stdout + result.stderr
    summary = re.search(r"(\d+) generated, (\d+) passed", output)
    assert result.returncode == 0 and summary, output[-8000:]
    generated, passed = map(int, summary.groups())
    assert generated == passed and generated > 100, output[-3000:]
    print(f"schemathesis: {summary.group(0)}")
