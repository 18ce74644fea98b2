"""`shipyard publish`: put the project in a repository the founder owns."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from wizard.commands.common import DirOption, JsonOption, can_prompt, show_event


def publish(
    github: Annotated[
        str | None,
        typer.Option(
            "--github", metavar="OWNER/NAME", help="Create (or reuse) this GitHub repository."
        ),
    ] = None,
    remote: Annotated[
        str | None,
        typer.Option("--remote", metavar="URL", help="Any git remote: GitLab, Gitea, a path."),
    ] = None,
    public: Annotated[
        bool,
        typer.Option("--public", help="Make a new GitHub repository public (default: private)."),
    ] = False,
    directory: DirOption = Path("."),
    as_json: JsonOption = False,
) -> None:
    """Put the project in a repository you own and push its new commits (never forced).

    With --github, the token comes from GITHUB_TOKEN, GH_TOKEN or `gh auth token`; it is
    sent to GitHub and to git in memory only, never written to disk. Without options,
    pushes to the project's existing origin.
    """
    from wizard.publish import publish as publish_project

    published = publish_project(
        directory,
        github_name=github,
        remote=remote,
        public=public,
        prompts=can_prompt(),
        on_event=show_event,
    )
    if as_json:
        typer.echo(json.dumps(published.as_dict(), indent=2))
    else:
        typer.echo(published.web_url or published.remote_url)


def register(app: typer.Typer) -> None:
    app.command()(publish)
