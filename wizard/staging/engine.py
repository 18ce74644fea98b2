"""The one place that talks to the Docker SDK's connection layer and turns its errors into ours."""

from __future__ import annotations

import os
import platform
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from wizard.errors import ShipyardError

if TYPE_CHECKING:
    import docker

    from wizard.spec import LaunchSpec

# Seconds a single Docker API call may take before we call the engine stuck (builds stream,
# so this bounds the gap between two messages, not the whole build).
API_TIMEOUT = 120


LOCAL_INSTEAD = (
    "No Docker here, or no registry to pull from? `shipyard up --target local` runs the API "
    "as a local process on SQLite instead."
)


class DockerUnavailable(ShipyardError):
    """Docker staging cannot run on this machine: no engine answers, or an image cannot be had.

    The one kind of failure where running the API as a local process is the way on."""


def start_hint() -> str:
    """How to get an engine running on this kind of machine, and the fallback."""
    system = platform.system()
    if system in ("Darwin", "Windows"):
        how = "Start Docker Desktop and wait until it says it is running"
    else:
        how = "Start Docker (`sudo systemctl start docker`, or open Docker Desktop)"
    return (
        f"{how}, then run `shipyard up` again. No Docker on this machine? "
        "`shipyard up --target local` runs the API as a local process on SQLite instead."
    )


def docker_problem(spec: LaunchSpec) -> str | None:
    """Why `spec`'s Docker staging could not start on this machine, or None (see readiness)."""
    from wizard.staging.plan import ENV_POSTGRES_IMAGE, ENV_PYTHON_IMAGE

    images = [
        os.environ.get(ENV_PYTHON_IMAGE) or spec.staging.images.python,
        os.environ.get(ENV_POSTGRES_IMAGE) or spec.staging.images.postgres,
    ]
    return readiness(images)


def readiness(images: list[str], timeout: float = 10) -> str | None:
    """Why Docker staging could not start here, in one sentence, or None when an engine answers
    and every image is present or can be pulled (asked of its registry, nothing downloaded)."""
    import docker
    from docker.errors import DockerException

    try:
        client = docker.from_env(timeout=timeout)
        client.ping()
    except (DockerException, OSError) as exc:
        return f"no Docker engine answers on this machine ({_first_line(exc)})"
    try:
        for image in images:
            try:
                client.images.get(image)
                continue
            except DockerException:
                pass
            try:
                client.api.inspect_distribution(image)
            except (DockerException, OSError) as exc:
                return f"Docker cannot download the image {image} ({_explanation(exc)})"
    finally:
        client.close()
    return None


def connect() -> docker.DockerClient:
    """A client for the engine DOCKER_HOST (or the default socket) points at, checked with a ping."""
    import docker
    from docker.errors import DockerException

    where = os.environ.get("DOCKER_HOST") or "the default Docker socket"
    try:
        client = docker.from_env(timeout=API_TIMEOUT)
        client.ping()
    except (DockerException, OSError) as exc:
        raise DockerUnavailable(
            f"Shipyard cannot reach the Docker engine at {where} ({_first_line(exc)}).",
            hint=start_hint(),
        ) from None
    return client


@contextmanager
def translate(
    action: str, hint: str | None = None, kind: type[ShipyardError] = ShipyardError
) -> Iterator[None]:
    """Run SDK calls, turning their exceptions into a ShipyardError (or `kind`) that says we
    could not `action`."""
    import requests
    from docker.errors import APIError, DockerException, ImageNotFound, NotFound

    try:
        yield
    except ShipyardError:
        raise
    except ImageNotFound as exc:
        raise kind(
            f"Could not {action}: Docker has no image {_explanation(exc)}.",
            hint=hint or "Check the image names under staging.images in shipyard.yaml.",
        ) from None
    except NotFound as exc:
        raise ShipyardError(
            f"Could not {action}: {_explanation(exc)}.",
            hint=hint or "Something removed it while Shipyard was working; run the command again.",
        ) from None
    except APIError as exc:
        explanation = _explanation(exc)
        raise kind(
            f"Could not {action}: Docker said: {explanation}.",
            hint=hint or _hint_for(explanation),
        ) from None
    except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
        raise DockerUnavailable(
            f"Could not {action}: the Docker engine stopped answering ({_first_line(exc)}).",
            hint=start_hint(),
        ) from None
    except DockerException as exc:
        raise kind(f"Could not {action}: {_first_line(exc)}.", hint=hint) from None


def is_port_conflict(exc: BaseException) -> bool:
    """True when Docker refused to start a container because a host port was taken."""
    text = str(exc).lower()
    return "port is already allocated" in text or "address already in use" in text


def _hint_for(explanation: str) -> str:
    text = explanation.lower()
    if "no space left" in text:
        return "The disk is full: free some space (`docker system prune` removes unused images)."
    if is_port_conflict(Exception(text)):
        return (
            "Another program took the port meanwhile; run `shipyard up` again to pick a free one."
        )
    if "permission denied" in text:
        return "Your user may not use Docker: add it to the docker group, or use Docker Desktop."
    return (
        "Run the command again; if it keeps failing, `docker info` shows what the engine reports."
    )


def _explanation(exc: BaseException) -> str:
    explanation = getattr(exc, "explanation", None)
    text = explanation if isinstance(explanation, str) and explanation else str(exc)
    return _first_line(text).rstrip(".")


def _first_line(exc: object) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
