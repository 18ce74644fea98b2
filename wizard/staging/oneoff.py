"""Run the project's current code once in its Docker staging image, with no network and no files kept.

The launch check uses it to run the app's own code (migrations, settings, routes) when the
project has no .venv: the image brings the dependencies, the code is copied from the project
folder as it is now, so an edit made after `shipyard up` is what gets checked.
"""

from __future__ import annotations

import io
import tarfile
import time
from pathlib import Path

from wizard.errors import ShipyardError
from wizard.staging import engine, services
from wizard.staging.plan import LABEL_APP, LABEL_PROJECT, LABEL_SERVICE

# Where the copy of the project lives in the container, and a folder the app user may write.
WORKDIR = "/tmp/project"
SCRATCH = "/tmp"
# What the app's code needs to import itself and run its migrations (never .env or .git).
CODE = ("app", "alembic", "alembic.ini", "pyproject.toml")
MEMORY = "512m"


def _app_name(project: Path) -> str:
    from wizard.spec import load_spec

    return load_spec(project / "shipyard.yaml").app.name


def _archive(project: Path) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name in CODE:
            path = project / name
            if not path.exists():
                continue
            for item in [path, *sorted(path.rglob("*"))] if path.is_dir() else [path]:
                if "__pycache__" in item.parts or item.suffix == ".pyc" or item.is_symlink():
                    continue
                info = tar.gettarinfo(str(item), f"project/{item.relative_to(project).as_posix()}")
                info.uid = info.gid = 0
                info.uname = info.gname = ""
                info.mode = 0o755 if item.is_dir() else 0o644
                if item.is_dir():
                    tar.addfile(info)
                else:
                    with item.open("rb") as handle:
                        tar.addfile(info, handle)
    return buffer.getvalue()


def run_python(
    project: Path, args: list[str], env: dict[str, str], timeout: float
) -> tuple[int, str]:
    """`python ARGS` in a throwaway container of the staging image: (exit code, output).

    Raises ShipyardError when there is no engine or no image yet, TimeoutError past `timeout`.
    """
    from docker.errors import ImageNotFound

    project = Path(project).resolve()
    app = _app_name(project)
    name = f"shipyard-{app}-api:staging"  # the image `shipyard up` builds (Plan.image)
    client = engine.connect()
    try:
        image = client.images.get(name)
    except ImageNotFound:
        raise ShipyardError(
            f"the Docker staging image {name} is not built yet",
            hint="`shipyard up` builds it.",
        ) from None
    with engine.translate(f"run the project's code in {name}"):
        container = client.containers.create(
            image.id,
            command=["python", *args],
            working_dir=WORKDIR,
            environment={**env, "PYTHONPATH": WORKDIR, "PYTHONDONTWRITEBYTECODE": "1"},
            network_disabled=True,
            mem_limit=MEMORY,
            labels={
                LABEL_APP: app,
                LABEL_PROJECT: str(project),
                LABEL_SERVICE: "check",
            },
            detach=True,
        )
    try:
        with engine.translate(f"run the project's code in {name}"):
            container.put_archive("/tmp", _archive(project))
            container.start()
            deadline = time.monotonic() + timeout
            while True:
                container.reload()
                if container.status in ("exited", "dead"):
                    break
                if time.monotonic() > deadline:
                    raise TimeoutError
                time.sleep(0.2)
            code = int((container.attrs.get("State") or {}).get("ExitCode", 1))
            output = container.logs(stdout=True, stderr=True).decode("utf-8", "replace")
    finally:
        services.remove_container(container)
    return code, output
