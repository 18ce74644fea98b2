"""The rendered API against its own openapi.json, property-based (schemathesis).

A frontend's client is generated from the document, so the document must be true: with
every check schemathesis has except positive_data_acceptance (which expects any
schema-valid body to be accepted, whatever the business rules say), a bounded run against
the running studio example finds no server error, no response that breaks the document
and no undocumented status. One example, a fixed seed and a bounded number of cases keep
it reproducible and within about a minute per database.
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
# Cases per operation and phase: about 850 requests for the studio's 29 operations.
MAX_EXAMPLES = 10


@pytest.fixture(scope="module")
def studio(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = tmp_path_factory.mktemp("conformance") / "studio-booking"
    render(load_spec(REPO / "examples" / "studio-booking.yaml"), project)
    assert (project / "openapi.json").is_file()
    return project


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def api(request, studio: Path, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        database_url = f"sqlite+aiosqlite:///{tmp_path / 'conformance.db'}"
    else:
        database_url = request.getfixturevalue("postgres").create_database("conformance")
    yield from serve(studio, database_url)


def test_the_api_keeps_its_own_document(studio: Path, api: str, tmp_path: Path) -> None:
    login = httpx.post(f"{api}/auth/login", json={"email": ADMIN[0], "password": ADMIN[1]})
    assert login.status_code == 200, login.text
    token = login.json()["access_token"]
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "--no-color",
        "run",
        str(studio / "openapi.json"),
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
    ]
    result = subprocess.run(
        command, cwd=tmp_path, capture_output=True, text=True, timeout=600, check=False
    )
    output = result.stdout + result.stderr
    summary = re.search(r"(\d+) generated, (\d+) passed", output)
    assert result.returncode == 0 and summary, output[-8000:]
    generated, passed = map(int, summary.groups())
    assert generated == passed and generated > 300, output[-3000:]
    print(f"schemathesis: {summary.group(0)}")
