"""python -m bench: render, seed, check, then measure Parse Server and the rendered backend with wrk."""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import signal
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import report
from bench.load import Measured, write_requests, wrk
from bench.postgres import Cluster
from bench.procs import BenchError, cpu_seconds, cpu_used, stop_all
from bench.seed import accounts, check, seed
from bench.targets import Account, Target

HERE = Path(__file__).resolve().parent
OPERATIONS = ("create", "get", "list", "login")


def say(message: str) -> None:
    print(f"==> {message}", file=sys.stderr, flush=True)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench", description=__doc__)
    parser.add_argument("--seconds", type=int, default=10, help="length of each measured wrk run")
    parser.add_argument("--warmup", type=int, default=2, help="unmeasured wrk run before each one")
    parser.add_argument("--login-seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="measure each operation this many times, keep the median",
    )
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--processes", default="1,2", help="server processes to measure, e.g. 1,2")
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument(
        "--only",
        default="parse,shipyard",
        help="servers to measure: parse, shipyard (freshly rendered) and/or shipyard=DIR (a rendered "
        "project, e.g. with changes to try)",
    )
    parser.add_argument("--operations", default=",".join(OPERATIONS))
    parser.add_argument("--out", type=Path, help="result JSON (default bench/results/<date>.json)")
    parser.add_argument("--note", default="", help="a remark stored in the result JSON")
    parser.add_argument("--keep", action="store_true", help="keep bench/.work (rendered app, logs)")
    return parser.parse_args(argv)


def make_targets(names: list[str], cluster: Cluster, workdir: Path) -> list[Target]:
    targets: list[Target] = []
    for name in names:
        if name == "parse":
            from bench.parse_server import ParseServer

            targets.append(ParseServer(cluster, workdir))
        elif name == "shipyard" or name.startswith("shipyard="):
            from bench.shipyard_app import ShipyardBackend

            project = Path(name.partition("=")[2]).resolve() if "=" in name else None
            targets.append(ShipyardBackend(cluster, workdir, project))
        else:
            raise BenchError(f"unknown server {name!r}: use parse and/or shipyard")
    return targets


def request_files(target: Target, people: list[Account], workdir: Path) -> dict[str, Path]:
    rng = random.Random(8)
    owned = [(a, r) for a in people for r in a.record_ids]
    rng.shuffle(owned)
    shuffled = list(people)
    rng.shuffle(shuffled)
    requests = {
        "get": [target.raw("get", a, record_id=r) for a, r in owned],
        "list": [target.raw("list", a) for a in shuffled],
        "create": [
            target.raw("create", shuffled[n % len(shuffled)], n=100_000 + n) for n in range(4_000)
        ],
        "login": [target.raw("login", a) for a in shuffled],
    }
    folder = workdir / target.name
    folder.mkdir(parents=True, exist_ok=True)
    return {op: write_requests(folder / f"{op}.requests", reqs) for op, reqs in requests.items()}


