"""Every wizard screen at 80×24 and 120×40, compared with the stored SVG snapshots.

Update the snapshots after an intended change with: pytest tests/test_tui_snapshots.py --snapshot-update
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from wizard.spec import load_spec
from wizard.tui.app import ShipyardApp
from wizard.tui.dialogs import Choice
from wizard.tui.done import DoneScreen

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "studio-booking.yaml"
DEST = Path("/srv/studio-booking")  # never written: drafts are off and nothing is confirmed
SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]
Setup = Callable[[Pilot[object]], Awaitable[None]]


def _step(screen: str, *keys: str) -> Setup:
    async def setup(pilot: Pilot[object]) -> None:
        app = pilot.app
        assert isinstance(app, ShipyardApp)
        index = next(i for i, step in enumerate(app.steps) if step.screen == screen)
        app.show_step(index)
        await pilot.pause()
        for key in keys:  # one at a time, letting each page settle, so snapshots are stable
            await pilot.press(key)
            await pilot.pause()
        await _settle(pilot)

    return setup


async def _settle(pilot: Pilot[object]) -> None:
    """Let styles, layout and workers finish, so the snapshot does not catch a frame mid-way."""
    await pilot.app.workers.wait_for_complete()
    for screen in pilot.app.screen_stack:  # a blinking cursor would be caught on or off at random
        for box in screen.query(Input):
            box.cursor_blink = False
    await pilot.wait_for_scheduled_animations()
    await pilot.pause(0.1)
    await pilot.pause()


async def _welcome(pilot: Pilot[object]) -> None:
    await _settle(pilot)


async def _review(pilot: Pilot[object]) -> None:
    app = pilot.app
    assert isinstance(app, ShipyardApp)
    app.show_step(len(app.steps))
    await pilot.pause()
    await _settle(pilot)


async def _done(pilot: Pilot[object]) -> None:
    app = pilot.app
    assert isinstance(app, ShipyardApp)
    app._show(DoneScreen(app.spec, DEST))
    await _settle(pilot)


async def _quit(pilot: Pilot[object]) -> None:
    await _step("objects")(pilot)
    await pilot.press("ctrl+q")
    await _settle(pilot)
    assert isinstance(pilot.app.screen, Choice)


SCREENS: dict[str, Setup] = {
    "welcome": _welcome,
    "basics": _step("basics"),
    "objects": _step("objects", "down"),
    "object-name": _step("objects", "r"),
    "field-form": _step("objects", "down", "tab", "down", "down", "e"),
    "ownership": _step("ownership"),
    "login": _step("login"),
    "permissions": _step("permissions", "down", "right", "right", "right"),
    "rule-picker": _step("permissions", "down", "down", "enter"),
    "frontend": _step("frontend", "end", "slash"),
    "staging": _step("staging"),
    "monitoring": _step("monitoring", *"slack://T0/B0/x"),
    "review": _review,
    "done": _done,
    "quit": _quit,
}


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("screen", list(SCREENS))
def test_screen(snap_compare, monkeypatch, screen: str, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    # The done screen names `shipyard` as this shell would run it; snapshots show it on PATH.
    monkeypatch.setattr("wizard.next_steps.shipyard_command", lambda: "shipyard")
    # The staging step asks this machine's Docker; snapshots show a machine where it answers.
    monkeypatch.setattr("wizard.staging.engine.docker_problem", lambda spec: None)
    app = ShipyardApp(DEST, spec=load_spec(EXAMPLE), save_drafts=False)
    assert snap_compare(app, terminal_size=size, run_before=SCREENS[screen])


@pytest.mark.parametrize("screen", ["objects", "permissions", "login"])
def test_screen_without_colour(snap_compare, monkeypatch: pytest.MonkeyPatch, screen: str) -> None:  # type: ignore[no-untyped-def]
    """With NO_COLOR, the cursor and the ticks still show (reversed text, X and ● glyphs)."""
    monkeypatch.setenv("NO_COLOR", "1")
    app = ShipyardApp(DEST, spec=load_spec(EXAMPLE), save_drafts=False)
    assert snap_compare(app, terminal_size=(80, 24), run_before=SCREENS[screen])
