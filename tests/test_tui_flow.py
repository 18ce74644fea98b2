"""Wizard behaviour through Pilot: validation as typed, editing by keyboard, quitting, drafts, edit mode."""

from __future__ import annotations

from pathlib import Path

import pytest
import tui_driver

from wizard import drafts
from wizard.spec import load_spec
from wizard.tui.app import ShipyardApp
from wizard.tui.basics import BasicsScreen
from wizard.tui.dialogs import Choice
from wizard.tui.objects import ObjectsScreen
from wizard.tui.review import ReviewScreen
from wizard.tui.welcome import WelcomeScreen


def _text(app: ShipyardApp, selector: str) -> str:
    return str(app.screen.query_one(selector).render())


async def test_names_are_checked_as_they_are_typed(tmp_path: Path) -> None:
    app = ShipyardApp(tmp_path / "app", save_drafts=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("enter")
        await tui_driver.type_text(pilot, "Studio Booking")
        await pilot.press("tab")
        await tui_driver.type_text(pilot, "Studio Booking")
        await pilot.pause()
        assert "not a valid app name" in _text(app, "#name-problem")
        await pilot.press("tab")
        await tui_driver.type_text(pilot, "Staff")
        await pilot.pause()
        assert "must be lower case" in _text(app, "#roles-problem")
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert isinstance(app.screen, BasicsScreen), "Next is refused while answers are invalid"
        assert "Fix first" in _text(app, "#step-problems")


async def test_objects_and_fields_are_added_edited_and_removed_by_keyboard(tmp_path: Path) -> None:
    app = ShipyardApp(tmp_path / "app", save_drafts=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("enter")
        await tui_driver.basics(pilot, "Notes", "")
        assert isinstance(app.screen, ObjectsScreen)
        await tui_driver.add_object(pilot, "note", [])  # lower case: refused as typed
        assert "capital letter" in _text(app, "#object-name-problem")
        await pilot.press("escape")
        await tui_driver.add_object(
            pilot, "Note", [{"name": "title", "required": True}, {"name": "id"}]
        )  # reserved: refused
        assert "added to every object" in _text(app, "#field-problem")
        await pilot.press("escape")
        assert list(app.spec.objects["Note"].fields) == ["title"]
        # Rename the object, edit the field (make it long text), then delete it.
        await pilot.press("r")
        await tui_driver.type_text(pilot, "Memo")
        await pilot.press("enter")
        await pilot.pause()
        assert list(app.spec.objects) == ["Memo"]
        await pilot.press("tab", "e")
        await pilot.pause()
        await pilot.press("tab", "enter")
        await tui_driver.type_text(pilot, "text")
        await pilot.press("enter", "ctrl+s")
        await pilot.pause()
        assert app.spec.objects["Memo"].fields["title"].type == "text"
        await pilot.press("x")
        await pilot.pause()
        assert app.spec.objects["Memo"].fields == {}
        await pilot.press("d", "y")
        await pilot.pause()
        assert app.spec.objects == {}


async def test_quitting_before_the_pipeline_writes_nothing_into_dir(tmp_path: Path) -> None:
    dest = tmp_path / "studio-booking"
    app = ShipyardApp(dest)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("enter")
        await tui_driver.basics(pilot, "Studio Booking", "staff")
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert isinstance(app.screen, Choice)
        assert "saved in" in _text(app, ".dialog-message")
        await pilot.press("y")
    assert app.return_value is None
    assert not dest.exists()
    assert "nothing was written" in app.quit_message
    assert ".studio-booking.shipyard-draft.yaml" in app.quit_message
    draft = drafts.load_draft(drafts.draft_path(dest))
    assert (
        draft is not None and draft.spec.app.title == "Studio Booking" and draft.step == "objects"
    )


async def test_a_saved_draft_is_offered_and_resumed(tmp_path: Path, studio_spec_file: Path) -> None:
    dest = tmp_path / "studio-booking"
    drafts.save_draft(dest, load_spec(studio_spec_file), "permissions")
    app = ShipyardApp(dest)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, Choice)
        await pilot.press("r")
        await pilot.pause()
        assert app.screen.id == "step-permissions"
        assert app.spec == load_spec(studio_spec_file)


async def test_starting_over_discards_the_draft(tmp_path: Path, studio_spec_file: Path) -> None:
    dest = tmp_path / "studio-booking"
    path = drafts.save_draft(dest, load_spec(studio_spec_file), "permissions")
    app = ShipyardApp(dest)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, WelcomeScreen)
        assert not path.exists()
        assert app.spec.objects == {}


