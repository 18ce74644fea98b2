"""`shipyard new --plain`: the wizard's checklist as line prompts (questionary), for basic terminals and screen readers."""

from __future__ import annotations

from pathlib import Path

from wizard import drafts
from wizard.errors import Cancelled
from wizard.next_steps import next_steps_text
from wizard.paths import shown
from wizard.plain.prompts import say
from wizard.plain.walk import PlainWizard
from wizard.spec import LaunchSpec

__all__ = ["PlainWizard", "ask", "edit"]


def ask(dest: Path | None) -> Path:
    """Ask everything, create the project through the pipeline and return its folder."""
    from wizard.pipeline import check_destination, create_project

    if dest is not None:
        check_destination(dest)  # say so now, not after every answer
    wizard = PlainWizard(dest)
    try:
        spec = wizard.run()
    except KeyboardInterrupt:
        raise Cancelled(_on_disk(wizard)) from None
    target = wizard.target
    assert target is not None  # the review only accepts a valid spec
    check_destination(target)
    answers = wizard.env_answers
    path = create_project(
        spec, target, on_event=lambda event: say(f"  {event.message}"), env_answers=answers
    )
    drafts.discard_draft(wizard.draft_file)
    say(f"{spec.app.title} is ready in {path}: committed to Git, its secrets in .env.")
    say(next_steps_text(spec, shown(path), answers.destination() if answers.alert_url else None))
    return path


def edit(spec: LaunchSpec, project: Path) -> LaunchSpec:
    """Walk the prompts over an existing spec; returns the changed spec (not yet saved)."""
    from wizard.env_answers import EnvAnswers

    wizard = PlainWizard(project / "shipyard.yaml", spec=spec, mode="edit")
    before = EnvAnswers.from_env(project)
    wizard.env_answers = EnvAnswers(before.alert_url, before.sentry_dsn)
    try:
        changed = wizard.run()
    except KeyboardInterrupt:
        raise Cancelled("Cancelled: shipyard.yaml was not changed.") from None
    written = wizard.env_answers.write_changes(project, before)
    if written:
        say(f"Saved {' and '.join(written)} in {project / '.env'}.")
    return changed


def _on_disk(wizard: PlainWizard) -> str:
    where = f" into {wizard.target}" if wizard.target else ""
    if wizard.draft_file is not None and wizard.draft_file.exists():
        return (
            f"Cancelled: nothing was written{where}. Your answers are saved in "
            f"{wizard.draft_file}; run `shipyard new --plain` with the same folder to resume."
        )
    return f"Cancelled: nothing was written{where}."
