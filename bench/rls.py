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
        "--before",
        type=Path,
        help="another rendered project (e.g. the blueprint before a change) measured with its "
        "policies in the same rounds: the after/before ratio",
    )
    parser.add_argument(
        "--out", type=Path, help="result JSON (default bench/results/rls-<date>.json)"
    )
    parser.add_argument(
        "--statement-batches", type=int, default=9, help="0: no statement-level figures"
    )
    parser.add_argument("--statements-per-batch", type=int, default=300)
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

    def least(key: str) -> float:
        return round(min(getattr(m, key) for m in results), 3)

    return {
        # The least CPU per request of the rounds: the one other work disturbed least.
        "least_server_cpu_ms": least("server_cpu_ms"),
        "least_db_cpu_ms": least("db_cpu_ms"),
        "requests_per_s": median("requests_per_s"),
        "p50_ms": median("p50_ms"),
        "p99_ms": median("p99_ms"),
        "server_cpu_ms": median("server_cpu_ms"),
        "db_cpu_ms": median("db_cpu_ms"),
        "errors": sum(m.errors + m.non_2xx for m in results),
        "rounds": [m.as_dict() for m in results],
    }


_COLUMNS = "b.id, b.owner_id, b.title, b.starts_at, b.seats, b.version, b.created_at, b.updated_at"
STATEMENTS = {
    # The shapes of the API's own get and list (app/api/routes, app/policies).
    "get": f"SELECT {_COLUMNS} FROM bookings b WHERE b.id = $1 AND b.owner_id = $2",
    "list": f"SELECT {_COLUMNS} FROM bookings b WHERE b.owner_id = $1 "
    "ORDER BY b.created_at DESC, b.id DESC LIMIT 20",
}
# How a signed-in statement reaches PostgreSQL, as variants of app/core/database.py:
# (policies on?, how the caller is handed over)
VARIANTS = {
    "4 round trips, policies": (True, "bound"),  # BEGIN, set_config($1), statement, COMMIT
    "3 round trips, policies": (
        True,
        "batch",
    ),  # BEGIN; set_config('<id>') in one, statement, COMMIT
    "3 round trips, no policies": (False, "batch"),
    "1 round trip, no policies, no caller": (False, "none"),  # before row-level security
}


async def statement_figures(
    target: ShipyardBackend, tables: list[str], people: list[Any], batches: int, per_batch: int
) -> dict[str, dict[str, dict[str, float]]]:
    """Microseconds per signed-in read on one connection as the API's role, per variant.

    No HTTP and no server process: only the driver, the round trips and PostgreSQL, so the
    policies' and the round trips' own costs show through a busy machine's noise. Variants
    take turns batch by batch; the least batch (the one other work disturbed least) and the
    median are kept.
    """
    import asyncpg

    api = await asyncpg.connect(target._env["API_DATABASE_URL"])
    samples = [(int(a.user_id), int(r)) for a in people for r in a.record_ids[:3]][:per_batch]
    times: dict[str, dict[str, list[float]]] = {
        op: {name: [] for name in VARIANTS} for op in STATEMENTS
    }

    async def read(op: str, how: str, user: int, record: int) -> int:
        sql = STATEMENTS[op]
        args = (record, user) if op == "get" else (user,)
        if how == "none":
            return len(await api.fetch(sql, *args))
        if how == "bound":
            async with api.transaction():
                await api.execute("SELECT set_config('app.user_id', $1, true)", str(user))
                return len(await api.fetch(sql, *args))
        await api.execute(f"BEGIN; SELECT set_config('app.user_id', '{user:d}', true)")
        found = len(await api.fetch(sql, *args))
        await api.execute("COMMIT")
        return found

    try:
        for batch in range(batches):
            names = list(VARIANTS)
            names = names[batch % len(names) :] + names[: batch % len(names)]
            for name in names:
                on, how = VARIANTS[name]
                set_policies(target, tables, on=on)
                for op in STATEMENTS:
                    started = time.perf_counter()
                    found = [await read(op, how, user, record) for user, record in samples]
                    elapsed = time.perf_counter() - started
                    if op == "get" and set(found) != {1}:
                        raise BenchError(f"{name}: an owner's get found {set(found)} rows")
                    times[op][name].append(1e6 * elapsed / len(samples))
    finally:
        await api.close()
        set_policies(target, tables, on=True)
    return {
        op: {
            name: {
                "least_us": round(min(values), 1),
                "median_us": round(statistics.median(values), 1),
            }
            for name, values in by_variant.items()
        }
        for op, by_variant in times.items()
    }


def statement_table(figures: dict[str, dict[str, dict[str, float]]]) -> str:
    lines = ["statement  variant                                  least µs  median µs"]
    for op, by_variant in figures.items():
        for name, f in by_variant.items():
            lines.append(f"{op:<10} {name:<40} {f['least_us']:>8.1f}  {f['median_us']:>9.1f}")
    return "\n".join(lines)


