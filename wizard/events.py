"""Progress events: what each pipeline step reports, for whichever front end is listening."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Event:
    """One step of progress: a short step id ("render", "git", ...) and a sentence for people."""

    step: str
    message: str


EventSink = Callable[[Event], None]


def ignore(event: Event) -> None:
    """The sink used when nobody is listening."""
