"""python -m bench.rls: the rendered backend with and without its row-level security policies.

One rendered backend (bench/booking.yaml), one throwaway PostgreSQL, the API connected as
its own role (no BYPASSRLS), as in staging and production. Rows go in as the owner in one
statement (far quicker than through HTTP, and the API's create would make the same rows);
the accounts sign up through the API. Then each operation (create, get own by id, list own
newest first) runs under wrk in rounds, alternating:

- with: the tables as the migration leaves them (row-level security ENABLEd and FORCEd);
- without: ``ALTER TABLE ... DISABLE ROW LEVEL SECURITY, NO FORCE`` on every table that has
  policies. The app is the same in both (it still hands the database its caller), so the
  ratio is what the policies themselves cost.

Both modes run on the same server processes, one right after the other and in alternating
order, so whatever else loads the machine falls on both alike. The figure kept per mode and
operation is the median round; the ratio is with / without, for the server's and
PostgreSQL's CPU per request and for the median latency. Bounded: about
``rounds x 3 x 2 x (seconds + warm-up + a few)`` seconds after seeding (about 3 minutes by
default).

    bench/run rls                     # or: python -m bench.rls [--rows 100000 --rounds 3]
    python -m bench.rls --project DIR # a rendered project with changes to try
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import signal
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.__main__ import HERE, measure_one, request_files, say
from bench.load import Measured
from bench.postgres import Cluster
from bench.procs import BenchError, stop_all
from bench.seed import _bounded, _client, accounts, check
from bench.shipyard_app import ShipyardBackend

OPERATIONS = ("create", "get", "list")


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench.rls", description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5, help="length of each measured wrk run")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3, help="rounds per mode, median kept")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--processes", type=int, default=1, help="server processes")
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--operations", default=",".join(OPERATIONS))
    parser.add_argument("--project", type=Path, help="an already rendered project to measure")
    parser.add_argument(
        "--out", type=Path, help="result JSON (default bench/results/rls-<date>.json)"
    )
    parser.add_argument("--note", default="")
    return parser.parse_args(argv)


def policy_tables(target: ShipyardBackend) -> list[str]:
    out = target.cluster.psql(
        target.database,
        "SELECT DISTINCT tablename FROM pg_policies WHERE schemaname = 'public' ORDER BY 1",
    )
    return [line for line in out.splitlines() if line]


def set_policies(target: ShipyardBackend, tables: list[str], on: bool) -> None:
    action = (
        "ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY"
        if on
        else "DISABLE ROW LEVEL SECURITY, NO FORCE ROW LEVEL SECURITY"
    )
    sql = "; ".join(f'ALTER TABLE "{t}" {action}' for t in tables)
    target.cluster.psql(target.database, sql)
    forced = target.cluster.psql(
        target.database,
        "SELECT count(*) FROM pg_class WHERE relrowsecurity AND relforcerowsecurity "
        f"AND relname IN ({', '.join(repr(t) for t in tables)})",
    )
    if int(forced) != (len(tables) if on else 0):
        raise BenchError(
            f"row-level security did not turn {'on' if on else 'off'}: {forced} tables"
        )


async def seed_fast(target: ShipyardBackend, people: list[Any], rows: int) -> None:
    """Accounts through the API; `rows` bookings spread evenly over them, as the owner."""
    async with _client(target, 16) as client:
        await _bounded([lambda a=a: target.signup(client, a) for a in people], 16)
    ids = ", ".join(str(int(a.user_id)) for a in people)
    target.cluster.psql(
        target.database,
        f"""INSERT INTO bookings (owner_id, title, starts_at, seats, version, created_at, updated_at)
        SELECT (ARRAY[{ids}])[1 + n % {len(people)}], 'Booking ' || n,
               timestamptz '2027-03-01 10:00Z' + (n % 28) * interval '1 day', 1 + n % 4, 1,
               now() - (n * interval '1 second'), now()
        FROM generate_series(1, {rows}) AS n""",
    )
    target.cluster.psql(target.database, "VACUUM ANALYZE bookings")
    owned = target.cluster.psql(target.database, "SELECT owner_id, id FROM bookings ORDER BY id")
    by_owner = {a.user_id: a for a in people}
    for line in owned.splitlines():
        owner, record = line.split("|")
        by_owner[owner].record_ids.append(record)


def summarise(results: list[Measured]) -> dict[str, Any]:
    def median(key: str) -> float:
        return round(statistics.median(getattr(m, key) for m in results), 3)

    return {
        "requests_per_s": median("requests_per_s"),
        "p50_ms": median("p50_ms"),
        "p99_ms": median("p99_ms"),
        "server_cpu_ms": median("server_cpu_ms"),
        "db_cpu_ms": median("db_cpu_ms"),
        "errors": sum(m.errors + m.non_2xx for m in results),
        "rounds": [m.as_dict() for m in results],
    }


def table(runs: dict[str, dict[str, Any]]) -> str:
    lines = [
        "operation  mode     req/s    p50 ms  server CPU ms/req  PostgreSQL CPU ms/req  errors",
    ]
    for op, modes in runs.items():
        for mode in ("with", "without"):
            m = modes[mode]
            lines.append(
                f"{op:<10} {mode:<8} {m['requests_per_s']:>6.0f}  {m['p50_ms']:>7.2f}  "
                f"{m['server_cpu_ms']:>17.3f}  {m['db_cpu_ms']:>21.3f}  {m['errors']:>6}"
            )
        r = modes["ratio"]
        lines.append(
            f"{op:<10} ratio    {r['requests_per_s']:>6.2f}  {r['p50_ms']:>7.2f}  "
            f"{r['server_cpu_ms']:>17.2f}  {r['db_cpu_ms']:>21.2f}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    ops = [o.strip() for o in args.operations.split(",") if o.strip()]
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    workdir = HERE / ".work" / f"rls-{stamp}"
    workdir.mkdir(parents=True, exist_ok=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started = time.monotonic()
    cluster = Cluster()
    # measure_one reads these from the main bench's options.
    args.login_seconds = args.seconds
    try:
        say(f"Starting a throwaway PostgreSQL on 127.0.0.1:{cluster.port}")
        cluster.start()
        target = ShipyardBackend(cluster, workdir, args.project.resolve() if args.project else None)
        say(f"Preparing {target.label}")
        target.prepare()
        people = accounts(args.users)
        target.start(args.processes)
        try:
            say(f"Seeding: {args.users} accounts through the API, {args.rows} rows as the owner")
            asyncio.run(seed_fast(target, people, args.rows))
            checks = asyncio.run(check(target, people))
            say("  checked through the API: " + "; ".join(checks))
            tables = policy_tables(target)
            if not tables:
                raise BenchError("the migrated database has no row-level security policies")
            files = request_files(target, people, workdir)
            measured: dict[str, dict[str, list[Measured]]] = {
                op: {"with": [], "without": []} for op in ops
            }
            turn = 0
            for _ in range(args.rounds):
                for op in ops:
                    order = ("with", "without") if turn % 2 == 0 else ("without", "with")
                    turn += 1
                    for mode in order:
                        set_policies(target, tables, on=mode == "with")
                        result = measure_one(target, op, files, args)
                        say(
                            f"{op} {mode} policies: {result.requests_per_s:.0f} req/s, "
                            f"p50 {result.p50_ms} ms, CPU/request: server {result.server_cpu_ms} ms, "
                            f"PostgreSQL {result.db_cpu_ms} ms, {result.errors + result.non_2xx} errors"
                        )
                        measured[op][mode].append(result)
            set_policies(target, tables, on=True)
        finally:
            target.stop()
        runs: dict[str, dict[str, Any]] = {}
        for op, modes in measured.items():
            runs[op] = {mode: summarise(results) for mode, results in modes.items()}
            w, wo = runs[op]["with"], runs[op]["without"]
            runs[op]["ratio"] = {
                key: round(w[key] / wo[key], 3) if wo[key] else None
                for key in ("requests_per_s", "p50_ms", "server_cpu_ms", "db_cpu_ms")
            }
        results = {
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "note": args.note,
            "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
            "postgresql": cluster.version,
            "policy_tables": tables,
            "checks": checks,
            "runs": runs,
            "elapsed_s": round(time.monotonic() - started),
        }
        print(table(runs))
        out = args.out or HERE / "results" / f"rls-{stamp}.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(results, indent=2) + "\n")
        say(f"Wrote {out} ({results['elapsed_s']} s)")
        errors = sum(runs[op][mode]["errors"] for op in runs for mode in ("with", "without"))
        return 0 if errors == 0 else 1
    except BenchError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 2
    finally:
        stop_all()
        cluster.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
