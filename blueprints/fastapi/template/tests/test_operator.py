"""The operator's questions (`python -m app limits`, `request`): one line of JSON each, which
is all Shipyard's launch check reads of the app's insides."""

import json

from app.__main__ import main
from app.core.config import settings


def answer(capsys, *argv: str) -> object:
    assert main(list(argv)) == 0
    [line] = capsys.readouterr().out.splitlines()
    return json.loads(line)


def test_limits_are_the_numeric_settings_and_never_a_secret(capsys):
    limits = answer(capsys, "limits")
    assert limits["access_token_minutes"] == settings.access_token_minutes
    assert all(type(value) in (int, float) for value in limits.values())
    text = json.dumps(limits)
    assert settings.secret_key not in text and "secret_key" not in text


def test_request_answers_what_the_app_would_to_nobody(capsys):
    assert answer(capsys, "request", "GET", "/health") == {"status": 200}
    assert answer(capsys, "request", "GET", "/no-such-page") == {"status": 404}
