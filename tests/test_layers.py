"""The headless core never loads a front end: checked in a fresh interpreter per module."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import pytest

import wizard

FRONT_ENDS = ("textual", "questionary", "typer")
# Front-end modules, allowed (expected) to import the libraries above.
FRONT_END_MODULES = {
    "wizard.cli",
    "wizard.commands",
    "wizard.__main__",
    "wizard.plain",
    "wizard.tui",
}


def core_modules() -> list[str]:
    names = []
    for info in pkgutil.walk_packages(wizard.__path__, prefix="wizard."):
        if any(info.name == m or info.name.startswith(m + ".") for m in FRONT_END_MODULES):
            continue
        if info.name.startswith("wizard._data"):
            continue
        names.append(info.name)
    return sorted(names)


def test_the_core_is_found():
    modules = core_modules()
    assert {"wizard.pipeline", "wizard.spec", "wizard.repo", "wizard.staging.local"} <= set(modules)


@pytest.mark.parametrize("module", core_modules())
def test_core_module_does_not_load_a_front_end(module):
    probe = (
        f"import sys, importlib; importlib.import_module({module!r}); "
        f"print(','.join(m for m in {FRONT_ENDS!r} if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "", f"{module} loads {result.stdout.strip()}"


def test_shipyard_asks_a_rendered_app_only_through_its_commands():
    """No program of Shipyard's imports the app's modules (`python -c "from app.core.db ..."`):
    the launch check and staging run the app's own commands (`python -m app outbox`,
    `limits`, ...), which its tests cover. (A container healthcheck's `python -c` reads a URL
    with the standard library only.)"""
    import re
    from pathlib import Path

    offenders = []
    for path in sorted(Path(wizard.__file__).parent.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        if re.search(r"\[\s*\"-c\",", text) or re.search(
            r"^\s*(from|import) app[.\s]", text, flags=re.MULTILINE
        ):
            offenders.append(path.name)
    assert offenders == []
