"""The plain wizard's walk: the checklist's steps in order as line prompts, then the review."""

from __future__ import annotations

import os
from pathlib import Path

import questionary
from questionary import Choice

from wizard import answers, drafts, wording
from wizard.checklist import Checklist, Step, load_checklist
from wizard.env_answers import EnvAnswers
from wizard.plain.objects import ObjectPrompts
from wizard.plain.prompts import ask_question, explain, question_of, say, yes_no
from wizard.spec import ACTIONS, LaunchSpec, dump_spec
from wizard.spec.models import App
from wizard.spec.naming import with_article
from wizard.spec.validate import check
from wizard.staging import engine


class PlainWizard:
    """Walks the checklist's steps in order; `spec` holds the answers so far."""

    def __init__(
        self,
        dest: Path | None,
        spec: LaunchSpec | None = None,
        mode: str = "new",
        checklist: Checklist | None = None,
    ) -> None:
        self.dest = Path(os.path.abspath(dest)) if dest is not None else None
        self.spec = spec.model_copy(deep=True) if spec is not None else answers.blank_spec()
        self.mode = mode
        self.steps = (checklist or load_checklist()).wizard_steps
        self.draft_file: Path | None = None
        # Where alerts go: secrets for .env, so never in the spec or a saved draft.
        self.env_answers = EnvAnswers()

    @property
    def target(self) -> Path | None:
        if self.dest is not None:
            return self.dest
        if self.spec.app.name and not answers.problem_at(self.spec, "app", "name"):
            return Path.cwd() / self.spec.app.name
        return None

    # --- the walk -----------------------------------------------------------------------------

    def run(self) -> LaunchSpec:
        """Ask every step, then the review; returns the accepted spec."""
        start = 0
        if self.mode == "new":
            start = self._welcome()
        for index in range(start, len(self.steps)):
            self.ask_step(index)
        while True:
            choice = self.review()
            if isinstance(choice, str):  # "accept"
                return self.spec
            self.ask_step(choice)

    def _welcome(self) -> int:
        say("Shipyard: a backend for your frontend.")
        say(
            "A backend is the part of your app that runs on a server: it keeps the data, checks "
            "who is signed in and decides who may see or change what. Shipyard builds one from "
            "your answers. Nothing is written into the project folder until you confirm at the end."
        )
        say("Press Ctrl-C at any time to stop; your answers are saved as you go.")
        draft = drafts.find_draft(self.dest)
        if draft is None:
            return 0
        title = draft.spec.app.title or "your app"
        if yes_no(f"Resume the answers for {title} saved in {draft.path}?", default=True):
            self.spec, self.dest, self.draft_file = draft.spec, self.dest or draft.dest, draft.path
            ids = [step.id for step in self.steps]
            return ids.index(draft.step) if draft.step in ids else len(self.steps)
        drafts.discard_draft(draft.path)
        return 0

    def ask_step(self, index: int) -> None:
        step = self.steps[index]
        say()
        say(f"Step {index + 1} of {len(self.steps)}: {step.title}")
        if step.intro:
            say(" ".join(step.intro.split()))
        ask = getattr(self, f"ask_{step.screen}")
        while True:
            ask(step)
            problems = answers.problems_on(self.spec, step.screen or "")
            if not problems:
                break
            say("Please fix these first:")
            for problem in problems:
                say(f"  - {problem}")
        self.save_draft(self.steps[index + 1].id if index + 1 < len(self.steps) else "review")

    def save_draft(self, step: str) -> None:
        target = self.target
        if self.mode != "new" or target is None:
            return
        path = drafts.draft_path(target)
        if self.draft_file is not None and self.draft_file != path:
            drafts.discard_draft(self.draft_file)
        try:
            self.draft_file = drafts.save_draft(target, self.spec, step)
        except OSError:
            self.draft_file = None

    # --- steps (one method per checklist screen) ----------------------------------------------

    def ask_basics(self, step: Step) -> None:
        spec = self.spec
        title = ask_question(
            questionary.text(
                question_of(step.item("app-title")),
                default=spec.app.title,
                validate=lambda text: bool(text.strip()) or "type a title",
            )
        )
        name = ask_question(
            questionary.text(
                question_of(step.item("app-name")),
                default=spec.app.name or answers.slugify(title),
                validate=lambda text: (
                    answers.app_problem(title, text.strip(), []).get("name") or True
                ),
            )
        )
        roles = ask_question(
            questionary.text(
                question_of(step.item("roles")) + " (commas between them; empty for none)",
                default=", ".join(spec.roles),
                validate=lambda text: (
                    answers.app_problem(title, name.strip(), answers.split_words(text)).get("roles")
                    or True
                ),
            )
        )
        spec.app = App(title=title.strip(), name=name.strip())
        spec.roles = [role for role in answers.split_words(roles) if role != "admin"]

    def ask_objects(self, step: Step) -> None:
        ObjectPrompts(self.spec).ask(step)

    def ask_ownership(self, step: Step) -> None:
        item = step.item("ownership")
        explain(item)
        labels = {choice.value: choice.label for choice in item.choices}
        for name, obj in self.spec.objects.items():
            options = [Choice(labels["creator"], "creator")]
            options += [
                Choice(labels["parent"].replace("{parent}", ref), ref) for ref in obj.ref_fields
            ]
            options += [Choice(labels["none"], "none")]
            owner = ask_question(
                questionary.select(
                    f"Who owns {with_article(name)}?", choices=options, default=obj.owner
                )
            )
            if owner != obj.owner:
                answers.set_owner(self.spec, name, owner)
                obj.permissions = answers.default_permissions(obj)
        answers.keep_owners(self.spec)

    def ask_login(self, step: Step) -> None:
        item = step.item("login-methods")
        explain(item)
        for choice in item.choices:
            say(f"  {choice.label}: {' '.join(choice.why.split())}")
        chosen = ask_question(
            questionary.checkbox(
                question_of(item),
                choices=[
                    Choice(c.label, c.value, checked=c.value in self.spec.login.methods)
                    for c in item.choices
                ],
                validate=lambda picked: bool(picked) or "tick at least one (Space ticks)",
            )
        )
        self.spec.login.methods = chosen

    def ask_permissions(self, step: Step) -> None:
        explain(step.item("permissions"))
        say(
            "For each question, tick everyone who may do it (Space ticks, Enter goes on). "
            "Ticking nobody means: nobody but admins."
        )
        for name, obj in self.spec.objects.items():
            terms = answers.term_choices(self.spec, name)
            for action in ACTIONS:
                rule = obj.permissions.rule(action)
                question = wording.permission_sentence(name, action, None).split("?")[0] + "?"
                picked = ask_question(
                    questionary.checkbox(
                        question,
                        choices=[
                            Choice(wording.term_phrase(term), term, checked=term in rule.terms)
                            for term in terms
                        ],
                    )
                )
                setattr(obj.permissions, action, answers.make_rule(self.spec, name, set(picked)))

    def ask_frontend(self, step: Step) -> None:
        item = step.item("cors-origins")
        text = ask_question(
            questionary.text(
                question_of(item) + " (commas between addresses)",
                default=", ".join(self.spec.frontend.origins),
                validate=lambda t: answers.origin_problem(answers.split_words(t)) or True,
            )
        )
        self.spec.frontend.origins = answers.origins_from(text)
        if note := answers.origins_note(text, self.spec.frontend.origins):
            say(note)

    def ask_staging(self, step: Step) -> None:
        item = step.item("staging-target")
        explain(item)
        options = [Choice(f"{c.label} ({c.why})", c.value) for c in item.choices]
        self.spec.staging.target = ask_question(
            questionary.select(question_of(item), choices=options, default=self.spec.staging.target)
        )
        if self.spec.staging.target != "docker":
            return
        say("Checking that Docker answers here and can get its images…")
        problem = engine.docker_problem(self.spec)
        if problem is None:
            return
        say(f"Docker staging would not start here yet: {problem}.")
        if yes_no("Run staging as a local process with SQLite instead?", default=True):
            self.spec.staging.target = "local"
        else:
            say("Start Docker before `shipyard up` (it offers the local process too).")

    def ask_monitoring(self, step: Step) -> None:
        for item_id, key, example in (
            ("alert-destination", "alert_url", "mailto://you:app-password@gmail.com"),
            ("error-monitoring", "sentry_dsn", "https://KEY@ORG.ingest.sentry.io/PROJECT"),
        ):
            item = step.item(item_id)
            explain(item)

            def valid(text: str, key: str = key) -> bool | str:
                trial = EnvAnswers(**{key: text})
                return trial.problems().get(key) or True

            answer = ask_question(
                questionary.text(
                    f"{question_of(item)}, e.g. {example}",
                    default=getattr(self.env_answers, key),
                    validate=valid,
                )
            )
            setattr(self.env_answers, key, answer.strip())
        say(
            f"Alerts go to {self.env_answers.destination()}. These answers go into .env "
            "(Git ignores it), never into shipyard.yaml; `shipyard alert set URL` changes them."
        )

    # --- review -------------------------------------------------------------------------------

    def review(self) -> int | str:
        """'accept', or the index of the step to ask again."""
        say()
        say("Your answers, as shipyard.yaml:")
        problems = check(self.spec)
        if not problems:
            say(dump_spec(self.spec).rstrip())
        warnings = answers.launch_warnings(self.spec)
        say(
            "What the launch check would warn about:"
            if warnings
            else "The launch check has nothing to warn about."
        )
        for warning in warnings:
            say(f"  ! {warning}")
        for path, message in problems:
            say(f"  Fix first ({answers.screen_of(path)}): {message}")
        accept = (
            "Save shipyard.yaml" if self.mode == "edit" else f"Create the project in {self.target}"
        )
        options = [] if problems else [Choice(accept, "accept")]
        options += [Choice(f"Change: {step.title}", index) for index, step in enumerate(self.steps)]
        return ask_question(questionary.select("What next?", choices=options))  # type: ignore[no-any-return]
