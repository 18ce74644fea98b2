"""Building the API image and fetching base images, reporting progress as events."""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from wizard.errors import ShipyardError
from wizard.events import Event, EventSink
from wizard.staging import engine

if TYPE_CHECKING:
    from pathlib import Path

    import docker


class ImageTarget(Protocol):
    """What building the API image needs: staging's Plan, or a production deploy's target."""

    @property
    def project(self) -> Path: ...
    @property
    def image(self) -> str: ...
    @property
    def python_image(self) -> str: ...
    def labels(self, service: str | None = None) -> dict[str, str]: ...


_STEP = re.compile(r"^Step (\d+)/(\d+) : (.*)$")
OUTPUT_LINES_SHOWN = 25
BUILD_SILENCE_TIMEOUT = 1800  # seconds a build step may stay silent
# The legacy builder's bookkeeping lines, which say nothing about the founder's project.
_NOISE = re.compile(r"^( ---> |Removing intermediate container |Successfully (built|tagged) )")


@dataclass(frozen=True)
class BuildProgress(Event):
    """A build moved on to its next step; a terminal front end can draw a progress bar."""

    current: int = 0
    total: int = 0


@dataclass(frozen=True)
class BuildOutput(Event):
    """One line the current build step printed (pip's output, for instance)."""


def ensure_image(client: docker.DockerClient, image: str, emit: EventSink, what: str) -> None:
    """Make sure `image` is present locally, pulling it when it is not."""
    from docker.errors import ImageNotFound

    with engine.translate(f"look up the {what} image {image}"):
        try:
            client.images.get(image)
            return
        except ImageNotFound:
            pass
    emit(Event("pull", f"Downloading the {what} image {image}"))
    repository, _, tag = image.rpartition(":") if ":" in image.split("/")[-1] else (image, "", "")
    hint = (
        f"Check that the machine can reach the registry that serves {image}. "
        f"Behind a mirror or offline, set staging.images in shipyard.yaml (or "
        f"SHIPYARD_{what.upper()}_IMAGE) to an image you can pull or already have. "
        + engine.LOCAL_INSTEAD
    )
    unavailable = engine.DockerUnavailable
    with engine.translate(f"download the {what} image {image}", hint=hint, kind=unavailable):
        for message in client.api.pull(repository, tag=tag or "latest", stream=True, decode=True):
            if "error" in message:
                raise unavailable(
                    f"Could not download the {what} image {image}: {message['error']}", hint=hint
                )


def build_api_image(client: docker.DockerClient, plan: ImageTarget, emit: EventSink) -> str:
    """Build the project's Dockerfile into the API image, streaming progress; returns the image id."""
    emit(Event("build", f"Building the API image from {plan.project / 'Dockerfile'}"))
    step = ""
    output: deque[str] = deque(maxlen=OUTPUT_LINES_SHOWN)
    image_id = ""
    with engine.translate("build the API image"):
        stream = client.api.build(
            path=str(plan.project),
            dockerfile="Dockerfile",
            tag=plan.image,
            buildargs={"PYTHON_IMAGE": plan.python_image},
            labels=plan.labels("api"),
            rm=True,
            forcerm=True,
            pull=False,
            decode=True,
            # A step may compile for minutes without printing; the SDK's usual timeout would
            # mistake that for a dead engine.
            timeout=BUILD_SILENCE_TIMEOUT,
        )
        for message in stream:
            if "error" in message:
                raise _build_failed(plan, step, output, _error_text(message))
            image_id = _aux_id(message) or image_id
            for line in str(message.get("stream", "")).splitlines():
                line = line.rstrip()
                if not line:
                    continue
                found = _STEP.match(line)
                if found:
                    step = line
                    output.clear()
                    emit(
                        BuildProgress(
                            "build-step",
                            f"Step {found[1]}/{found[2]}: {_short(found[3])}",
                            int(found[1]),
                            int(found[2]),
                        )
                    )
                elif not _NOISE.match(line):
                    output.append(line)
                    emit(BuildOutput("build-output", line))
        if not image_id:
            image_id = str(client.images.get(plan.image).id)
    emit(
        Event(
            "build", f"Built the API image {plan.image} ({image_id.removeprefix('sha256:')[:12]})"
        )
    )
    return image_id


def _short(text: str, width: int = 90) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 3] + "..."


def _aux_id(message: dict[str, Any]) -> str:
    aux = message.get("aux")
    if isinstance(aux, dict) and isinstance(aux.get("ID"), str):
        return str(aux["ID"])
    return ""


def _error_text(message: dict[str, Any]) -> str:
    detail = message.get("errorDetail")
    if isinstance(detail, dict) and detail.get("message"):
        return str(detail["message"]).strip()
    return str(message.get("error", "unknown error")).strip()


def _build_failed(plan: ImageTarget, step: str, output: deque[str], error: str) -> ShipyardError:
    lines = [f"The API image did not build: {error}"]
    if step:
        lines.append(f"The failing step: {step}")
    if output:
        lines.append("Its last lines of output:")
        lines.extend(f"  {line}" for line in output)
    hint = f"Fix {plan.project / 'Dockerfile'} (or what the step above installs), then run `shipyard up` again."
    if "pip" in step.lower() or any("pip" in line.lower() for line in output):
        hint += " pip needs to reach PyPI (or your package index) from inside Docker."
    if "pull access denied" in error or ("not found" in error and "manifest" in error):
        hint = (
            f"The base image {plan.python_image} is not available. Set staging.images.python in "
            "shipyard.yaml (or SHIPYARD_PYTHON_IMAGE) to an image you can pull or already have. "
            + engine.LOCAL_INSTEAD
        )
        return engine.DockerUnavailable("\n".join(lines), hint=hint)
    return ShipyardError("\n".join(lines), hint=hint)
