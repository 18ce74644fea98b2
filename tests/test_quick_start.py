"""The quick start leaves `shipyard` runnable as typed: scripts/lib.sh's link in ~/.local/bin."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = Path(sys.executable).parent.parent


def _install_shim(home: Path, path: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HOME": str(home), "PATH": path, "SHIPYARD_VENV": str(VENV)}
    env.pop("XDG_BIN_HOME", None)
    return subprocess.run(
        ["bash", "-c", f'source {ROOT}/scripts/lib.sh && install_shim && echo "$SHIPYARD_AS"'],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=True,
    )


def test_the_shim_runs_shipyard_and_says_when_its_folder_is_not_on_path(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    link = home / ".local" / "bin" / "shipyard"

    off_path = _install_shim(home, "/usr/bin:/bin")
    assert off_path.stdout.strip() == str(link)
    assert "not on your PATH" in off_path.stderr
    assert f'export PATH="{link.parent}:$PATH"' in off_path.stderr
    version = subprocess.run([str(link), "--version"], capture_output=True, text=True, timeout=60)
    assert version.returncode == 0 and version.stdout.strip()

    on_path = _install_shim(home, f"{link.parent}:/usr/bin:/bin")
    assert on_path.stdout.strip() == "shipyard"
    assert "not on your PATH" not in on_path.stderr
    typed = subprocess.run(
        ["bash", "-c", "shipyard --version"],
        capture_output=True,
        text=True,
        env={**os.environ, "PATH": f"{link.parent}:/usr/bin:/bin"},
        timeout=60,
    )
    assert typed.returncode == 0, typed.stderr


def test_a_shipyard_that_is_not_the_shim_is_left_alone(tmp_path):
    home = tmp_path / "home"
    other = home / ".local" / "bin" / "shipyard"
    other.parent.mkdir(parents=True)
    other.write_text("#!/bin/sh\necho pipx\n")
    other.chmod(0o755)
    result = _install_shim(home, "/usr/bin:/bin")
    assert other.read_text() == "#!/bin/sh\necho pipx\n"
    assert result.stdout.strip() == str(VENV / "bin" / "shipyard")
    assert "left alone" in result.stderr


def _choose_target(path: str, **env: str) -> tuple[str, str]:
    result = subprocess.run(
        ["bash", "-c", f"source {ROOT}/scripts/lib.sh && choose_target"],
        capture_output=True,
        text=True,
        env={
            **{k: v for k, v in os.environ.items() if k != "SHIPYARD_TARGET"},
            "PATH": path,
            **env,
        },
        timeout=60,
        check=True,
    )
    target, why = result.stdout.rstrip("\n").split("\t")
    return target, why


def test_try_it_says_why_it_chose_its_target(tmp_path):
    assert _choose_target("/usr/bin:/bin", SHIPYARD_TARGET="local") == (
        "local",
        "local, as SHIPYARD_TARGET says",
    )
    empty = tmp_path / "bin"
    empty.mkdir()
    (empty / "bash").symlink_to("/bin/bash")
    target, why = _choose_target(str(empty))
    assert target == "local" and "Docker is not installed" in why
    silent = tmp_path / "silent"
    silent.mkdir()
    (silent / "docker").write_text("#!/bin/sh\nexit 1\n")  # a docker CLI whose engine is down
    (silent / "docker").chmod(0o755)
    target, why = _choose_target(f"{silent}:{empty}")
    assert target == "local" and "no Docker engine answers" in why
