"""Every spec in tests/specs/invalid is refused with a message that names the problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from wizard.errors import ExitCode, SpecError
from wizard.spec import load_spec

INVALID = sorted((Path(__file__).parent / "specs" / "invalid").glob("*.yaml"))


def expected_message(path: Path) -> str:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# expect: "), f"{path.name} must start with '# expect: <text>'"
    return first.removeprefix("# expect: ")


def test_corpus_is_large_enough() -> None:
    assert len(INVALID) >= 50


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_invalid_spec_is_refused_with_a_plain_message(path: Path) -> None:
    with pytest.raises(SpecError) as caught:
        load_spec(path)
    error = caught.value
    message = str(error)
    assert error.exit_code == ExitCode.BAD_INPUT
    assert expected_message(path) in message
    assert str(path) in message
    assert "Traceback" not in message and "pydantic" not in message.lower()
    assert "https://errors.pydantic.dev" not in message
    assert all(problem.line is not None for problem in error.problems if path.stem != "missing-app")
