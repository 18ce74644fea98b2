"""`shipyard deploy` and its status, logs, rollback and down: production on Docker Swarm."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from wizard.commands.common import DirOption, JsonOption, can_prompt, show_event
from wizard.errors import BadInput, Cancelled

YesOption = Annotated[
    bool, typer.Option("--yes", "-y", help="Ask nothing (initialise a swarm if needed).")
]

app = typer.Typer(
    name="deploy",
    help="Production on Docker Swarm (DOCKER_HOST picks the engine): a proxy, N API replicas, "
    "PostgreSQL, secrets, migrations once, rolling updates with automatic rollback.",
    no_args_is_help=False,
    invoke_without_command=True,
)


def _asker(yes: bool) -> Callable[[str], bool]:
    def ask(question: str) -> bool:
        if yes:
            return True
        if not can_prompt():
            raise BadInput(
                question.split(". ")[0] + ", and there is nobody to ask.",
                hint="Add --yes to let Shipyard run `docker swarm init`, or point DOCKER_HOST "
                "at an engine that is a swarm manager.",
            )
        return typer.confirm(question, default=False, err=True)

    return ask


@app.callback()
def deploy(
    ctx: typer.Context,
    directory: DirOption = Path("."),
    replicas: Annotated[
        int | None,
        typer.Option("--replicas", "-r", help="API replicas (default 2, or the last deploy's)."),
    ] = None,
    domain: Annotated[
        str | None,
        typer.Option("--domain", help="Serve HTTPS for this domain (automatic certificates)."),
    ] = None,
    http_port: Annotated[
        int | None, typer.Option("--http-port", help="The proxy's HTTP port (default 80).")
    ] = None,
    https_port: Annotated[
        int | None, typer.Option("--https-port", help="The proxy's HTTPS port (default 443).")
    ] = None,
    admin_email: Annotated[
        str | None,
        typer.Option(
            "--admin-email",
            help="Create this admin once (its password is generated into .shipyard/production.env).",
        ),
    ] = None,
    yes: YesOption = False,
    as_json: JsonOption = False,
) -> None:
    """Deploy the project to production on Docker Swarm; running it again changes only what changed."""
    if ctx.invoked_subcommand is not None:
        return
    from wizard.deploy import stack

    try:
        result = stack.deploy(
            directory.resolve(),
            replicas=replicas,
            domain=domain,
            http_port=http_port,
            https_port=https_port,
            admin_email=admin_email,
            confirm_init=_asker(yes),
            on_event=show_event,
        )
    except KeyboardInterrupt:
        raise Cancelled(
            "Cancelled: the deploy stopped part way. What already ran keeps running; "
            "`shipyard deploy` again finishes it, `shipyard deploy status` shows it."
        ) from None
    if as_json:
        typer.echo(json.dumps(result.as_dict(), indent=2))
        return
    for note in result.notes:
        typer.secho(f"Note: {note}", fg="yellow", err=True)
    typer.echo(
        f"Deployed: {result.url} ({result.replicas} API replicas, {result.image})"
        if result.changed
        else f"Nothing changed: {result.url} ({result.replicas} API replicas, {result.image})"
    )


@app.command("status")
def status(directory: DirOption = Path("."), as_json: JsonOption = False) -> None:
    """Each service of the production stack: running tasks, image, rolling updates."""
    from wizard.deploy import stack

    found = stack.status(directory.resolve())
    if as_json:
        typer.echo(json.dumps(found, indent=2))
        return
    if not found["deployed"]:
        typer.echo("Not deployed" + ("" if found["swarm"] else " (the engine is not a swarm)"))
        return
    typer.echo(f"URL: {found['url']}")
    for role, service in found["services"].items():
        if role in ("migrate", "admin"):
            typer.echo(f"{role:8} {service['state']:10} {service['image']}")
            continue
        update = f"  update: {service['update']}" if service["update"] else ""
        typer.echo(
            f"{role:8} {service['running']}/{service['desired']} running  {service['image']}{update}"
        )


@app.command("logs")
def logs(
    service: Annotated[str, typer.Argument(help="api, db, migrate, admin or proxy.")] = "api",
    directory: DirOption = Path("."),
    follow: Annotated[bool, typer.Option("--follow", "-f", help="Keep printing.")] = False,
    tail: Annotated[int, typer.Option("--tail", "-n", help="Lines from the end.")] = 200,
) -> None:
    """The log lines of a service of the production stack (every replica)."""
    from wizard.deploy import stack

    try:
        for line in stack.logs(directory.resolve(), service, tail=tail, follow=follow):
            typer.echo(line)
    except KeyboardInterrupt:
        return


@app.command("rollback")
def rollback(directory: DirOption = Path("."), as_json: JsonOption = False) -> None:
    """Put the API back to the version before the last deploy (the schema stays migrated)."""
    from wizard.deploy import stack

    image = stack.rollback(directory.resolve(), on_event=show_event)
    typer.echo(json.dumps({"image": image}) if as_json else f"Rolled back: {image} serves")


@app.command("down")
def down(
    directory: DirOption = Path("."),
    volumes: Annotated[
        bool, typer.Option("--volumes", help="Also delete the database volume and its data.")
    ] = False,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Do not ask before deleting data.")
    ] = False,
) -> None:
    """Remove the production stack: services, secrets, configs, network (data only with --volumes)."""
    from wizard.deploy import stack

    if volumes and not yes:
        if not can_prompt():
            raise BadInput(
                "`shipyard deploy down --volumes` deletes the production data, and there is "
                "nobody to ask.",
                hint="Add --yes to confirm.",
            )
        if not typer.confirm(
            "Delete the production database and all its data? This cannot be undone.",
            default=False,
            err=True,
        ):
            raise Cancelled("Cancelled: nothing was changed.")
    removed = stack.down(directory.resolve(), volumes=volumes, on_event=show_event)
    typer.echo("removed" if removed else "not deployed")


def register(root: typer.Typer) -> None:
    root.add_typer(app)
