"""The Docker tests' engine: a client that answers (or a skip, a failure in CI), and clean-up."""

from __future__ import annotations

import contextlib
import os
from typing import Any

import pytest

from wizard.staging.plan import LABEL_APP

CACHE_ANCHOR = "shipyard-test-cache:latest"


def engine_client() -> Any:
    """A Docker client whose engine answers; skips the test without one, fails it in CI."""
    import docker

    try:
        client = docker.from_env(timeout=30)
        client.ping()
    except Exception as exc:  # any way of not answering
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the Docker tests, but no engine answers: {exc}")
        pytest.skip(f"no Docker engine answers here: {exc}")
    return client


def api_image(app: str) -> str:
    return f"shipyard-{app}-api:staging"


def purge(client: Any, app: str, *, keep_cache: bool = False) -> None:
    """Remove whatever a test left of `app`: containers, networks, volumes and images.

    With keep_cache, the app's image stays as the one CACHE_ANCHOR, so that the next session
    finds its dependency layers instead of reinstalling them (and nothing else accumulates).
    """
    import docker.errors

    label = {"label": f"{LABEL_APP}={app}"}
    for container in client.containers.list(all=True, filters=label):
        container.remove(force=True)
    for network in client.networks.list(filters=label):
        network.remove()
    for volume in client.volumes.list(filters=label):
        volume.remove(force=True)
    images = client.images.list(filters=label)
    if keep_cache and images:
        try:
            previous = client.images.get(CACHE_ANCHOR).id
        except docker.errors.ImageNotFound:
            previous = None
        anchor = client.images.get(api_image(app))
        anchor.tag(CACHE_ANCHOR)
        if previous and previous != anchor.id:
            with contextlib.suppress(docker.errors.APIError):
                client.images.remove(previous)
    for image in images:
        for tag in image.tags:
            if tag != CACHE_ANCHOR:
                with contextlib.suppress(docker.errors.APIError):
                    client.images.remove(tag)
        if not keep_cache or CACHE_ANCHOR not in client.images.get(image.id).tags:
            with contextlib.suppress(docker.errors.APIError):
                client.images.remove(image.id, force=True)
