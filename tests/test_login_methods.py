"""Login methods in the fastapi blueprint: the files each selection renders, and the rendered
projects' own sign-in tests (which prove the issue's numbers) on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from rendered_suite import run_suite

from wizard.blueprints import render
from wizard.spec import load_spec, parse_spec

REPO = Path(__file__).resolve().parent.parent
CLUB_HOUSE = REPO / "examples" / "club-house.yaml"
SIGN_IN_TESTS = [
    "tests/test_limits.py",
    "tests/test_passwords.py",
    "tests/test_magic_link.py",
    "tests/test_phone_otp.py",
    "tests/test_delivery.py",
]
# The files each method adds; everything else is rendered whatever the selection.
METHOD_FILES = {
    "email_password": [
        "app/api/routes/email_password.py",
        "app/api/routes/password_reset.py",
        "tests/test_passwords.py",
    ],
    "magic_link": [
        "app/api/routes/magic_link.py",
        "app/auth/magic_link.py",
        "tests/test_magic_link.py",
    ],
    "phone_otp": [
        "app/api/routes/phone_otp.py",
        "app/auth/phone_otp.py",
        "app/delivery/sms_http.py",
        "tests/test_phone_otp.py",
    ],
}
ALWAYS = [
    "app/auth/limits.py",
    "app/auth/passwords.py",
    "app/auth/common-passwords.txt",
    "app/delivery/__init__.py",
    "app/delivery/smtp.py",
    "app/core/clock.py",
    "alembic/versions/0002_sign_in.py",
    "tests/test_limits.py",
    "tests/test_delivery.py",
]


def spec_with(methods: list[str]):
    text = CLUB_HOUSE.read_text(encoding="utf-8")
    text = re.sub(r"methods: \[[^\]]*\]", f"methods: [{', '.join(methods)}]", text)
    return parse_spec(text, filename="club-house.yaml")


@pytest.fixture(scope="module")
def club_house(tmp_path_factory) -> Path:
    dest = tmp_path_factory.mktemp("club") / "club-house"
    render(load_spec(CLUB_HOUSE), dest)
    return dest


@pytest.mark.slow
@pytest.mark.parametrize(
    "methods",
    [["email_password"], ["magic_link"], ["phone_otp"], ["email_password", "magic_link"]],
    ids="+".join,
)
def test_each_selection_renders_its_methods_files_only(methods, tmp_path):
    project = tmp_path / "app"
    render(spec_with(methods), project)
    for path in ALWAYS:
        assert (project / path).is_file(), path
    for method, files in METHOD_FILES.items():
        for path in files:
            assert (project / path).is_file() == (method in methods), path
    routes = (project / "app" / "api" / "main.py").read_text(encoding="utf-8")
    assert ("magic_link.router" in routes) == ("magic_link" in methods)
    assert ("phone_otp.router" in routes) == ("phone_otp" in methods)
    pyproject = (project / "pyproject.toml").read_text(encoding="utf-8")
    assert ('"phonenumbers' in pyproject) == ("phone_otp" in methods)


@pytest.mark.slow
def test_the_numbers_are_settings_the_launch_check_reads(club_house):
    config = (club_house / "app" / "core" / "config.py").read_text(encoding="utf-8")
    for setting, value in [
        ("password_min_length", "8"),
        ("password_max_length", "128"),
        ("password_reset_minutes", "60"),
        ("magic_link_minutes", "10"),
        ("phone_code_minutes", "10"),
        ("phone_code_max_attempts", "5"),
        ("phone_sends_per_window", "3"),
        ("login_max_failures", "10"),
    ]:
        assert re.search(rf"^    {setting}: int = {value}$", config, re.M), setting
    words = (club_house / "app" / "auth" / "common-passwords.txt").read_text().splitlines()
    assert len([w for w in words if w and not w.startswith("#")]) >= 3000


@pytest.mark.slow
def test_club_house_sign_in_suite_on_sqlite(club_house):
    run_suite(club_house, files=SIGN_IN_TESTS)


@pytest.mark.slow
@pytest.mark.postgres
def test_club_house_sign_in_suite_on_postgresql(club_house, postgres):
    run_suite(club_house, postgres.create_database("club_house_sign_in"), SIGN_IN_TESTS)


@pytest.mark.slow
def test_a_phone_only_app_passes_its_whole_suite(tmp_path):
    project = tmp_path / "phone-only"
    render(spec_with(["phone_otp"]), project)
    run_suite(project)  # the whole suite
