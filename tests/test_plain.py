"""`shipyard new --plain` in a real pseudo-terminal: questionary prompts build the studio example."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pexpect
import pytest
from git import Repo
from tui_driver import STUDIO_RULES

from wizard import answers, envfile, wording
from wizard.spec import ACTIONS, load_spec
from wizard.spec.rules import Term

DOWN, ENTER, SPACE = "\x1b[B", "\r", " "
SHIPYARD = str(Path(sys.executable).with_name("shipyard"))
FIELD_TYPES = list(wording.FIELD_TYPES)
PLAIN_ALERT_URL = "json://alerts.example.com/hooks/s3cr3t-hook-token"


def _spawn(args: list[str], cwd: Path) -> pexpect.spawn:
    env = {key: value for key, value in os.environ.items() if key != "CI"}
    env.update(PROMPT_TOOLKIT_NO_CPR="1", TERM="xterm", NO_COLOR="1")
    # No Docker engine answers here, whatever this machine has: the staging step says so.
    env["DOCKER_HOST"] = f"unix://{cwd}/no-docker.sock"
    child = pexpect.spawn(
        SHIPYARD, args, cwd=str(cwd), env=env, encoding="utf-8", timeout=30, dimensions=(40, 120)
    )
    return child


class Founder:
    """Answers questionary prompts the way a person at the keyboard would."""

    def __init__(self, child: pexpect.spawn) -> None:
        self.child = child

    def text(self, prompt: str, answer: str) -> None:
        self.child.expect(prompt)
        self.child.sendline(answer)

    def confirm(self, prompt: str, yes: bool) -> None:
        self.child.expect(prompt)
        self.child.send(("y" if yes else "n") + ENTER)

    def select(self, prompt: str, downs: int = 0) -> None:
        self.child.expect(prompt)
        self.child.send(DOWN * downs + ENTER)

    def ticks(self, prompt: str, flips: list[bool]) -> None:
        self.child.expect(prompt)
        self.child.send("".join((SPACE if flip else "") + DOWN for flip in flips) + ENTER)

    def field(
        self,
        name: str,
        kind: str = "string",
        *,
        to: int | None = None,
        required: bool = False,
        **options: str,
    ) -> None:
        self.text("field name", name)
        self.select(f"What does {name} hold", FIELD_TYPES.index(kind))
        if to is not None:
            self.select(f"Which object does {name} link to", to)
        self.confirm(f"Must {name} always be filled in", required)
        if kind in ("string", "text", "email"):
            self.text("Longest", options.get("max_length", ""))
        if kind in ("int", "float"):
            self.text("Smallest", options.get("min", ""))
            self.text("Largest", options.get("max", ""))
        if kind not in ("date", "datetime", "ref"):
            self.text(f"Default {name}", options.get("default", ""))


def _answer_studio(founder: Founder) -> None:
    example = load_spec(Path(__file__).parent.parent / "examples" / "studio-booking.yaml")
    founder.text("What is your app called", "Studio Booking")
    founder.text("Short name", "")
    founder.text("extra powers", "staff")
    for name in ("Studio", "Class", "Booking", ""):
        founder.text("Object name", name)
    founder.field("name", required=True, max_length="120")
    founder.field("city")
    founder.text("field name", "")
    founder.field("studio", "ref", to=0, required=True)
    founder.field("starts_at", "datetime")
    founder.field("capacity", "int", min="1", default="12")
    founder.text("field name", "")
    founder.field("class", "ref", to=1, required=True)
    founder.text("field name", "")
    founder.select("Who owns a Studio")
    founder.select("Who owns a Class", 1)
    founder.select("Who owns a Booking")
    founder.ticks("How will people sign in", [False, True, False])
    for object_name, rules in STUDIO_RULES.items():
        obj = example.objects[object_name]
        defaults = answers.default_permissions(obj)
        choices = [str(term) for term in answers.term_choices(example, object_name)]
        for action in ACTIONS:
            current = {str(term) for term in defaults.rule(action).terms}
            flips = [(term in current) != (term in rules[action]) for term in choices]
            founder.ticks("Who may", flips)
    # The default address with a slash typed after it, as an address copied from a browser
    # bar ends: kept as browsers send it, and said so.
    founder.text("Where does your frontend run", "/")
    founder.child.expect("Saved as http://localhost:5173, the way browsers send it.")
    founder.select("Where should staging run")
    founder.confirm("Run staging as a local process with SQLite instead", False)
    # Monitoring: a destination that is not an apprise URL is refused as typed, never repeated.
    founder.child.expect("cost nothing")
    founder.text("Where should alerts go", "hooks.example.com/s3cr3t")
    founder.child.expect("is not an apprise URL")
    founder.child.sendcontrol("u")  # clears the line, as a person would
    founder.child.sendline(PLAIN_ALERT_URL)
    founder.child.expect("free plan")
    founder.text("Error-monitoring DSN", "")
    founder.child.expect("Alerts go to json://...")
    founder.select("What next")


@pytest.mark.slow
def test_plain_prompts_build_the_studio_example(tmp_path: Path, studio_spec_file: Path) -> None:
    child = _spawn(["new", "--plain", "studio-booking"], tmp_path)
    founder = Founder(child)
    _answer_studio(founder)
    child.expect(pexpect.EOF, timeout=120)
    child.close()
    output = child.before
    assert child.exitstatus == 0, output[-2000:]
    dest = tmp_path / "studio-booking"
    assert str(dest) in output
    assert load_spec(dest / "shipyard.yaml") == load_spec(studio_spec_file)
    assert not Repo(dest).is_dirty(untracked_files=True)
    assert not list(tmp_path.glob(".*.shipyard-draft.yaml")), (
        "the draft goes once the project exists"
    )
    # Where alerts go is in the git-ignored .env, not in shipyard.yaml or the history.
    assert envfile.read_env(dest)["ALERT_URL"] == PLAIN_ALERT_URL
    assert not envfile.read_env(dest).get("SENTRY_DSN")
    assert not Repo(dest).git.grep("-I", "s3cr3t-hook-token", "HEAD", with_exceptions=False)
    assert "alert test" in output.split("Next steps:")[1]
    assert "Traceback" not in output
    # What to do next, after the path: the commands to start staging and check it.
    assert "Next steps:" in output
    assert " up " in output.split("Next steps:")[1]
    assert "connect FOLDER" in output.split("Next steps:")[1]


def test_plain_yes_no_waits_for_enter(tmp_path: Path) -> None:
    child = _spawn(["new", "--plain", "studio-booking"], tmp_path)
    founder = Founder(child)
    founder.text("What is your app called", "Studio Booking")
    founder.text("Short name", "")
    founder.text("extra powers", "")
    founder.text("Object name", "Studio")
    founder.text("Object name", "")
    founder.text("field name", "name")
    founder.select("What does name hold", 0)
    child.expect("Must name always be filled in")
    child.send("y")  # a habit: "y", then Enter
    with pytest.raises(pexpect.TIMEOUT):
        child.expect("Longest", timeout=1.5)
    child.send(ENTER)
    child.expect("Longest")
    child.sendcontrol("c")
    child.expect(pexpect.EOF)
    child.close()


def test_plain_ctrl_c_says_what_is_on_disk_and_resumes(tmp_path: Path) -> None:
    child = _spawn(["new", "--plain", "studio-booking"], tmp_path)
    founder = Founder(child)
    founder.text("What is your app called", "Studio Booking")
    founder.text("Short name", "")
    founder.text("extra powers", "staff")
    child.expect("Object name")
    child.sendcontrol("c")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 130
    assert "nothing was written" in child.before
    assert "shipyard-draft.yaml" in child.before
    assert "Traceback" not in child.before
    assert not (tmp_path / "studio-booking").exists()
    draft = tmp_path / ".studio-booking.shipyard-draft.yaml"
    assert draft.exists()

    again = _spawn(["new", "--plain", "studio-booking"], tmp_path)
    Founder(again).confirm("Resume the answers for Studio Booking", True)
    again.expect("Step 2 of 8")
    again.expect("Object name")
    again.sendcontrol("c")
    again.expect(pexpect.EOF)
    again.close()
    assert draft.exists()


def test_plain_is_refused_without_a_terminal(tmp_path: Path) -> None:
    import subprocess

    result = subprocess.run(
        [SHIPYARD, "new", "--plain", "x"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "--spec" in result.stderr
    assert not (tmp_path / "x").exists()


def test_term_strings_match_the_rule_language() -> None:
    # The flips above compare terms by their text; keep that in step with the spec.
    assert str(Term("owner_of", "class")) == "owner_of(class)"
    assert shutil.which(SHIPYARD) or Path(SHIPYARD).exists()
