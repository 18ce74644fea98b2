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


def as_typed(text: str) -> str:
    """`text` with every `shipyard COMMAND` it names spelled so that it runs as typed here."""
    command = shipyard_command()
    if command == "shipyard":
        return text
    return _COMMAND_IN_TEXT.sub(lambda _: f"{command} ", text)


def shown(path: Path) -> str:
    """A path as the founder would type it from here: relative when it is below the cwd."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
