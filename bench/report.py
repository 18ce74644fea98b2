"""The side-by-side table, the verdict per operation, and the JSON result."""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
from pathlib import Path
from typing import Any

GATED = ("create", "get", "list")  # login is bound by the password hash, by design
TARGET_RATIO = 1.5


def machine() -> dict[str, Any]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    wrk = ""
    if shutil.which("wrk"):
        out = subprocess.run(["wrk", "--version"], capture_output=True, text=True)
        wrk = (
            (out.stdout or out.stderr).splitlines()[0].split(" Copyright")[0]
            if (out.stdout or out.stderr)
            else ""
        )
    return {
        "cpu": model,
        "cores": len(os.sched_getaffinity(0)),
        "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "kernel": platform.release(),
        # Other work on the machine at the start: requests/s move with it, CPU per request less.
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "wrk": wrk,
    }


def verdicts(results: dict[str, Any]) -> list[dict[str, Any]]:
    """For each backend, process count and operation: its requests/s over Parse's, p99 and errors."""
    out = []
    runs = results["runs"]
    for name in [n for n in runs if n != "parse"]:
        for processes in results["settings"]["processes"]:
            for op in results["settings"]["operations"]:
                ours = runs[name].get(str(processes), {}).get(op)
                theirs = runs.get("parse", {}).get(str(processes), {}).get(op)
                if not ours or not theirs:
                    continue
                ratio = (
                    ours["requests_per_s"] / theirs["requests_per_s"]
                    if theirs["requests_per_s"]
                    else 0.0
                )
                row = {
                    "server": name,
                    "processes": processes,
                    "operation": op,
                    "ratio": round(ratio, 2),
                    # Parse's server CPU per request over ours: > 1 means we spend less.
                    "cpu_ratio": round(theirs["server_cpu_ms"] / ours["server_cpu_ms"], 2)
                    if ours.get("server_cpu_ms") and theirs.get("server_cpu_ms")
                    else None,
                    "p99_no_worse": ours["p99_ms"] <= theirs["p99_ms"],
                    "errors": ours["errors"] + theirs["errors"],
                    "gated": op in GATED,
                }
                row["pass"] = (not row["gated"]) or (
                    ratio >= TARGET_RATIO and row["p99_no_worse"] and row["errors"] == 0
                )
                out.append(row)
    return out


def table(results: dict[str, Any]) -> str:
    runs = results["runs"]
    lines = [
        f"{'procs':>5} {'operation':<9} {'server':<24} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}"
        f" {'cpu ms/req':>10} {'db ms/req':>9}",
    ]
    for processes in results["settings"]["processes"]:
        for op in results["settings"]["operations"]:
            for name in runs:
                m = runs.get(name, {}).get(str(processes), {}).get(op)
                if m:
                    lines.append(
                        f"{processes:>5} {op:<9} {name:<24} {m['requests_per_s']:>9.0f} {m['p50_ms']:>8.1f}"
                        f" {m['p99_ms']:>8.1f} {m['errors']:>7} {m.get('server_cpu_ms', 0):>10.2f}"
                        f" {m.get('db_cpu_ms', 0):>9.2f}"
                    )
    lines.append("")
    lines.append(
        f"{'server':<24} {'procs':>5} {'operation':<9} {'vs Parse':>8} {'cpu':>6}  p99 no worse  errors  verdict"
    )
    for v in results["verdicts"]:
        verdict = ("PASS" if v["pass"] else "FAIL") if v["gated"] else "(hash-bound)"
        lines.append(
            f"{v['server']:<24} {v['processes']:>5} {v['operation']:<9} {v['ratio']:>7.2f}x {v['cpu_ratio'] or 0:>5.2f}x  {v['p99_no_worse']!s:<12}  "
            f"{v['errors']:>6}  {verdict}"
        )
    return "\n".join(lines)


def write(results: dict[str, Any], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2) + "\n")
    return path
