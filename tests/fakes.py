"""Small stand-ins shared by Shipyard's own tests (not fixtures: plain helpers)."""

from __future__ import annotations

import sys
import types
from pathlib import Path

FAKE_GITIGNORE = ".env\n.venv/\n.shipyard/\n__pycache__/\n*.db\n"
FAKE_ENV_EXAMPLE = (
    "# Copy to .env\n"
    "ENVIRONMENT=development\n"
    "SECRET_KEY=change-me\n"
    "DATABASE_URL=\n"
    "CORS_ORIGINS=http://localhost:5173\n"
)


def fake_render(spec: object, dest: Path) -> None:
    """What a blueprint renders, reduced to the files the pipeline itself cares about."""
    dest = Path(dest)
    (dest / "app").mkdir(parents=True, exist_ok=True)
    (dest / "app" / "__init__.py").write_text("", encoding="utf-8")
    (dest / "README.md").write_text("# A fake project\n", encoding="utf-8")
    (dest / ".gitignore").write_text(FAKE_GITIGNORE, encoding="utf-8")
    (dest / ".env.example").write_text(FAKE_ENV_EXAMPLE, encoding="utf-8")


def install_fake_blueprints(monkeypatch, render=fake_render) -> types.ModuleType:
    """Make `from wizard import blueprints` return a module whose render() is `render`."""
    import wizard

    module = types.ModuleType("wizard.blueprints")
    module.render = render  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "wizard.blueprints", module)
    monkeypatch.setattr(wizard, "blueprints", module, raising=False)
    return module


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` with its bytes, to prove nothing changed."""
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }
