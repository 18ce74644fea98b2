"""`shipyard check` in a terminal: run the checklist in a worker, then show the report screen."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, LoadingIndicator, Static

from wizard.checklist.results import Report
from wizard.errors import ShipyardError
from wizard.events import Event, EventSink
from wizard.tui.check_report import CheckReportScreen

Runner = Callable[[EventSink], Report]


class CheckRunningScreen(Screen[None]):
    """Each phase of the check as it starts; the worker only posts messages."""

    class Reported(Message):
        def __init__(self, event: Event) -> None:
            super().__init__()
            self.event = event

    class Finished(Message):
        def __init__(self, report: Report) -> None:
            super().__init__()
            self.report = report

    class Failed(Message):
        """The check could not run at all (exit code 2)."""

        def __init__(self, problem: ShipyardError) -> None:
            super().__init__()
            self.problem = problem

    def __init__(self, title: str, run: Runner) -> None:
        super().__init__(id="check-running")
        self.title_text = title
        self.runner = run
        self.said: set[str] = set()

    def compose(self) -> ComposeResult:
        yield Static(
            f"Shipyard · launch check · {self.title_text}", classes="step-heading", markup=False
        )
        yield Static(
            "Checking the spec, the project and the live API. The probes sign in test "
            "accounts and try every permission, then delete what they created.",
            classes="intro",
            markup=False,
        )
        with VerticalScroll(classes="body", id="events"):
            pass
        yield LoadingIndicator(id="working")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.check()

    @work(thread=True, exclusive=True, group="check")
    def check(self) -> None:
        try:
            report = self.runner(self._report)
        except ShipyardError as exc:
            self.post_message(self.Failed(exc))
        except Exception as exc:  # shown as a sentence after the screen closes, never a traceback
            problem = ShipyardError(
                f"The launch check stopped on an unexpected problem: {type(exc).__name__}: {exc}",
                hint="This is a bug in Shipyard, not something you did; please report it.",
            )
            self.post_message(self.Failed(problem))
        else:
            self.post_message(self.Finished(report))

    def _report(self, event: Event) -> None:
        self.post_message(self.Reported(event))

    def on_check_running_screen_reported(self, message: Reported) -> None:
        # The checks of each kind run interleaved: say when each kind starts, once.
        if message.event.message in self.said:
            return
        self.said.add(message.event.message)
        events = self.query_one("#events", VerticalScroll)
        events.mount(Static(f"· {message.event.message}", classes="event", markup=False))
        events.scroll_end(animate=False)


class CheckApp(App[int]):
    """Shows a report (or runs the check first); quitting returns the report's exit code."""

    TITLE = "Shipyard launch check"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+q", "close", "Quit", show=False, priority=True),
        Binding("ctrl+c", "close", "Quit", show=False, priority=True),
    ]

    def __init__(
        self, report: Report | None = None, *, run: Runner | None = None, title: str = ""
    ) -> None:
        styles = [
            "shipyard.tcss",
            "check.tcss",
            *(["no_color.tcss"] if os.environ.get("NO_COLOR") else []),
        ]
        super().__init__(css_path=[Path(__file__).parent / name for name in styles])
        if (report is None) == (run is None):
            raise ValueError("give either a report or a way to run the check")
        self.report = report
        self.run_check = run
        self.title_text = title
        self.problem: ShipyardError | None = None
        self.crashed: BaseException | None = None

    def on_mount(self) -> None:
        if self.report is not None:
            self.push_screen(CheckReportScreen(self.report))
        else:
            assert self.run_check is not None
            self.push_screen(CheckRunningScreen(self.title_text, self.run_check))

    @property
    def exit_code(self) -> int:
        return int(self.report.exit_code) if self.report is not None else 2

    def on_check_running_screen_finished(self, message: CheckRunningScreen.Finished) -> None:
        self.report = message.report
        self.switch_screen(CheckReportScreen(message.report))

    def on_check_running_screen_failed(self, message: CheckRunningScreen.Failed) -> None:
        self.problem = message.problem
        self.exit(2)

    def on_check_report_screen_closed(self) -> None:
        self.exit(self.exit_code)

    def action_close(self) -> None:
        if self.report is None:
            self.notify(
                "The probes are still running; they delete what they created when they finish.",
                title="Please wait",
            )
            return
        self.exit(self.exit_code)

    def _fatal_error(self) -> None:
        """A bug: close without Textual's traceback (the CLI reports it as a sentence)."""
        if os.environ.get("SHIPYARD_VERBOSE") or self.is_headless:
            super()._fatal_error()
            return
        self.crashed = self._exception
        self._close_messages_no_wait()
