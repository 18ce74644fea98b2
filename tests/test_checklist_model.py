"""The launch checklist file loads, and mistakes in it are named by their place."""

from __future__ import annotations

import pytest

from wizard.checklist import SCREENS, load_checklist, parse_checklist
from wizard.errors import ShipyardError


def test_launch_checklist_loads_with_every_wizard_screen_once() -> None:
    checklist = load_checklist()
    assert [step.screen for step in checklist.wizard_steps] == list(SCREENS)
    for step in checklist.wizard_steps:
        assert step.asked_items, f"step {step.id} has a screen but asks nothing"
    for _step, item in checklist.all_items():
        assert item.why.strip() and item.severity in ("fail", "warn")


def test_login_choices_carry_the_trade_offs() -> None:
    item = load_checklist().item("login-methods")
    assert [choice.value for choice in item.choices] == [
        "email_password",
        "magic_link",
        "phone_otp",
    ]
    assert "SIM swap" in item.choice("phone_otp").why
    assert "email delivery" in item.choice("magic_link").why


def test_checks_accept_extra_parameters_and_shorthand() -> None:
    checklist = parse_checklist(
        "version: 1\nsteps:\n  - id: a\n    title: A\n    items:\n"
        "      - id: x\n        title: X\n        why: because\n        severity: warn\n"
        "        checks:\n          - spec.one\n          - {id: live.two, severity: fail, path: /health}\n"
    )
    one, two = checklist.item("x").checks
    assert (one.id, one.kind, one.params) == ("spec.one", "spec", {})
    assert (two.kind, two.params, checklist.item("x").severity_of(two)) == (
        "live",
        {"path": "/health"},
        "fail",
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("version: 1\nsteps:\n  - id: a\n    title: A\n    screen: nope\n", "steps[a].screen"),
        (
            "version: 1\nsteps:\n  - {id: a, title: A, items: [{id: x, title: X, why: y, severity: bad}]}\n",
            "steps[a].items[x].severity",
        ),
        (
            "version: 1\nsteps:\n  - {id: a, title: A}\n  - {id: a, title: B}\n",
            "step a appears more than once",
        ),
        ("version: 1\nsteps: [\n", "not valid YAML"),
    ],
)
def test_mistakes_are_named(text: str, expected: str) -> None:
    with pytest.raises(ShipyardError) as raised:
        parse_checklist(text)
    assert expected in raised.value.message