async def test_a_folder_that_is_not_empty_is_refused_before_any_question(tmp_path: Path) -> None:
    dest = tmp_path / "busy"
    dest.mkdir()
    (dest / "notes.txt").write_text("mine", encoding="utf-8")
    app = ShipyardApp(dest)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
    assert app.refused is not None and "not empty" in app.refused.message
    assert sorted(path.name for path in dest.iterdir()) == ["notes.txt"]


async def test_a_folder_filled_meanwhile_is_refused_at_the_review(
    tmp_path: Path, studio_spec_file: Path
) -> None:
    dest = tmp_path / "busy"
    app = ShipyardApp(dest, spec=load_spec(studio_spec_file), save_drafts=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        dest.mkdir()
        (dest / "notes.txt").write_text("mine", encoding="utf-8")
        app.show_step(len(app.steps))
        await pilot.pause()
        assert isinstance(app.screen, ReviewScreen)
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert isinstance(app.screen, Choice)
        assert "not empty" in _text(app, ".dialog-message")
    assert sorted(path.name for path in dest.iterdir()) == ["notes.txt"]


async def test_edit_mode_returns_the_changed_spec(tmp_path: Path, studio_spec_file: Path) -> None:
    original = load_spec(studio_spec_file)
    app = ShipyardApp(tmp_path / "shipyard.yaml", spec=original, mode="edit")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.screen.id == "step-basics"
        await pilot.press("tab", "tab", "end")
        await tui_driver.type_text(pilot, ", teacher")
        for _ in app.steps:
            await pilot.press("ctrl+n")
            await pilot.pause()
        assert isinstance(app.screen, ReviewScreen)
        await pilot.press("ctrl+n")
    assert app.return_value is not None
    assert app.return_value.roles == ["staff", "teacher"]
    assert app.return_value.objects == original.objects
    assert original.roles == ["staff"], "the spec passed in is not changed in place"


async def test_quitting_edit_mode_changes_nothing(tmp_path: Path, studio_spec_file: Path) -> None:
    app = ShipyardApp(tmp_path / "shipyard.yaml", spec=load_spec(studio_spec_file), mode="edit")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("ctrl+q", "y")
    assert app.return_value is None
    assert app.quit_message == "Cancelled: shipyard.yaml was not changed."


async def test_the_steps_come_from_the_checklist_file(tmp_path: Path) -> None:
    from wizard.checklist import load_checklist, parse_checklist

    full = load_checklist()
    basics = full.step("basics").model_dump(exclude_none=True)
    basics["title"] = "The name of the thing"
    short = parse_checklist(
        __import__("yaml").safe_dump({"version": 1, "steps": [basics]}), "short.yaml"
    )
    app = ShipyardApp(tmp_path / "app", checklist=short, save_drafts=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert "1. The name of the thing" in _text(app, ".plan")
        await pilot.press("enter")
        await pilot.pause()
        assert "step 1 of 1 · The name of the thing" in _text(app, ".step-heading")


async def test_a_pipeline_failure_is_a_dialog_and_can_be_retried(
    tmp_path: Path, studio_spec_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from wizard import pipeline
    from wizard.errors import ShipyardError
    from wizard.tui.done import DoneScreen
    from wizard.tui.progress import ProgressScreen

    real = pipeline.create_project
    calls: list[Path] = []

    def failing_once(spec, dest, on_event=None, env_answers=None):  # type: ignore[no-untyped-def]
        calls.append(dest)
        if len(calls) == 1:
            raise ShipyardError("Git is not installed.", hint="Install git, then press r.")
        return real(spec, dest, on_event, env_answers)

    monkeypatch.setattr(pipeline, "create_project", failing_once)
    dest = tmp_path / "studio-booking"
    app = ShipyardApp(dest, spec=load_spec(studio_spec_file), save_drafts=False)
    async with app.run_test(size=(80, 24)) as pilot:
        app.show_step(len(app.steps))
        await pilot.pause()
        await pilot.press("ctrl+n")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, Choice)
        assert "Git is not installed" in _text(app, ".dialog-message")
        assert not dest.exists()
        await pilot.press("r")
        await pilot.pause()
        # A fast retry may already have finished by the time we look.
        assert isinstance(app.screen, ProgressScreen | DoneScreen), type(app.screen)
        for _ in range(600):
            if isinstance(app.screen, DoneScreen):
                break
            await pilot.pause(0.1)
        assert isinstance(app.screen, DoneScreen)
    assert len(calls) == 2 and (dest / "shipyard.yaml").exists()


async def test_a_kept_default_owner_counts_as_an_answer_on_the_review(tmp_path: Path) -> None:
    from wizard import answers
    from wizard.spec import parse_spec

    spec = parse_spec(
        "app: {name: therapy, title: Therapy}\n"
        "objects:\n  TherapistProfile:\n    fields: {bio: text}\n"
        "    permissions: {read: public, create: signed_in, update: owner, delete: owner}\n"
    )
    said = "does not say who owns its records"
    assert any(said in warning for warning in answers.launch_warnings(spec))
    app = ShipyardApp(tmp_path / "therapy", spec=spec, save_drafts=False)
    async with app.run_test(size=(80, 24)) as pilot:
        index = next(i for i, step in enumerate(app.steps) if step.screen == "ownership")
        app.show_step(index)
        await pilot.pause()
        await pilot.press("ctrl+n")  # keep "the person who created it"
        await pilot.pause()
        assert app.spec.objects["TherapistProfile"].owner == "creator"
        assert not any(said in warning for warning in answers.launch_warnings(app.spec))


async def test_the_staging_step_says_when_docker_would_not_start_here(
    tmp_path: Path, studio_spec_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from textual.widgets import Static

    from wizard.staging import engine

    monkeypatch.setattr(engine, "docker_problem", lambda spec: "no Docker engine answers (test)")
    app = ShipyardApp(tmp_path / "studio", spec=load_spec(studio_spec_file), save_drafts=False)
    async with app.run_test(size=(80, 24)) as pilot:
        index = next(i for i, step in enumerate(app.steps) if step.screen == "staging")
        app.show_step(index)
        await app.workers.wait_for_complete()
        await pilot.pause()
        note = app.screen.query_one("#docker-readiness", Static)
        assert "no Docker engine answers (test)" in str(note.render())
        assert "choose the local process" in str(note.render())
        await pilot.press("down", "enter")  # the local process
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.spec.staging.target == "local"
        assert not note.has_class("-shown")


def _fits(table) -> None:  # type: ignore[no-untyped-def]
    """Every cell whole: no line wider than its column, rows as tall as their cells' lines,
    and nothing scrolled off to the side."""
    assert table.virtual_size.width <= table.size.width, "the table scrolls sideways"
    for row_key, row in table.rows.items():
        cells = table.get_row(row_key)
        for column, cell in zip(table.ordered_columns, cells, strict=True):
            lines = str(cell).split("\n")
            assert max(map(len, lines)) <= column.get_render_width(table) - 2, str(cell)
            assert len(lines) <= row.height, (str(cell), row.height)


@pytest.mark.parametrize("size", [(80, 24), (100, 30)])
@pytest.mark.parametrize("example", ["therapist-marketplace", "club-house"])
async def test_no_label_is_cut_off_in_the_grids(size: tuple[int, int], example: str) -> None:
    from textual.widgets import DataTable

    examples = Path(__file__).resolve().parent.parent / "examples"
    app = ShipyardApp(
        Path("/srv/x"), spec=load_spec(examples / f"{example}.yaml"), save_drafts=False
    )
    async with app.run_test(size=size) as pilot:
        for screen in ("objects", "permissions"):
            app.show_step(next(i for i, s in enumerate(app.steps) if s.screen == screen))
            await pilot.pause()
            table = app.screen.query_one("#fields" if screen == "objects" else "#matrix", DataTable)
            for _ in app.spec.objects if screen == "objects" else [None]:
                await pilot.pause()
                _fits(table)
                await pilot.press("down")  # the next object's fields


async def test_a_cleared_short_name_follows_the_title_again(tmp_path: Path) -> None:
    from textual.widgets import Input

    app = ShipyardApp(tmp_path / "app", save_drafts=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("enter")
        name = app.screen.query_one("#name", Input)
        assert name.placeholder.startswith("for example:")  # never looks like an answer
        await tui_driver.type_text(pilot, "Studio Booking")
        await pilot.press("tab", "end", "x")
        await pilot.pause()
        assert app.spec.app.name == "studio-bookingx"  # typed by hand: it stops following
        await pilot.press(*["backspace"] * len("studio-bookingx"))
        await pilot.pause()
        assert name.value == "" and name.placeholder == "suggested: studio-booking"
        assert app.spec.app.name == "studio-booking"  # cleared: the suggestion is meant
        await pilot.press("shift+tab", "end", "space", "2")
        await pilot.pause()
        assert name.value == "studio-booking-2"  # and it follows the title again


async def test_the_monitoring_step_checks_the_destination_and_keeps_it_out_of_the_spec(
    tmp_path: Path, studio_spec_file: Path
) -> None:
    from textual.widgets import Input

    app = ShipyardApp(tmp_path / "studio-booking", spec=load_spec(studio_spec_file))
    async with app.run_test(size=(80, 24)) as pilot:
        index = next(i for i, step in enumerate(app.steps) if step.screen == "monitoring")
        app.show_step(index)
        await pilot.pause()
        assert "Monitoring and alerts" in _text(app, ".step-heading")
        assert "Where should alerts go?" in _text(app, ".question")
        whys = " ".join(str(why.render()) for why in app.screen.query(".why"))
        assert "cost nothing" in whys and "free plan" in whys, "what it costs, in plain words"
        await tui_driver.type_text(pilot, "hooks.example.com/s3cr3t")
        await pilot.pause()
        problem = _text(app, "#alert-url-problem")
        assert "is not an apprise URL" in problem and "s3cr3t" not in problem
        assert app.screen.query_one("#alert-url", Input).has_class("-invalid")
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert app.screen.id == "step-monitoring", "a bad destination is fixed before going on"
        box = app.screen.query_one("#alert-url", Input)
        box.value = ""
        await tui_driver.type_text(pilot, "slack://TokenA/TokenB/s3cr3t")
        await pilot.press("enter")
        await tui_driver.type_text(pilot, "sentry.example.com")
        await pilot.pause()
        assert "is not a DSN" in _text(app, "#sentry-dsn-problem")
        app.screen.query_one("#sentry-dsn", Input).value = ""
        await pilot.press("enter")  # no DSN is fine: it is optional
        await pilot.pause()
        assert isinstance(app.screen, ReviewScreen)
        said = _text(app, "#alerts")
        assert "Alerts go to slack://..., kept in .env" in said and "s3cr3t" not in said
        # Back to the step: the answer is still there, kept by the app, not by the spec.
        await pilot.press("ctrl+p")
        await pilot.pause()
        assert app.screen.query_one("#alert-url", Input).value == "slack://TokenA/TokenB/s3cr3t"
        assert app.env_answers.values() == {"ALERT_URL": "slack://TokenA/TokenB/s3cr3t"}
        draft = drafts.draft_path(tmp_path / "studio-booking")
        assert draft.exists() and "s3cr3t" not in draft.read_text()
        assert "s3cr3t" not in __import__("wizard.spec", fromlist=["dump_spec"]).dump_spec(app.spec)
        await pilot.press("ctrl+q", "y")


async def test_edit_mode_shows_and_saves_the_monitoring_answers_in_env(tmp_path: Path) -> None:
    from textual.widgets import Input

    from wizard import envfile
    from wizard.env_answers import EnvAnswers

    (tmp_path / ".env").write_text("SECRET_KEY=k\nALERT_URL=mailto://me:pw@example.com\n")
    before = EnvAnswers.from_env(tmp_path)
    assert before.alert_url == "mailto://me:pw@example.com"
    app = ShipyardApp(
        tmp_path / "shipyard.yaml",
        spec=load_spec(Path(__file__).parent.parent / "examples" / "studio-booking.yaml"),
        mode="edit",
    )
    app.env_answers = EnvAnswers(before.alert_url, before.sentry_dsn)
    async with app.run_test(size=(80, 24)) as pilot:
        index = next(i for i, step in enumerate(app.steps) if step.screen == "monitoring")
        app.show_step(index)
        await pilot.pause()
        box = app.screen.query_one("#alert-url", Input)
        assert box.value == "mailto://me:pw@example.com"
        box.value = ""
        await tui_driver.type_text(pilot, "discord://1234/abcd")
        await pilot.press("enter", "enter")
        await pilot.pause()
        assert isinstance(app.screen, ReviewScreen)
        await pilot.press("ctrl+n")
    assert app.return_value is not None
    assert app.env_answers.write_changes(tmp_path, before) == ["ALERT_URL"]
    env = envfile.read_env(tmp_path)
    assert env == {"SECRET_KEY": "k", "ALERT_URL": "discord://1234/abcd"}


async def test_f1_on_the_first_step_shows_help_the_screen_does_not(tmp_path: Path) -> None:
    from wizard.tui.dialogs import Help

    app = ShipyardApp(tmp_path / "app", save_drafts=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("enter")
        await tui_driver.type_text(pilot, "Studio Booking")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, BasicsScreen)
        on_screen = " ".join(str(s.render()) for s in screen.query("Static"))
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, Help)
        text = app.screen.text
        # Every question, each with what the screen has no room for, from the answers so far.
        assert "What is your app called?" in text
        assert "the staging database studio_booking" in text
        assert "local SQLite file studio_booking.db" in text
        assert "Do not list admin" in text and "grant their@email.com staff" in text
        assert "{" not in text
        help_lines = [line for line in text.splitlines()[1::1] if len(line) > 60]
        assert help_lines and not any(line in on_screen for line in help_lines)
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen


@pytest.mark.parametrize("size", [(80, 24), (100, 30)])
async def test_the_frontend_step_keeps_a_pasted_lovable_address_as_browsers_send_it(
    tmp_path: Path, studio_spec_file: Path, size: tuple[int, int]
) -> None:
    from textual.widgets import Input

    app = ShipyardApp(tmp_path / "studio", spec=load_spec(studio_spec_file), save_drafts=False)
    async with app.run_test(size=size) as pilot:
        index = next(i for i, step in enumerate(app.steps) if step.screen == "frontend")
        app.show_step(index)
        await pilot.pause()
        assert "Where does your frontend run?" in _text(app, ".question")
        whys = " ".join(str(why.render()) for why in app.screen.query(".why"))
        assert "Paste it from the browser's address bar" in whys
        app.screen.query_one("#origins", Input).value = ""
        # As copied from the browser bar: capitals and a trailing slash.
        await tui_driver.type_text(pilot, "http://localhost:5173, https://TheraMatch.lovable.app/")
        await pilot.pause()
        assert _text(app, "#origins-problem") == ""
        assert _text(app, "#origins-saved") == (
            "Saved as http://localhost:5173, https://theramatch.lovable.app, "
            "the way browsers send them."
        )
        assert app.screen.query_one("#origins-saved").region.height >= 1, "the note is shown"
        # A page's address is not an origin: refused with the origin to write instead.
        await tui_driver.type_text(pilot, " https://theramatch.lovable.app/projects/1")
        await pilot.pause()
        assert "write https://theramatch.lovable.app" in _text(app, "#origins-problem")
        assert _text(app, "#origins-saved") == ""
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert app.screen.id == "step-frontend", "a path is fixed before going on"
        app.screen.query_one("#origins", Input).value = ""
        await tui_driver.type_text(pilot, "https://TheraMatch.lovable.app/")
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen.id != "step-frontend"
        assert app.spec.frontend.origins == ["https://theramatch.lovable.app"]
        await pilot.press("ctrl+q", "y")
