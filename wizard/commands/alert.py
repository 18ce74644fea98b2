"""`shipyard alert set URL` and `shipyard alert test`: where the backend's alerts go."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from wizard.commands.common import DirOption, JsonOption, show_event, shown
from wizard.errors import ShipyardError

alert_app = typer.Typer(
    name="alert",
    help="Where the backend's alerts go (an apprise URL in .env), and a test message.",
    no_args_is_help=True,
)


@alert_app.command("set")
def set_destination(
    url: Annotated[
        str,
        typer.Argument(
            help="An apprise URL: mailto://user:app-password@gmail.com, slack://A/B/C, "
            "discord://ID/TOKEN, tgram://BOT/CHAT, json://host:port/path, ..."
        ),
    ],
    directory: DirOption = Path("."),
    restart: Annotated[
        bool,
        typer.Option(
            "--restart/--no-restart", help="Restart a running staging so that it uses it."
        ),
    ] = True,
    production: Annotated[
        bool,
        typer.Option(
            "--production",
            help="Set it for `shipyard deploy` (.shipyard/production.env) instead of staging.",
        ),
    ] = False,
) -> None:
    """Store where alerts go as ALERT_URL in the project's git-ignored .env."""
    from wizard import monitoring
    from wizard.staging import default_target, target_module

    project = directory.resolve()
    path = monitoring.set_alert_url(project, url, production=production)
    scheme = url.split("://", 1)[0]
    typer.echo(f"Alerts go to {scheme}://... (ALERT_URL in {shown(path)}).", err=True)
    if production:
        typer.echo("The next `shipyard deploy` gives it to production.", err=True)
        return
    module = target_module(default_target(project))
    running = module.status(project).running
    if running and restart:
        typer.echo("Restarting staging with the new setting (its data stays).", err=True)
        if module.TARGET == "local":
            module.down(project, on_event=show_event)
        module.up(project, on_event=show_event)
    elif running:
        typer.echo("Staging keeps the old setting until `shipyard up` restarts it.", err=True)
    typer.echo("Next: `shipyard alert test` sends a test message.", err=True)


@alert_app.command("test")
def send_test(directory: DirOption = Path("."), as_json: JsonOption = False) -> None:
    """Send a test alert through the running staging's own settings."""
    from wizard import monitoring

    outcome = monitoring.alert_test(directory.resolve())
    if as_json:
        typer.echo(json.dumps(outcome))
    if not outcome.get("delivered"):
        raise ShipyardError(
            f"The test alert was not delivered: {outcome.get('problem') or 'no reason given'}.",
            hint="Check the URL (`shipyard alert set URL`); for email, an app password is "
            "usually needed. `shipyard logs api` shows what the app said.",
        )
    if not as_json:
        typer.echo(f"Delivered a test alert to {outcome.get('destination') or 'ALERT_URL'}.")


def register(app: typer.Typer) -> None:
    app.add_typer(alert_app)
