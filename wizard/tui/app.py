"""The Shipyard wizard: an App that walks the checklist's steps and returns the LaunchSpec."""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual.app import App
from textual.binding import Binding, BindingType
from textual.screen import Screen

from wizard.errors import ShipyardError
from wizard.tui.dialogs import Choice
from wizard.tui.welcome import WelcomeScreen

# Only what the welcome screen needs is imported up front; the spec models, drafts and
# step screens load right after it is painted, so the first screen appears at once.
if TYPE_CHECKING:
    from wizard import drafts
    from wizard.checklist import Checklist, Step
    from wizard.spec import LaunchSpec
    from wizard.tui.base import StepScreen
    from wizard.tui.progress import ProgressScreen

# The checklist names a screen for each step it wants asked; these are the screens,
# imported when first shown so that the welcome screen appears at once.
SCREENS: dict[str, str] = {
    "basics": "wizard.tui.basics:BasicsScreen",
    "objects": "wizard.tui.objects:ObjectsScreen",
    "ownership": "wizard.tui.ownership:OwnershipScreen",
    "login": "wizard.tui.login:LoginScreen",
    "permissions": "wizard.tui.permissions:PermissionsScreen",
    "frontend": "wizard.tui.frontend:FrontendScreen",
    "staging": "wizard.tui.staging:StagingScreen",
    "monitoring": "wizard.tui.monitoring:MonitoringScreen",
}


def screen_class(screen: str) -> type[StepScreen]:
    module, name = SCREENS[screen].split(":")
    found: type[StepScreen] = getattr(importlib.import_module(module), name)
    return found


