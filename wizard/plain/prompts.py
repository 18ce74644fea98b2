"""Line prompts shared by the plain wizard's steps: asking, explaining, numbers and defaults."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import questionary

from wizard.checklist import Item

TEXTUAL = ("string", "text", "email")
NUMERIC = ("int", "float")
NO_DEFAULT = ("date", "datetime", "ref")


def say(text: str = "") -> None:
    """Explanations go to stderr, so that stdout carries only the project's path."""
    print(text, file=sys.stderr, flush=True)


def ask_question(question: Any) -> Any:
    """Ask, turning Ctrl-C into KeyboardInterrupt (questionary would return None)."""
    return question.unsafe_ask()


def yes_no(question: str, default: bool) -> bool:
    """A yes/no question answered with Enter, so a habitual "y⏎" cannot answer the next one."""
    return bool(ask_question(questionary.confirm(question, default=default, auto_enter=False)))


def question_of(item: Item) -> str:
    return item.question or item.title


def explain(item: Item) -> None:
    say(" ".join(item.why.split()))


def number(
    label: str, current: Any, parse: Callable[[str], Any], minimum: float | None = None
) -> Any:
    def valid(text: str) -> bool | str:
        if not text.strip():
            return True
        try:
            value = parse(text.strip())
        except ValueError:
            return "type a whole number" if parse is int else "type a number"
        return True if minimum is None or value >= minimum else f"use {minimum} or more"

    text = ask_question(
        questionary.text(label, default="" if current is None else str(current), validate=valid)
    )
    return parse(text.strip()) if text.strip() else None


def default_value(name: str, kind: str, current: Any) -> Any:
    if kind == "bool":
        choice = ask_question(
            questionary.select(
                f"Default for {name}",
                choices=["none", "yes", "no"],
                default={True: "yes", False: "no"}.get(current, "none"),
            )
        )
        return {"yes": True, "no": False}.get(choice)
    if kind in NUMERIC:
        return number(f"Default {name} (empty: none)", current, int if kind == "int" else float)
    text = ask_question(questionary.text(f"Default {name} (empty: none)", default=current or ""))
    return text or None
