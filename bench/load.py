"""wrk runs: write the rotating requests file, run wrk with bench/lua/rotate.lua, read its JSON line."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path

from bench.procs import BenchError
from bench.targets import Raw

LUA = Path(__file__).resolve().parent / "lua" / "rotate.lua"


@dataclass
class Measured:
    requests_per_s: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    requests: int
    errors: int
    non_2xx: int
    duration_s: float
    # CPU time per request: the server's processes, and PostgreSQL's (both measured from /proc).
    # Unlike requests/s, this hardly moves when other work shares the machine.
    server_cpu_ms: float = 0.0
    db_cpu_ms: float = 0.0

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


def write_requests(path: Path, requests: list[Raw]) -> Path:
    lines = []
    for raw in requests:
        for part in (raw.path, raw.body, *raw.headers.values()):
            if "\t" in part or "\n" in part:
                raise BenchError(f"a request field holds a tab or newline: {part!r}")
        headers = [f"{name}: {value}" for name, value in raw.headers.items()]
        lines.append("\t".join([raw.method, raw.path, raw.body, *headers]))
    path.write_text("\n".join(lines) + "\n")
    return path


def wrk(
    base_url: str, requests_file: Path, *, seconds: int, connections: int, threads: int
) -> Measured:
    if not shutil.which("wrk"):
        raise BenchError("wrk was not found; bench/run installs it from Debian's packages.")
    argv = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "-s",
        str(LUA),
        base_url,
        "--",
        str(requests_file),
        str(threads),
    ]
    try:
        done = subprocess.run(
            argv, capture_output=True, text=True, timeout=seconds + 60, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise BenchError(f"wrk did not finish within {seconds + 60} s") from exc
    for line in done.stdout.splitlines():
        if line.startswith("WRK_RESULT "):
            data = json.loads(line.removeprefix("WRK_RESULT "))
            break
    else:
        raise BenchError(
            f"wrk printed no result ({done.returncode}):\n{done.stdout}\n{done.stderr}"
        )
    errors = data["errors"]
    duration = data["duration_us"] / 1e6
    lat = data["latency_us"]
    return Measured(
        requests_per_s=round(data["requests"] / duration, 1),
        p50_ms=round(lat["p50"] / 1000, 2),
        p90_ms=round(lat["p90"] / 1000, 2),
        p99_ms=round(lat["p99"] / 1000, 2),
        max_ms=round(lat["max"] / 1000, 2),
        requests=data["requests"],
        errors=sum(errors.values()),
        non_2xx=errors["status"],
        duration_s=round(duration, 2),
    )
