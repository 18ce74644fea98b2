"""python -m bench.profile: py-spy the rendered backend (one worker) under wrk, per operation.

Seeds a small data set, then for each operation records the worker with py-spy while
wrk drives it, and prints where the time goes: by package and by function (inclusive).
Flame graphs (SVG) land in bench/.work/profile/.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from bench.__main__ import request_files, say
from bench.load import wrk
from bench.postgres import Cluster
from bench.procs import BenchError, stop_all
from bench.seed import accounts, seed
from bench.shipyard_app import ShipyardBackend

HERE = Path(__file__).resolve().parent
_FRAME = re.compile(r"^(?P<func>.*) \((?P<file>[^()]*?)(?::\d+)?\)$")

PACKAGES = (
    ("sqlalchemy", "sqlalchemy"),
    ("asyncpg", "asyncpg"),
    ("pydantic", "pydantic"),
    ("fastapi", "fastapi"),
    ("starlette", "starlette"),
    ("uvicorn", "uvicorn"),
    ("jwt", "jwt"),
    ("argon2", "argon2"),
    ("logging", "logging/"),
    ("json", "json/"),
    ("asyncio", "asyncio/"),
    ("app", "/app/"),
)


def py_spy() -> str:
    found = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(found).exists():
        raise BenchError("py-spy is not installed: pip install py-spy")
    return found


def package_of(file: str) -> str:
    for name, marker in PACKAGES:
        if marker in file:
            return name
    return "other"


def _name(frame: str) -> tuple[str, str]:
    match = _FRAME.match(frame)
    if not match:
        return frame, ""
    file = match["file"].split("site-packages/")[-1]
    return f"{match['func']} ({file})", match["file"]


def summarize(raw: Path, top: int = 15) -> str:
    """Self time by package and function, and inclusive time below the server's spine."""
    total = 0
    self_pkg: collections.Counter[str] = collections.Counter()
    self_fn: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    for line in raw.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack:
            continue
        count = int(count_text)
        total += count
        names = [_name(frame) for frame in stack.split(";")]
        for name in {name for name, _ in names}:
            inclusive[name] += count
        leaf, leaf_file = names[-1]
        self_fn[leaf] += count
        self_pkg[package_of(leaf_file)] += count
    if not total:
        return "(no samples)"

    def pct(n: int) -> str:
        return f"{100 * n / total:5.1f}%"

    lines = ["  self time by package:"]
    lines += [f"    {pct(n)}  {pkg}" for pkg, n in self_pkg.most_common()]
    lines.append("  self time by function:")
    lines += [f"    {pct(n)}  {name}" for name, n in self_fn.most_common(top)]
    lines.append("  inclusive time (frames under 60%: below the server's own call chain):")
    below = [(name, n) for name, n in inclusive.most_common() if n < 0.6 * total]
    lines += [f"    {pct(n)}  {name}" for name, n in below[: top * 2]]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.profile", description=__doc__)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--operations", default="get,list,create")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument(
        "--project", type=Path, help="profile this rendered project instead of rendering one"
    )
    args = parser.parse_args(argv)
    out = HERE / ".work" / "profile"
    out.mkdir(parents=True, exist_ok=True)
    cluster = Cluster()
    try:
        cluster.start()
        target = ShipyardBackend(cluster, out, args.project.resolve() if args.project else None)
        target.prepare()
        people = accounts(args.users)
        target.start(1)
        asyncio.run(seed(target, people, args.rows))
        files = request_files(target, people, out)
        for op in args.operations.split(","):
            wrk(target.base_url, files[op], seconds=2, connections=args.connections, threads=2)
            raw = out / f"{op}.txt"
            spy = subprocess.Popen(
                [
                    py_spy(),
                    "record",
                    "-p",
                    str(target.proc.pid),
                    "-d",
                    str(args.seconds),
                    "-r",
                    "250",  # type: ignore[union-attr]
                    "-f",
                    "raw",
                    "-o",
                    str(raw),
                    "--nonblocking",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            result = wrk(
                target.base_url,
                files[op],
                seconds=args.seconds,
                connections=args.connections,
                threads=2,
            )
            spy.wait(timeout=args.seconds + 30)
            print(
                f"== {op}: {result.requests_per_s:.0f} req/s, p50 {result.p50_ms} ms, p99 {result.p99_ms} ms,"
                f" {result.errors} errors (under py-spy)"
            )
            print(summarize(raw))
        target.stop()
        say(f"Raw stacks in {out}")
        return 0
    finally:
        stop_all()
        cluster.stop()


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
