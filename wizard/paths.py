"""Where Shipyard's own data files live, found the same way from a checkout and a wheel."""

from __future__ import annotations

import re
import shlex
import shutil
import sys
from functools import cache
from pathlib import Path

from wizard.errors import ShipyardError

PACKAGE_DIR = Path(__file__).resolve().parent
# In a wheel, pyproject.toml force-includes blueprints/ and checklists/ here.
_WHEEL_DATA = PACKAGE_DIR / "_data"
# In a checkout (or an editable install) they sit beside the package.
_CHECKOUT = PACKAGE_DIR.parent


@cache
def data_dir(name: str) -> Path:
    """The directory holding Shipyard's `name` data (blueprints, checklists)."""
    for base in (_WHEEL_DATA, _CHECKOUT):
        candidate = base / name
        if candidate.is_dir():
            return candidate
    raise ShipyardError(
        f"Shipyard's {name} folder is missing from this installation.",
        hint="Reinstall Shipyard (pip install --force-reinstall shipyard), or run it from a full checkout.",
    )


def blueprints_dir() -> Path:
    """The folder holding one sub-folder per blueprint (fastapi, ...)."""
    return data_dir("blueprints")


def checklists_dir() -> Path:
    """The folder holding the launch checklist YAML files."""
    return data_dir("checklists")


def examples_dir() -> Path | None:
    """The bundled example specs; only present in a checkout."""
    candidate = _CHECKOUT / "examples"
    return candidate if candidate.is_dir() else None


_COMMAND_IN_TEXT = re.compile(r"(?<![\w/.-])shipyard (?=[a-z-])")


def shipyard_command() -> str:
    """How to run Shipyard, as typed in this shell: `shipyard` when the PATH finds it, else
    the program that is running, by its full path (a venv's console script, or python -m)."""
    if shutil.which("shipyard"):
        return "shipyard"
    script = Path(sys.argv[0]).absolute() if sys.argv and sys.argv[0] else None
    if script is not None and script.name == "shipyard" and script.is_file():
        return shlex.quote(str(script))
    return f"{shlex.quote(sys.executable)} -m wizard"


# The commands that take `-C DIR` (the project folder), and the one the running command was
# given, so that a command a message names runs as typed from where the founder is.
_PROJECT_COMMANDS = frozenset(
    [
        "edit",
        "update",
        "up",
        "down",
        "status",
        "logs",
        "backup",
        "restore",
        "users",
        "grant",
        "revoke",
        "admin",
        "alert",
        "check",
        "connect",
        "publish",
        "deploy",
    ]
)
_BACKTICKED = re.compile(r"`shipyard ([a-z-]+)([^`]*)`")
_project_dir: Path | None = None


def working_in(project: Path | None) -> None:
    """The project folder the running command was given with -C (None: the current one)."""
    global _project_dir
    _project_dir = project


def as_typed(text: str) -> str:
    """`text` with every `shipyard COMMAND` it names spelled so that it runs as typed here:
    by the full path when PATH does not find `shipyard`, and with `-C DIR` when the command
    works on a project that is not the current folder."""
    text = _in_project(text)
    command = shipyard_command()
    if command == "shipyard":
        return text
    return _COMMAND_IN_TEXT.sub(lambda _: f"{command} ", text)


def _in_project(text: str) -> str:
    if _project_dir is None:
        return text
    try:
        if _project_dir.resolve() == Path.cwd().resolve():
            return text
    except OSError:
        return text
    where = shlex.quote(shown(_project_dir.resolve()))

    def add(match: re.Match[str]) -> str:
        name, rest = match.group(1), match.group(2)
        if name not in _PROJECT_COMMANDS or " -C " in f"{rest} " or "--directory" in rest:
            return match.group(0)
        return f"`shipyard {name}{rest} -C {where}`"

    return _BACKTICKED.sub(add, text)


def shown(path: Path) -> str:
    """A path as the founder would type it from here: relative when it is below the cwd."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