def settle(target: Target, limit: float = 30.0) -> None:
    """Wait until the server has finished what wrk left queued (logins can take seconds)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        before = cpu_seconds(target.pids())
        time.sleep(0.5)
        if cpu_used(before, cpu_seconds(target.pids())) < 0.05:
            return


def measure_one(
    target: Target, op: str, files: dict[str, Path], args: argparse.Namespace
) -> Measured:
    seconds = args.login_seconds if op == "login" else args.seconds
    since = target.cluster.psql(target.database, "SELECT now()")
    # A warm-up of logins would leave a queue of password hashes behind it.
    if args.warmup and op != "login":
        wrk(
            target.base_url,
            files[op],
            seconds=args.warmup,
            connections=args.connections,
            threads=args.threads,
        )
    server_before, db_before = cpu_seconds(target.pids()), cpu_seconds(target.cluster.pids())
    result = wrk(
        target.base_url,
        files[op],
        seconds=seconds,
        connections=args.connections,
        threads=args.threads,
    )
    server_cpu = cpu_used(server_before, cpu_seconds(target.pids()))
    db_cpu = cpu_used(db_before, cpu_seconds(target.cluster.pids()))
    if result.requests:
        result.server_cpu_ms = round(1000 * server_cpu / result.requests, 3)
        result.db_cpu_ms = round(1000 * db_cpu / result.requests, 3)
    settle(target)
    if op == "create":
        # Every run sees the same 10,000 rows.
        target.cluster.psql(
            target.database,
            f'DELETE FROM "{target.table}" WHERE "{target.created_column}" >= \'{since}\'',
        )
        target.cluster.psql(target.database, f'VACUUM ANALYZE "{target.table}"')
    return result


def measure(
    targets: list[Target],
    processes: int,
    files: dict[str, dict[str, Path]],
    ops: list[str],
    args: argparse.Namespace,
) -> dict[str, dict[str, Any]]:
    """Both servers stay up; each operation runs on one then the other (alternating who goes first),
    so that load from anything else on the machine falls on both alike."""
    out: dict[str, dict[str, Any]] = {t.name: {} for t in targets}
    for target in targets:
        target.start(processes)
    try:
        turn = 0
        for op in ops:
            rounds: dict[str, list[Measured]] = {t.name: [] for t in targets}
            for _ in range(args.rounds):
                order = targets if turn % 2 == 0 else list(reversed(targets))
                turn += 1
                for target in order:
                    result = measure_one(target, op, files[target.name], args)
                    say(
                        f"{target.name} x{processes} {op}: {result.requests_per_s:.0f} req/s, "
                        f"p50 {result.p50_ms} ms, p99 {result.p99_ms} ms, {result.errors} errors, "
                        f"CPU/request: server {result.server_cpu_ms} ms, PostgreSQL {result.db_cpu_ms} ms"
                    )
                    rounds[target.name].append(result)
            for name, results in rounds.items():
                # The median round by requests/s; every round's figures are kept beside it.
                chosen = sorted(results, key=lambda m: m.requests_per_s)[len(results) // 2]
                out[name][op] = chosen.as_dict()
                if len(results) > 1:
                    out[name][op]["rounds"] = [m.as_dict() for m in results]
    finally:
        for target in targets:
            target.stop()
    return out


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    names = [n.strip() for n in args.only.split(",") if n.strip()]
    ops = [o.strip() for o in args.operations.split(",") if o.strip()]
    processes = [int(p) for p in args.processes.split(",")]
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    workdir = HERE / ".work" / stamp
    workdir.mkdir(parents=True, exist_ok=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started = time.monotonic()
    cluster = Cluster()
    results: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "note": args.note,
        "settings": {
            "seconds": args.seconds,
            "login_seconds": args.login_seconds,
            "warmup_seconds": args.warmup,
            "connections": args.connections,
            "wrk_threads": args.threads,
            "processes": processes,
            "users": args.users,
            "rows": args.rows,
            "operations": ops,
            "rounds": args.rounds,
        },
        "machine": report.machine(),
        "versions": {},
        "checks": {},
        "runs": {},
    }
    try:
        say(f"Starting a throwaway PostgreSQL on 127.0.0.1:{cluster.port}")
        cluster.start()
        results["versions"]["postgresql"] = cluster.version
        targets = make_targets(names, cluster, workdir)
        files: dict[str, dict[str, Path]] = {}
        for target in targets:
            say(f"Preparing {target.label}")
            target.prepare()
            results["versions"].update(target.versions())
            say(f"Seeding {target.label}: {args.users} users, {args.rows} rows through its API")
            people = accounts(args.users)
            target.start(max(processes))
            try:
                t0 = time.monotonic()
                asyncio.run(seed(target, people, args.rows))
                say(f"  seeded in {time.monotonic() - t0:.0f} s; checking owner-only access")
                results["checks"][target.name] = asyncio.run(check(target, people))
            finally:
                target.stop()
            cluster.psql(target.database, f'VACUUM ANALYZE "{target.table}"')
            files[target.name] = request_files(target, people, workdir)
        for count in processes:
            say(f"Measuring with {count} server process(es) each")
            for name, runs in measure(targets, count, files, ops, args).items():
                results["runs"].setdefault(name, {})[str(count)] = runs
        results["verdicts"] = report.verdicts(results)
        results["elapsed_s"] = round(time.monotonic() - started)
        results["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
        print(report.table(results))
        out = args.out or HERE / "results" / f"{stamp}.json"
        say(f"Wrote {report.write(results, out)}")
        gated = [v for v in results["verdicts"] if v["gated"]]
        return 0 if gated and all(v["pass"] for v in gated) else 1
    except BenchError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 2
    finally:
        stop_all()
        cluster.stop()
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
