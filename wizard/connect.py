"""`shipyard connect`: wire a Vite/React frontend (Lovable, Bolt, v0) to the backend."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from wizard import envfile
from wizard.errors import BadInput
from wizard.spec import load_spec
from wizard.spec.origins import normalise_origin, origin_problem
from wizard.spec.roundtrip import save_spec

SPEC_FILE = "shipyard.yaml"
PROMPT = "FRONTEND.md"
CLIENT = Path("client") / "api.ts"
CLIENT_IN_FRONTEND = Path("src") / "lib" / "api" / "api.ts"
API_URL_KEY = "VITE_API_URL"
DEFAULT_API_URL = "http://localhost:8000"
DEFAULT_ORIGIN = "http://localhost:5173"  # Vite's dev server


@dataclass
class Connected:
    """What connect changed (each a sentence), and what it found already in place."""

    changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def connect(
    frontend: Path, project: Path, origin: str | None = None, api_url: str | None = None
) -> Connected:
    """Copy the typed client in, set the API address, allow the frontend's origin.

    Checks everything before writing anything, so a refusal leaves both folders as they
    were; running it again changes nothing that is already right.
    """
    frontend, project = frontend.resolve(), project.resolve()
    spec_path = project / SPEC_FILE
    if not spec_path.is_file():
        raise BadInput(
            f"{project} is not a Shipyard project (it has no {SPEC_FILE}); nothing was written.",
            hint="Run it from the backend's folder, or name it with -C PROJECT.",
        )
    client = project / CLIENT
    if not client.is_file():
        raise BadInput(
            f"{project} has no {CLIENT} to copy; nothing was written.",
            hint="Run `shipyard update` (or `python -m app openapi --write` in the backend).",
        )
    _require_vite(frontend)
    wanted = origin or DEFAULT_ORIGIN
    if problem := origin_problem(wanted):
        raise BadInput(f"--origin: {problem}; nothing was written.")
    wanted = normalise_origin(wanted)
    address = (api_url or DEFAULT_API_URL).rstrip("/")

    done = Connected()
    target = frontend / CLIENT_IN_FRONTEND
    if target.is_file() and target.read_bytes() == client.read_bytes():
        done.unchanged.append(f"{CLIENT_IN_FRONTEND} is the backend's current client")
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(client, target)
        done.changed.append(f"copied the typed client to {CLIENT_IN_FRONTEND}")
    for name, value in ((".env.local", address), (".env.example", DEFAULT_API_URL)):
        if _set_line(frontend / name, API_URL_KEY, value, keep=name == ".env.example"):
            done.changed.append(f"{name}: {API_URL_KEY}={value}")
        else:
            done.unchanged.append(f"{name} already sets {API_URL_KEY}")
    _allow_origin(project, spec_path, wanted, done)
    return done


def _require_vite(frontend: Path) -> None:
    package = frontend / "package.json"
    refusal = (
        f"{frontend} is not a Vite/React project (what Lovable, Bolt and v0 export): "
        "{why}; nothing was written."
    )
    hint = "Name the folder that holds the frontend's package.json."
    if not package.is_file():
        raise BadInput(refusal.format(why="it has no package.json"), hint=hint)
    try:
        data = json.loads(package.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise BadInput(refusal.format(why="its package.json is not JSON"), hint=hint) from None
    packages: dict[str, object] = {}
    for key in ("dependencies", "devDependencies"):
        if isinstance(data, dict) and isinstance(data.get(key), dict):
            packages.update(data[key])
    if "vite" not in packages:
        raise BadInput(refusal.format(why="its package.json does not use vite"), hint=hint)


def _set_line(path: Path, key: str, value: str, keep: bool) -> bool:
    """Set KEY=value in an env file; with `keep`, an existing KEY is left alone. True when
    the file changed."""
    lines = path.read_text(encoding="utf-8").splitlines() if path.is_file() else []
    for index, line in enumerate(lines):
        if line.split("=", 1)[0].strip() == key:
            if keep or line == f"{key}={value}":
                return False
            lines[index] = f"{key}={value}"
            break
    else:
        lines.append(f"{key}={value}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return True


def _allow_origin(project: Path, spec_path: Path, origin: str, done: Connected) -> None:
    spec = load_spec(spec_path)
    if origin in spec.frontend.origins:
        done.unchanged.append(f"{SPEC_FILE} already allows {origin}")
    else:
        spec.frontend.origins.append(origin)
        save_spec(spec_path, spec)  # the founder's comments and key order stay
        done.changed.append(
            f"{SPEC_FILE}: frontend.origins gains {origin} (`shipyard update` puts it in the code)"
        )
    env = envfile.read_env(project)
    if "CORS_ORIGINS" in env:
        origins = [o.strip() for o in env["CORS_ORIGINS"].split(",") if o.strip()]
        if origin in origins or "*" in origins:
            done.unchanged.append(f".env's CORS_ORIGINS already allows {origin}")
        else:
            envfile.set_value(project, "CORS_ORIGINS", ",".join([*origins, origin]))
            done.changed.append(
                f".env: CORS_ORIGINS gains {origin} (restart staging: `shipyard up`)"
            )


def prompt(project: Path) -> str:
    """The text a founder pastes into Lovable, Cursor or v0: the project's FRONTEND.md."""
    path = project.resolve() / PROMPT
    if not path.is_file():
        raise BadInput(
            f"{project} has no {PROMPT}.",
            hint="Run `shipyard update` to render it (or run this from the backend's folder).",
        )
    return path.read_text(encoding="utf-8")
