"""People and roles without curl: `shipyard users`, `grant`, `revoke` and `admin create`."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from wizard.commands.common import DirOption, JsonOption, TargetOption, can_prompt, shown
from wizard.errors import BadInput, ShipyardError
from wizard.paths import as_typed

if TYPE_CHECKING:
    from wizard.people import Admin, People
    from wizard.spec import LaunchSpec

UrlOption = Annotated[
    str | None,
    typer.Option(
        "--url",
        metavar="URL",
        help="Any deployment instead of the project's staging (with SHIPYARD_ADMIN_EMAIL "
        "and SHIPYARD_ADMIN_PASSWORD set to an admin's).",
    ),
]


@dataclass
class Backend:
    """Where the people are, and who signs in to manage them."""

    url: str
    admin: Admin
    spec: LaunchSpec | None
    project: Path | None = None  # set when it is the project's own staging
    target: str | None = None


def _spec_of(project: Path) -> LaunchSpec | None:
    from wizard.spec import load_spec

    spec_file = project / "shipyard.yaml"
    return load_spec(spec_file) if spec_file.is_file() else None


def _backend(directory: Path, url: str | None, target: str | None) -> Backend:
    from wizard import people

    project = directory.resolve()
    if url is not None:
        email, password = os.environ.get(people.ENV_EMAIL), os.environ.get(people.ENV_PASSWORD)
        if os.environ.get(people.ENV_TOKEN) and not (email and password):
            admin = people.Admin("", "", people.ENV_TOKEN)
            return Backend(url, admin, _spec_of(project))
        if not email or not password:
            raise BadInput(
                f"Managing people on {url} needs an admin's sign-in.",
                hint=f"Set {people.ENV_EMAIL} and {people.ENV_PASSWORD} to an admin account's "
                "email and password (on your own staging, `shipyard up` makes one), or "
                f"{people.ENV_TOKEN} to an admin's access token (for an app without password "
                "login).",
            )
        admin = people.Admin(email, password, f"{people.ENV_EMAIL}/{people.ENV_PASSWORD}")
        return Backend(url, admin, _spec_of(project))
    from wizard.staging import default_target, target_module

    chosen = target or default_target(project)
    staging = target_module(chosen).status(project)
    if not staging.running or not staging.api_url:
        raise BadInput(
            f"The project's {chosen} staging is not running, so there is nobody to ask.",
            hint="Start it with `shipyard up`, or pass --url URL for another deployment.",
        )
    admin = people.stored_admin(project, chosen) or people.create_admin(project, chosen)[0]
    return Backend(staging.api_url, admin, _spec_of(project), project, chosen)


def _signed_in(backend: Backend) -> People:
    """The admin API of `backend`, signed in; the project's own staging admin is made again
    when it no longer signs in (its database was reset)."""
    from wizard import people

    methods = backend.spec.login.methods if backend.spec else ["email_password"]
    client = people.People(backend.url, backend.admin)
    if backend.project is None and os.environ.get(people.ENV_TOKEN):
        client.sign_in(os.environ[people.ENV_TOKEN])
        return client
    if "email_password" not in methods:
        # No password login: on the project's own staging the app itself opens the admin's
        # session (`python -m app admin-session`); elsewhere an admin's token is needed.
        if backend.project is None or backend.target is None:
            raise BadInput(
                f"This app has no password login, so Shipyard cannot sign an admin in to "
                f"{backend.url} with an email and password.",
                hint=f"Set {people.ENV_TOKEN} to an admin's access token (sign in as the "
                "admin in your app, by link or code, and copy its access_token), or run "
                "the command in the project folder against its own staging.",
            )
        try:
            token = people.staging_session_token(
                backend.project, backend.target, backend.admin.email
            )
        except ShipyardError:
            # Its staging data was reset since: make the staging admin again, once.
            people.forget_admin(backend.project, backend.target)
            backend.admin = people.create_admin(backend.project, backend.target)[0]
            token = people.staging_session_token(
                backend.project, backend.target, backend.admin.email
            )
        email = backend.admin.email
        if token is None and "magic_link" in methods:  # rendered before admin-session existed
            token = people.magic_link_token(backend.project, backend.target, backend.url, email)
        if token is None:
            raise ShipyardError(
                "This project's app has no `python -m app admin-session` yet, and without "
                "password login that is how Shipyard signs its admin in.",
                hint="Render the project again with this Shipyard: `shipyard update`.",
            )
        client.sign_in(token)
        return client
    try:
        client.sign_in()
    except people.SignInFailed:
        if backend.project is None or backend.target is None:
            raise
        people.forget_admin(backend.project, backend.target)
        backend.admin = people.create_admin(backend.project, backend.target)[0]
        client = people.People(backend.url, backend.admin)
        client.sign_in()
    return client


def users(
    directory: DirOption = Path("."),
    url: UrlOption = None,
    target: TargetOption = None,
    as_json: JsonOption = False,
) -> None:
    """List everyone with an account on staging (or --url), with their roles."""
    backend = _backend(directory, url, target)
    with _signed_in(backend) as client:
        found = client.users()
    if as_json:
        typer.echo(json.dumps(found, indent=2))
        return
    rows = [
        (
            str(user.get("id", "")),
            str(user.get("email") or user.get("phone") or ""),
            ", ".join(user.get("roles") or []) or "-",
            "yes" if user.get("email_verified") else "no",
        )
        for user in found
    ]
    header = ("ID", "EMAIL OR PHONE", "ROLES", "VERIFIED")
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        typer.echo(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )
    counted = "1 person" if len(rows) == 1 else f"{len(rows)} people"
    typer.secho(f"{counted} on {backend.url}", err=True, dim=True)


def _change_role(
    directory: Path, url: str | None, target: str | None, email: str, role: str, present: bool
) -> None:
    from wizard import people

    backend = _backend(directory, url, target)
    people.check_role(role, backend.spec.all_roles if backend.spec else None)
    with _signed_in(backend) as client:
        person = client.person(email)
        wanted = people.with_role(person, role, present)
        if wanted == sorted(person.get("roles") or []):
            state = "already has" if present else "does not have"
            typer.secho(f"{email} {state} the role {role}; nothing changed.", err=True)
            return
        changed = client.set_roles(person, wanted)
    roles = ", ".join(changed.get("roles") or [])
    typer.echo(f"{email} now has the roles: {roles}" if roles else f"{email} now has no roles")


EmailArgument = Annotated[
    str,
    typer.Argument(
        help="The person's account email, or their phone number (+44...) where people sign "
        "in by phone."
    ),
]
RoleArgument = Annotated[str, typer.Argument(help="A role from shipyard.yaml, or admin.")]


def grant(
    email: EmailArgument,
    role: RoleArgument,
    directory: DirOption = Path("."),
    url: UrlOption = None,
    target: TargetOption = None,
) -> None:
    """Give a person a role (they keep the roles they had)."""
    _change_role(directory, url, target, email, role, present=True)


def revoke(
    email: EmailArgument,
    role: RoleArgument,
    directory: DirOption = Path("."),
    url: UrlOption = None,
    target: TargetOption = None,
) -> None:
    """Take a role away from a person (their other roles stay)."""
    _change_role(directory, url, target, email, role, present=False)


admin_app = typer.Typer(help="The admins of the project's staging.", no_args_is_help=True)


@admin_app.command("create")
def admin_create(
    email: Annotated[
        str | None,
        typer.Option("--email", help="A new admin's email. Default: the staging admin."),
    ] = None,
    password: Annotated[
        str | None,
        typer.Option("--password", help="Their password (8-128 characters); asked if left out."),
    ] = None,
    directory: DirOption = Path("."),
    target: TargetOption = None,
) -> None:
    """Make an admin on the project's staging (`python -m app create-admin` inside it)."""
    from wizard import people
    from wizard.staging import default_target, target_module

    project = directory.resolve()
    chosen = target or default_target(project)
    if not target_module(chosen).status(project).running:
        raise BadInput(
            f"The project's {chosen} staging is not running.",
            hint="Start it with `shipyard up` (which makes the staging admin itself).",
        )
    if email is None:
        stored = people.stored_admin(project, chosen)
        if stored is not None:
            typer.secho(
                f"The staging admin is {stored.email}; its password is in "
                f"{shown(Path(stored.source))}.",
                err=True,
            )
            typer.echo(stored.email)
            return
    elif password is None:
        if not can_prompt():
            raise BadInput(
                "A new admin needs a password, and there is nobody to ask.",
                hint="Add --password (8 to 128 characters).",
            )
        password = typer.prompt(
            "Password for the new admin", hide_input=True, confirmation_prompt=True, err=True
        )
    admin, said = people.create_admin(project, chosen, email, password)
    if said:
        typer.secho(said, err=True)
    if email is None:
        typer.secho(f"Its password is in {shown(Path(admin.source))}.", err=True)
    typer.echo(admin.email)


def say_staging_admin(project: Path, target: str) -> str | None:
    """For `up`: make the staging admin once, and say where its credentials are."""
    from wizard import people
    from wizard.errors import ShipyardError

    stored = people.stored_admin(project, target)
    if stored is None:
        try:
            stored = people.create_admin(project, target)[0]
        except ShipyardError as exc:
            typer.secho(
                as_typed(f"Warning: no staging admin was made: {exc.message}"),
                fg="yellow",
                err=True,
            )
            return None
    spec = _spec_of(project)
    if spec is not None and "email_password" not in spec.login.methods:
        # Its password signs in nowhere: the app has no password login.
        return as_typed(
            f"{stored.email} (no password login in this app: `shipyard users` and `grant` "
            "sign it in inside staging)"
        )
    return f"{stored.email} (password in {shown(Path(stored.source))})"


def register(app: typer.Typer) -> None:
    app.command()(users)
    app.command()(grant)
    app.command()(revoke)
    app.add_typer(admin_app, name="admin")
