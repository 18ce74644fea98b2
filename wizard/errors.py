"""Shipyard's own errors and the exit codes they map to."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class ExitCode(IntEnum):
    """Exit codes every command keeps; documented in the README."""

    OK = 0
    FAILURE = 1
    BAD_INPUT = 2
    CANCELLED = 130


class ShipyardError(Exception):
    """A failure a founder can read: what went wrong, and what to do next."""

    exit_code = ExitCode.FAILURE

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\n{self.hint}"


class BadInput(ShipyardError):
    """The command line or a file the founder wrote needs changing."""

    exit_code = ExitCode.BAD_INPUT


class Cancelled(ShipyardError):
    """The founder pressed Ctrl-C or closed the wizard; the message says what is on disk."""

    exit_code = ExitCode.CANCELLED


@dataclass(frozen=True)
class SpecProblem:
    """One thing wrong in a launch spec, located as precisely as we can."""

    message: str
    field: str = ""
    line: int | None = None

    def describe(self, filename: str) -> str:
        where = filename if self.line is None else f"{filename}, line {self.line}"
        what = f"{self.field}: " if self.field else ""
        return f"{where}: {what}{self.message}"


_SHOWN = 50  # problems listed in the message; a file with thousands is the wrong file


class SpecError(BadInput):
    """The launch spec is not valid; carries every problem found, not just the first."""

    def __init__(self, filename: str, problems: list[SpecProblem]) -> None:
        self.filename = filename
        self.problems = problems
        count = len(problems)
        heading = f"{filename} has {count} problem{'s' if count != 1 else ''}:"
        lines = [heading] + [f"  - {p.describe(filename)}" for p in problems[:_SHOWN]]
        if count > _SHOWN:
            lines.append(f"  - and {count - _SHOWN} more like these")
        super().__init__(
            "\n".join(lines),
            hint=f"Edit {filename} as described above, then run the command again.",
        )
