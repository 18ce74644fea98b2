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
        wrk = (out.stdout or out.stderr).splitlines()[0].split(" Copyright")[0] if (out.stdout or out.stderr) else ""
    return {
        "cpu": model,
        "cores": len(os.sched_getaffinity(0)),
        "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "wrk": wrk,
    }


def verdicts(results: dict[str, Any]) -> list[dict[str, Any]]:
    """For each process count and gated operation: ratio of requests/s, p99 and errors."""
    out = []
    runs = results["runs"]
    for processes in results["settings"]["processes"]:
        for op in results["settings"]["operations"]:
            key = f"{processes}"
            ours = runs.get("shipyard", {}).get(key, {}).get(op)
            theirs = runs.get("parse", {}).get(key, {}).get(op)
            if not ours or not theirs:
                continue
            ratio = ours["requests_per_s"] / theirs["requests_per_s"] if theirs["requests_per_s"] else 0.0
            row = {
                "processes": processes,
                "operation": op,
                "ratio": round(ratio, 2),
                "p99_no_worse": ours["p99_ms"] <= theirs["p99_ms"],
                "errors": ours["errors"] + theirs["errors"],
                "gated": op in GATED,
            }
            row["pass"] = (not row["gated"]) or (
                ratio >= TARGET_RATIO and row["p99_no_worse"] and ours["errors"] == 0 and theirs["errors"] == 0
            )
            out.append(row)
    return out


def table(results: dict[str, Any]) -> str:
    runs = results["runs"]
    lines = [
        f"{'procs':>5} {'operation':<9} {'server':<9} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}",
    ]
    for processes in results["settings"]["processes"]:
        for op in results["settings"]["operations"]:
            for name in ("parse", "shipyard"):
                m = runs.get(name, {}).get(str(processes), {}).get(op)
                if m:
                    lines.append(
                        f"{processes:>5} {op:<9} {name:<9} {m['requests_per_s']:>9.0f} {m['p50_ms']:>8.1f}"
                        f" {m['p99_ms']:>8.1f} {m['errors']:>7}"
                    )
    lines.append("")
    lines.append(f"{'procs':>5} {'operation':<9} {'ratio':>6}  p99 no worse  errors  verdict")
    for v in results["verdicts"]:
        verdict = ("PASS" if v["pass"] else "FAIL") if v["gated"] else "(hash-bound)"
        lines.append(
            f"{v['processes']:>5} {v['operation']:<9} {v['ratio']:>5.2f}x  {str(v['p99_no_worse']):<12}  "
            f"{v['errors']:>6}  {verdict}"
        )
    return "\n".join(lines)


def write(results: dict[str, Any], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2) + "\n")
    return path