def table(runs: dict[str, dict[str, Any]]) -> str:
    """Medians of the rounds; 'least' is the least CPU per request of any round."""
    lines = [
        "operation  mode          req/s   p50 ms   CPU ms/req: server  PostgreSQL"
        "   least: server  PostgreSQL  errors",
    ]
    for op, modes in runs.items():
        for name, m in modes.items():
            errors = f"{m['errors']:>6}" if "errors" in m else ""
            lines.append(
                f"{op:<10} {name:<12} {m['requests_per_s']:>7.2f} {m['p50_ms']:>7.2f}"
                f"  {m['server_cpu_ms']:>18.3f} {m['db_cpu_ms']:>11.3f}"
                f"  {m['least_server_cpu_ms']:>14.3f} {m['least_db_cpu_ms']:>11.3f}  {errors}"
            )
    return "\n".join(lines)


def prepared(target: ShipyardBackend, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    """Render or copy, migrate, seed and check one backend; its request files and tables."""
    say(f"Preparing {target.label}")
    target.prepare()
    people = accounts(args.users)
    target.start(args.processes)
    try:
        say(f"Seeding: {args.users} accounts through the API, {args.rows} rows as the owner")
        asyncio.run(seed_fast(target, people, args.rows))
        checks = asyncio.run(check(target, people))
        say("  checked through the API: " + "; ".join(checks))
    finally:
        target.stop()
    tables = policy_tables(target)
    if not tables:
        raise BenchError(
            f"{target.label}: the migrated database has no row-level security policies"
        )
    return {
        "files": request_files(target, people, workdir),
        "tables": tables,
        "checks": checks,
        "people": people,
    }


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
        # mode -> (backend, its policies on?)
        modes: dict[str, tuple[ShipyardBackend, bool]] = {
            "with": (target, True),
            "without": (target, False),
        }
        if args.before:
            before = ShipyardBackend(cluster, workdir, args.before.resolve())
            before.name, before.database = "shipyard-before", "shipyard_before"
            before.workdir = workdir / before.name
            before.project = before.workdir / "app"
            modes["before"] = (before, True)
        backends = list(dict.fromkeys(backend for backend, _ in modes.values()))
        ready = {backend.name: prepared(backend, args, workdir) for backend in backends}
        for backend in backends:
            backend.start(args.processes)
        try:
            measured: dict[str, dict[str, list[Measured]]] = {
                op: {mode: [] for mode in modes} for op in ops
            }
            names = list(modes)
            turn = 0
            for _ in range(args.rounds):
                for op in ops:
                    # Who goes first rotates, so load from elsewhere falls on every mode alike.
                    order = names[turn % len(names) :] + names[: turn % len(names)]
                    turn += 1
                    for mode in order:
                        backend, on = modes[mode]
                        set_policies(backend, ready[backend.name]["tables"], on=on)
                        result = measure_one(backend, op, ready[backend.name]["files"], args)
                        say(
                            f"{op} {mode}: {result.requests_per_s:.0f} req/s, "
                            f"p50 {result.p50_ms} ms, CPU/request: server {result.server_cpu_ms} ms, "
                            f"PostgreSQL {result.db_cpu_ms} ms, {result.errors + result.non_2xx} errors"
                        )
                        measured[op][mode].append(result)
            set_policies(target, ready[target.name]["tables"], on=True)
        finally:
            for backend in backends:
                backend.stop()
        statements: dict[str, Any] = {}
        if args.statement_batches:
            say("Statements on one connection as the API's role, no HTTP")
            statements = asyncio.run(
                statement_figures(
                    target,
                    ready[target.name]["tables"],
                    ready[target.name]["people"],
                    args.statement_batches,
                    args.statements_per_batch,
                )
            )
        runs: dict[str, dict[str, Any]] = {}
        for op, by_mode in measured.items():
            if not args.rounds:
                break  # --rounds 0: the statement-level figures only
            runs[op] = {mode: summarise(results) for mode, results in by_mode.items()}
            pairs = [("ratio", "with", "without")]
            if "before" in by_mode:
                pairs.append(("after/before", "with", "before"))
            for label, top, bottom in pairs:
                a, b = runs[op][top], runs[op][bottom]
                runs[op][label] = {
                    key: round(a[key] / b[key], 3) if b[key] else None
                    for key in (
                        "requests_per_s",
                        "p50_ms",
                        "server_cpu_ms",
                        "db_cpu_ms",
                        "least_server_cpu_ms",
                        "least_db_cpu_ms",
                    )
                }
        results = {
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "note": args.note,
            "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
            "postgresql": cluster.version,
            "policy_tables": ready[target.name]["tables"],
            "checks": ready[target.name]["checks"],
            "runs": runs,
            "statements": statements,
            "elapsed_s": round(time.monotonic() - started),
        }
        if runs:
            print(table(runs))
        if statements:
            print(statement_table(statements))
        out = args.out or HERE / "results" / f"rls-{stamp}.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(results, indent=2) + "\n")
        say(f"Wrote {out} ({results['elapsed_s']} s)")
        errors = sum(runs[op][mode]["errors"] for op in runs for mode in modes)
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
