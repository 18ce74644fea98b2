"""The real `shipyard new` in a real terminal (tmux): from the first screen to a committed project."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from git import Repo

from wizard.spec import load_spec

SHIPYARD = str(Path(sys.executable).with_name("shipyard"))
pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")


class Terminal:
    """An 80×24 tmux window on its own server, running one command."""

    def __init__(self, cwd: Path, command: str, env: dict[str, str]) -> None:
        self.socket = f"shipyard-test-{os.getpid()}-{time.monotonic_ns()}"
        self.env = env
        self._tmux(
            "new-session",
            "-d",
            "-s",
            "t",
            "-x",
            "80",
            "-y",
            "24",
            "-c",
            str(cwd),
            f"{command}; echo EXIT=$?; sleep 60",
        )

    def _tmux(self, *args: str) -> str:
        result = subprocess.run(
            ["tmux", "-L", self.socket, *args],
            env=self.env,
            text=True,
            capture_output=True,
            timeout=30,
            check=True,
        )
        return result.stdout

    def screen(self) -> str:
        return self._tmux("capture-pane", "-p", "-t", "t")

    def wait_for(self, text: str, seconds: float = 30.0) -> str:
        deadline = time.monotonic() + seconds
        while True:
            screen = self.screen()
            if text in screen:
                # A person reads before typing; keys sent while a page is still being
                # swapped in would go to the page that is leaving.
                time.sleep(0.5)
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} did not appear; the screen shows:\n{screen}")
            time.sleep(0.1)

    def keys(self, *keys: str, pace: float = 0.3) -> None:
        """Press keys at a person's pace (or all at once with pace=0)."""
        for key in keys:
            self._tmux("send-keys", "-t", "t", key)
            time.sleep(pace)

    def type(self, text: str) -> None:
        self._tmux("send-keys", "-t", "t", "-l", text)

    def close(self) -> None:
        subprocess.run(
            ["tmux", "-L", self.socket, "kill-server"],
            env=self.env,
            capture_output=True,
            timeout=30,
            check=False,
        )
        folder = Path(self.env.get("TMUX_TMPDIR") or "/tmp") / f"tmux-{os.getuid()}"
        (folder / self.socket).unlink(missing_ok=True)


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[Terminal]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("TMUX") and key != "CI"
    }
    env["TERM"] = "xterm-256color"
    term = Terminal(tmp_path, f"{SHIPYARD} new notes", env)
    try:
        yield term
    finally:
        term.close()


def test_shipyard_new_in_a_terminal_creates_a_committed_project(
    terminal: Terminal, tmp_path: Path
) -> None:
    started = time.monotonic()
    terminal.wait_for("Press Enter to start")
    first_screen = time.monotonic() - started
    terminal.keys("Enter")
    terminal.wait_for("App basics")
    terminal.type("Notes")
    # Typed ahead, as a quick typist would: on to the short name (suggested: notes),
    # on to roles, none, next step.
    terminal.keys("Enter", "Enter", "Enter", pace=0.0)
    terminal.wait_for("Objects and fields")
    terminal.keys("a")
    terminal.wait_for("Add an object")
    terminal.type("Note")
    terminal.keys("Enter")
    terminal.wait_for("Note (0 fields)")
    terminal.keys("f")
    terminal.wait_for("Note: add a field")
    terminal.type("title")
    terminal.keys("Enter")
    terminal.wait_for("Note (1 field)")
    for heading in (
        "Ownership",
        "Login methods",
        "Permissions",
        "Frontend and CORS",
        "Staging",
        "Monitoring and alerts",
        "review your answers",
    ):
        terminal.keys("C-n")
        terminal.wait_for(heading)
    terminal.keys("C-n")
    terminal.wait_for("Notes is ready", seconds=180)
    terminal.keys("Enter")
    screen = terminal.wait_for("EXIT=", seconds=30)
    assert "EXIT=0" in screen, screen
    assert "Traceback" not in screen

    project = tmp_path / "notes"
    spec = load_spec(project / "shipyard.yaml")
    assert list(spec.objects) == ["Note"] and list(spec.objects["Note"].fields) == ["title"]
    assert not Repo(project).is_dirty(untracked_files=True)
    assert not list(tmp_path.glob(".*.shipyard-draft.yaml"))
    # Generous under a loaded CI machine; the wizard itself aims for well under a second.
    assert first_screen < 5.0, f"the first screen took {first_screen:.1f}s"


def test_quitting_in_a_terminal_says_what_is_on_disk(terminal: Terminal, tmp_path: Path) -> None:
    terminal.wait_for("Press Enter to start")
    terminal.keys("Enter")
    terminal.wait_for("App basics")
    terminal.type("Notes")
    terminal.keys("C-n")
    terminal.wait_for("Objects and fields")
    terminal.keys("C-q")
    terminal.wait_for("Quit Shipyard?")
    terminal.keys("y")
    screen = terminal.wait_for("EXIT=")
    assert "EXIT=130" in screen
    assert "Cancelled: nothing was written into notes" in screen.replace("\n", " ")
    assert "Traceback" not in screen
    assert not (tmp_path / "notes").exists()
    assert (tmp_path / ".notes.shipyard-draft.yaml").exists()
