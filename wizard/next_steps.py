"""What to do once a project exists: the same steps after the wizard, --plain and --yes."""

from __future__ import annotations

import shlex

from wizard.paths import shipyard_command
from wizard.spec import LaunchSpec


def next_steps(spec: LaunchSpec, where: str, alerts_to: str | None = None) -> list[tuple[str, str]]:
    """(what to type or do, why) for each step; every command works as typed in this shell.

    `alerts_to` is where alerts already go (the service, as "slack://..."), when the founder
    answered the wizard's monitoring question.
    """
    shipyard = shipyard_command()
    up = f"{shipyard} up" + (" --target local" if spec.staging.target == "local" else "")
    person = "PHONE" if spec.login.methods == ["phone_otp"] else "EMAIL"  # how people sign in
    return [
        (f"cd {shlex.quote(where)}", ""),
        (up, "starts staging, prints its URLs and admin"),
        ("open the API address with /docs added to try every endpoint", ""),
        (f"{shipyard} connect FOLDER", "your frontend's folder gets the typed client"),
        (f"{shipyard} connect --prompt", "the text to paste into Lovable or v0"),
        (f"{shipyard} check", "the launch checklist, against the running API"),
        *(
            [
                (
                    f"{shipyard} grant {person} {spec.roles[0]}",
                    "gives a person a role (users lists them)",
                )
            ]
            if spec.roles
            else []
        ),
        (
            (f"{shipyard} alert test", f"sends a test alert to {alerts_to} once staging runs")
            if alerts_to
            else (f"{shipyard} alert set URL", "where alerts go: your email or a chat webhook")
        ),
        (f"{shipyard} publish", "puts the project on GitHub"),
    ]


def next_steps_text(spec: LaunchSpec, where: str, alerts_to: str | None = None) -> str:
    """'Next steps:' and one numbered line per step, the reasons lined up."""
    steps = next_steps(spec, where, alerts_to)
    width = max(len(what) for what, why in steps if why)
    lines = ["Next steps:"]
    for number, (what, why) in enumerate(steps, 1):
        lines.append(f"  {number}. {what.ljust(width)}  {why}".rstrip())
    return "\n".join(lines)
