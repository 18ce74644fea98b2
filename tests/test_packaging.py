"""The wheel carries the blueprints and checklists, and finds them the way a checkout does."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from wizard import paths

ROOT = Path(__file__).resolve().parent.parent


def files_under(folder: Path) -> set[str]:
    return {
        str(p.relative_to(folder))
        for p in folder.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }


def test_a_checkout_finds_its_data():
    assert paths.blueprints_dir() == ROOT / "blueprints"
    assert (paths.blueprints_dir() / "fastapi" / "copier.yml").is_file()


def test_the_wheel_ships_and_finds_every_data_file(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d", str(tmp_path / "dist")],
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = (tmp_path / "dist").glob("shipyard-*.whl")
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)
        entry_points = archive.read(
            next(n for n in archive.namelist() if n.endswith("entry_points.txt"))
        ).decode()
    assert "shipyard = wizard.cli:main" in entry_points

    for name in ("blueprints", "checklists"):
        shipped = site / "wizard" / "_data" / name
        assert files_under(shipped) == files_under(ROOT / name), f"{name} differs in the wheel"

    # -S: no site-packages, so only the unpacked wheel provides `wizard`.
    probe = (
        "import sys; sys.path.insert(0, sys.argv[1]); from wizard import paths; "
        "print(paths.blueprints_dir()); print(paths.checklists_dir())"
    )
    out = subprocess.run(
        [sys.executable, "-S", "-c", probe, str(site)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.split()
    assert out == [
        str(site / "wizard" / "_data" / "blueprints"),
        str(site / "wizard" / "_data" / "checklists"),
    ]
