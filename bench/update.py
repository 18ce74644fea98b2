"""How long `shipyard update` takes on a big project: N objects, then one added field.

    python bench/update.py               # 100 objects
    python bench/update.py --objects 20

Prints one JSON line: the objects, the files rendered, and the seconds `shipyard new` and
`shipyard update --yes` took (each a real subprocess, so Python's start-up is counted).
The issue's bar: the update takes at most 10 s on 100 objects.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CPU: dict[str, float] = {}


def spec_text(objects: int) -> str:
    lines = [
        "app: {name: big-app, title: Big App}",
        "login: {methods: [email_password]}",
        "objects:",
    ]
    for index in range(objects):
        lines += [
            f"  Thing{index}:",
            "    owner: creator",
            "    fields:",
            "      name: {type: string, required: true, max_length: 80}",
            "      count: {type: int, min: 0}",
            "      due: date",
        ]
        if index:
            lines.append(f"      parent: {{type: ref, to: Thing{index - 1}}}")
        lines.append(
            "    permissions: {read: public, create: signed_in, update: owner, delete: owner}"
        )
    return "\n".join(lines) + "\n"


def shipyard(*args: str, cwd: Path, cache: Path) -> float:
    # A cache of its own: a founder's first update of this app finds no openapi.json cached.
    env = {**os.environ, "PYTHONPATH": str(REPO), "CI": "1", "XDG_CACHE_HOME": str(cache)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "wizard", *args], cwd=cwd, env=env, capture_output=True, text=True
    )
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"shipyard {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    # CPU seconds of the command and everything it ran (git, ruff, the app's openapi):
    # on a shared machine they move much less with the load than the wall time does.
    CPU[args[0]] = round((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), 2)
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--objects", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="shipyard-bench-update-") as scratch:
        folder = Path(scratch)
        spec = folder / "shipyard.yaml"
        spec.write_text(spec_text(args.objects))
        cache = folder / "cache"
        created = shipyard(
            "new", str(folder / "big"), "--spec", str(spec), "--yes", cwd=folder, cache=cache
        )
        project = folder / "big"
        files = len(
            subprocess.run(
                ["git", "-C", str(project), "ls-files"], capture_output=True, text=True
            ).stdout.splitlines()
        )
        target = project / "shipyard.yaml"
        text = target.read_text()
        marker = "      due: date\n"
        position = text.index(marker) + len(marker)
        target.write_text(text[:position] + "      note: text\n" + text[position:])
        updated = shipyard("update", "--yes", cwd=project, cache=cache)
        log = subprocess.run(
            ["git", "-C", str(project), "log", "-1", "--format=%s"], capture_output=True, text=True
        ).stdout.strip()
    print(
        json.dumps(
            {
                "objects": args.objects,
                "files": files,
                "new_seconds": round(created, 2),
                "update_seconds": round(updated, 2),
                "new_cpu_seconds": CPU["new"],
                "update_cpu_seconds": CPU["update"],
                "commit": log,
                "cpus": os.cpu_count(),
                "load_average": round(os.getloadavg()[0], 1),
            }
        )
    )
    return 0 if updated <= 10 else 1


if __name__ == "__main__":
    sys.exit(main())