class ShipyardApp(App["LaunchSpec | None"]):
    """`new` mode creates the project at the end; `edit` mode returns the changed spec."""

    TITLE = "Shipyard"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+q", "quit_wizard", "Quit", priority=True),
        Binding("ctrl+c", "quit_wizard", "Quit", show=False, priority=True),
    ]

    def __init__(
        self,
        dest: Path | None = None,
        *,
        spec: LaunchSpec | None = None,
        mode: str = "new",
        checklist: Checklist | None = None,
        save_drafts: bool = True,
    ) -> None:
        styles = ["shipyard.tcss", *(["no_color.tcss"] if os.environ.get("NO_COLOR") else [])]
        super().__init__(css_path=[Path(__file__).parent / name for name in styles])
        self.dest = Path(os.path.abspath(dest)) if dest is not None else None
        self._spec = spec.model_copy(deep=True) if spec is not None else None
        self.mode = mode
        self._checklist = checklist
        self._steps: list[Step] | None = None
        self.save_drafts = save_drafts and mode == "new"
        self.permissions_touched: set[str] = set(spec.objects) if spec is not None else set()
        self.draft_file: Path | None = None
        self.created: Path | None = None
        self.busy = False
        self.quit_message = "Cancelled: nothing was written."
        self._step = "welcome"
        self._shown_first = False
        self.crashed: BaseException | None = None
        self.refused: ShipyardError | None = None
        from wizard.env_answers import EnvAnswers

        # Where alerts go: secrets for .env, so never in the spec or a saved draft.
        self.env_answers = EnvAnswers()

    @property
    def steps(self) -> list[Step]:
        """The checklist's steps that have a screen, validated (pydantic) on first use."""
        if self._steps is None:
            from wizard.checklist import load_checklist

            self._steps = (self._checklist or load_checklist()).wizard_steps
        return self._steps

    def _step_titles(self) -> list[str]:
        """The steps' titles for the welcome screen, read before the models are loaded."""
        if self._steps is not None or self._checklist is not None:
            return [step.title for step in self.steps]
        import yaml

        from wizard.paths import checklists_dir

        try:
            data = yaml.safe_load((checklists_dir() / "launch.yaml").read_text(encoding="utf-8"))
            titles = [str(step["title"]) for step in data["steps"] if step.get("screen")]
        except Exception:  # the full load below reports what is wrong with the file
            return [step.title for step in self.steps]
        return titles

    @property
    def spec(self) -> LaunchSpec:
        """The answers so far (a blank spec with safe defaults until the founder answers)."""
        if self._spec is None:
            from wizard.answers import blank_spec

            self._spec = blank_spec()
        return self._spec

    @spec.setter
    def spec(self, value: LaunchSpec) -> None:
        self._spec = value

    # --- where things go ------------------------------------------------------------------------

    @property
    def target(self) -> Path | None:
        """The project folder: the one given, else ./<app name> once the name is valid."""
        if self.dest is not None:
            return self.dest
        from wizard.spec.validate import check

        name = self.spec.app.name
        if name and not any(path[:2] == ("app", "name") for path, _ in check(self.spec)):
            return Path.cwd() / name
        return None

    def on_mount(self) -> None:
        if self.mode == "edit":
            self.show_step(0)
            return
        self._show(WelcomeScreen(self._step_titles(), str(self.dest) if self.dest else None))
        self.call_after_refresh(self._after_first_paint)

    def _after_first_paint(self) -> None:
        """Refuse a folder that is in use, then offer to resume a saved draft."""
        from wizard import drafts
        from wizard.pipeline import check_destination

        if self.dest is not None:
            try:
                check_destination(self.dest)
            except ShipyardError as problem:
                self.refused = problem
                self.exit(None)
                return
        self.steps  # noqa: B018 - validate the checklist and load the spec models now,
        self.spec  # noqa: B018 - while the founder reads
        draft = drafts.find_draft(self.dest) if self.save_drafts else None
        if draft is not None:
            self._offer_resume(draft)

    def _offer_resume(self, draft: drafts.Draft) -> None:
        title = draft.spec.app.title or "your app"
        step = next((s.title for s in self.steps if s.id == draft.step), "the review")

        def answered(key: str | None) -> None:
            if key == "r":
                self.spec = draft.spec
                self.dest = self.dest or draft.dest
                self.draft_file = draft.path
                self.permissions_touched = set(self.spec.objects)
                index = next(
                    (i for i, s in enumerate(self.steps) if s.id == draft.step), len(self.steps)
                )
                self.show_step(index)
            elif key == "n":
                from wizard import drafts

                drafts.discard_draft(draft.path)

        self.push_screen(
            Choice(
                "Pick up where you left off?",
                f"Answers for {title} were saved in {draft.path} (you were at: {step}).",
                [("r", "Resume"), ("n", "Start over")],
            ),
            answered,
        )

    # --- moving between steps -------------------------------------------------------------------

    def show_step(self, index: int) -> None:
        if index >= len(self.steps):
            from wizard.tui.review import EditReviewScreen, ReviewScreen

            self._step = "review"
            review = EditReviewScreen if self.mode == "edit" else ReviewScreen
            self._show(review(self.spec, self.target, self.mode, self.env_answers))
            return
        index = max(index, 0)
        step = self.steps[index]
        self._step = step.id
        self._show(
            screen_class(step.screen or "")(
                self.spec, step, index + 1, len(self.steps), env_answers=self.env_answers
            )
        )

    def _show(self, screen: Screen[None]) -> None:
        """Replace the current page (the first one is pushed over Textual's default screen)."""
        if self._shown_first:
            self.switch_screen(screen)
        else:
            self._shown_first = True
            self.push_screen(screen)

    # Messages from a page that is already being replaced (a key pressed twice quickly)
    # are stale: each handler below acts only on messages from the current page.

    def on_welcome_screen_started(self) -> None:
        if self._step == "welcome":
            self.show_step(0)

    def on_step_screen_navigated(self, message: StepScreen.Navigated) -> None:
        if message.step_id != self._step:
            return
        index = next(i for i, step in enumerate(self.steps) if step.id == message.step_id)
        going = index + message.direction
        self.save_draft(self.steps[max(going, 0)].id if going < len(self.steps) else "review")
        if going < 0:
            if self.mode == "new":
                self._step = "welcome"
                self._show(
                    WelcomeScreen(
                        [step.title for step in self.steps],
                        str(self.target) if self.target else None,
                    )
                )
            return
        self.show_step(going)

    def on_step_screen_answers_changed(self, message: StepScreen.AnswersChanged) -> None:
        self.save_draft(message.step_id)

    def on_review_screen_went_back(self) -> None:
        if self._step == "review":
            self.show_step(len(self.steps) - 1)

    def on_review_screen_confirmed(self) -> None:
        if self._step != "review" or self.busy:
            return
        if self.mode == "edit":
            self.exit(self.spec)
            return
        target = self.target
        if target is None:
            return
        from wizard.errors import ShipyardError
        from wizard.pipeline import check_destination

        try:
            check_destination(target)
        except ShipyardError as problem:
            self.push_screen(
                Choice(
                    "That folder cannot be used",
                    f"{problem.message}\n{problem.hint or ''}",
                    [("enter", "Back to the review")],
                )
            )
            return
        from wizard.tui.progress import ProgressScreen

        self.busy = True
        self._step = "progress"
        self._show(ProgressScreen(self.spec, target, self.env_answers))

    def on_progress_screen_finished(self, message: ProgressScreen.Finished) -> None:
        from wizard import drafts
        from wizard.tui.done import DoneScreen

        self.busy = False
        self.created = message.path
        drafts.discard_draft(self.draft_file)
        self.draft_file = None
        self._step = "done"
        self._show(DoneScreen(self.spec, message.path, self.env_answers))

    def on_progress_screen_failed(self, message: ProgressScreen.Failed) -> None:
        self.busy = False
        from wizard.tui.progress import ProgressScreen

        progress = self.screen

        def answered(key: str | None) -> None:
            if key == "r" and isinstance(progress, ProgressScreen):
                self.busy = True
                progress.restart()
            elif key == "q":
                self.quit_message = self._on_disk()
                self.exit(None)
            else:
                self.show_step(len(self.steps))

        self.push_screen(
            Choice(
                "The project was not created",
                f"{message.message}\n{message.hint or ''}\nNothing was left in "
                f"{self.target}; your answers are kept.",
                [("r", "Try again"), ("b", "Back to the review"), ("q", "Quit")],
                classes="error",
            ),
            answered,
        )

    def on_done_screen_closed(self) -> None:
        self.exit(self.spec)

    # --- drafts and quitting --------------------------------------------------------------------

    def save_draft(self, step: str) -> None:
        from wizard import drafts

        if not self.save_drafts or self.created is not None:
            return
        target = self.target
        if target is None:
            return
        path = drafts.draft_path(target)
        if self.draft_file is not None and self.draft_file != path:
            drafts.discard_draft(self.draft_file)
        try:
            self.draft_file = drafts.save_draft(target, self.spec, step)
        except OSError as exc:
            self.save_drafts = False
            self.notify(
                f"Your answers cannot be saved as you go ({exc.strerror}); finish in one sitting.",
                title="No draft",
                severity="warning",
            )

    def _on_disk(self) -> str:
        """What quitting now leaves on disk, as the sentence printed after the wizard closes."""
        if self.mode == "edit":
            return "Cancelled: shipyard.yaml was not changed."
        target = self.target
        where = f" into {_shown(target)}" if target else ""
        if self.draft_file is not None and self.draft_file.exists():
            again = f"shipyard new {_shown(self.dest)}" if self.dest else "shipyard new"
            return (
                f"Cancelled: nothing was written{where}. Your answers are saved in "
                f"{_shown(self.draft_file)}; run `{again}` to pick up where you left off."
            )
        return f"Cancelled: nothing was written{where}."

    def _fatal_error(self) -> None:
        """A bug: close without Textual's traceback (run_wizard reports it as a sentence)."""
        if os.environ.get("SHIPYARD_VERBOSE") or self.is_headless:
            super()._fatal_error()
            return
        self.crashed = self._exception
        self.quit_message = self._on_disk()
        self._close_messages_no_wait()

    def action_quit_wizard(self) -> None:
        if self.busy:
            self.notify(
                "Shipyard is creating the project; it takes a few seconds more.",
                title="Please wait",
            )
            return
        if self.created is not None:
            self.exit(self.spec)
            return
        if isinstance(self.screen, Choice) and self.screen.title_text == "Quit Shipyard?":
            return
        from wizard.tui.base import StepScreen

        if isinstance(self.screen, StepScreen):
            self.screen.save_answers()
            self.save_draft(self._step)
        message = self._on_disk()

        def answered(key: str | None) -> None:
            if key == "y":
                self.quit_message = message
                self.exit(None)

        warning = message.removeprefix("Cancelled: ").replace(
            "nothing was written", "nothing has been written", 1
        )
        self.push_screen(
            Choice(
                "Quit Shipyard?",
                warning[0].upper() + warning[1:],
                [("y", "Quit"), ("n", "Keep going")],
            ),
            answered,
        )


def _shown(path: Path | None) -> str:
    if path is None:
        return ""
    try:
        relative = os.path.relpath(path)
    except ValueError:
        return str(path)
    return str(path) if relative.startswith("..") else relative
