"""Issue 4's API benchmark: one bounded run against the real stack, loopback only.

Starts Prefect, the executor (worker + warm forkserver) and the API on free 127.0.0.1 ports
with the e2e starter, then an MLflow server (what `make serve` also runs, for the memory
figure); measures; stops every child by PID at the end, also on errors, and keeps the stack's
logs. Beside the API's figures it times the same calls made straight to Prefect, so the
report can say where the time goes. Figures go in docs/benchmarks.md.

usage: uv run python bench/api_latency.py [--submissions 50] [--sequential 10] [--watchers 100]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import psutil
from api_measurements import (
    Report,
    first_epoch_latency,
    many_watchers,
    status_while_training,
    submissions,
)
from stack_probe import (
    MIB,
    ROOT,
    ProcessMemory,
    idle_cpu_share,
    load_stack_module,
    measure_memory,
    start_mlflow,
    stop_everything,
    wait_for_runs_to_exit,
)

from mlcanvas.jobs.event_log import EventLog

MEASURE_BUDGET = 1200.0  # every measurement after the stack is up
BASE_PARTS = ["prefect", "executor", "api"]

log = logging.getLogger("bench.api_latency")


def report_memory(
    report: Report, label: str, memory: dict[str, list[ProcessMemory]], parts: list[str]
) -> None:
    rss = sum(p.rss for name in parts for p in memory.get(name, []))
    pss = sum(p.pss for name in parts for p in memory.get(name, []))
    total = f"{rss / MIB:.0f} MiB ({pss / MIB:.0f} MiB)"
    report.add(
        f"{label}: {' + '.join(parts)}, RSS (PSS)", total, "<= 1536 MiB RSS", rss <= 1536 * MIB
    )
    for name in parts:
        detail = ", ".join(f"{p.label} {p.rss / MIB:.0f}" for p in memory.get(name, []))
        report.add(f"  {name}: RSS MiB per process", detail)


async def measure(report: Report, stack: Any, args: argparse.Namespace) -> None:
    events = EventLog(f"sqlite:///{stack.data_dir / 'events.db'}")
    # uvicorn drops keep-alive connections idle for 5 s; never reuse one it may have dropped
    options: dict[str, Any] = {"timeout": 60, "limits": httpx.Limits(keepalive_expiry=2)}
    prefect_url = f"http://127.0.0.1:{stack.prefect_port}/api"
    async with (
        httpx.AsyncClient(base_url=stack.api, **options) as client,
        httpx.AsyncClient(base_url=prefect_url, **options) as prefect,
    ):
        await first_epoch_latency(report, client, prefect, stack.ws, events, args.sequential)
        await status_while_training(report, client, prefect, events, args.status_samples)
        await many_watchers(report, client, stack, events, args.watchers)
        await submissions(report, client, prefect, stack, args.submissions)


def report_prefect_log(report: Report, stack: Any) -> None:
    """Prefect's SQLite contention as its server logged it."""
    text = (stack.logs / "prefect.log").read_text(errors="replace")
    counts = [
        text.count("Encountered retryable exception in request"),  # answered 503
        text.count("Exception in ASGI application"),  # and then dropped the connection
        text.count("database is locked"),
    ]
    report.add(
        "Prefect server log: 503s / connections dropped / 'database is locked' lines",
        " / ".join(map(str, counts)),
    )


def run(report: Report, stack_module: Any, tmp: Path, args: argparse.Namespace) -> None:
    stack = stack_module.make_stack(tmp)
    stack.env["PREFECT_API_LOG_RETRYABLE_ERRORS"] = "true"  # Prefect logs each 503 it answers
    try:
        started = time.perf_counter()
        stack.start_prefect()
        prefect_up = time.perf_counter() - started
        stack.start_executor(wait=False)
        stack.start_api()
        api_up = time.perf_counter() - started
        stack.wait_executor()
        all_up = time.perf_counter() - started
        log.info("stack healthy after %.1f s", all_up)
        time.sleep(5)  # the worker starts once the forkserver is up: let it settle
        idle = measure_memory(stack)
        mlflow_up = start_mlflow(stack, stack_module)
        report.add(
            "stack start -> all healthy (Prefect, executor forkserver, API)", f"{all_up:.1f} s"
        )
        report.add(
            "  Prefect healthy / API healthy (needs the executor's deployments)",
            f"{prefect_up:.1f} s / {api_up:.1f} s",
        )
        report.add(
            "  MLflow server (`make serve` runs it too), started afterwards", f"{mlflow_up:.1f} s"
        )
        report_memory(report, "idle after start", idle, BASE_PARTS)
        asyncio.run(asyncio.wait_for(measure(report, stack, args), MEASURE_BUDGET))
        wait_for_runs_to_exit(stack)
        idle_cpu = idle_cpu_share(stack, 10)
        shares = ", ".join(f"{name} {share * 100:.0f}%" for name, share in idle_cpu.items())
        report.add("idle after the jobs: CPU, share of one core over 10 s", shares)
        after = measure_memory(stack)
        report_memory(report, "idle after the jobs", after, BASE_PARTS)
        with_mlflow = Report()
        report_memory(with_mlflow, "idle after the jobs", after, [*BASE_PARTS, "mlflow"])
        report.rows += [with_mlflow.rows[0], with_mlflow.rows[-1]]
        report_prefect_log(report, stack)
    except BaseException:
        for path in sorted(stack.logs.glob("*.log")):
            log.error("--- %s\n%s", path.name, path.read_text(errors="replace")[-3000:])
        raise
    finally:
        stop_everything(stack)


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=50)
    parser.add_argument("--sequential", type=int, default=10)
    parser.add_argument("--watchers", type=int, default=100)
    parser.add_argument("--status-samples", type=int, default=300)
    args = parser.parse_args()
    load_before = os.getloadavg()
    started = time.perf_counter()
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    tmp = Path(tempfile.mkdtemp(prefix="mlcanvas-apibench-"))
    kept = Path(tempfile.gettempdir()) / f"mlcanvas-apibench-logs-{int(time.time())}"
    report = Report()
    try:
        run(report, load_stack_module(), tmp, args)
    finally:
        shutil.copytree(tmp / "logs", kept, dirs_exist_ok=True)
        shutil.rmtree(tmp, ignore_errors=True)
        log.info("the stack's logs are in %s", kept)
    load_after = os.getloadavg()
    sys.stdout.write(
        f"\ncommit {commit} (+ working tree); {os.cpu_count()} CPUs, "
        f"{psutil.virtual_memory().total / 1024**3:.0f} GiB RAM; 1-min load average "
        f"{load_before[0]:.1f} before, {load_after[0]:.1f} after; "
        f"bench took {time.perf_counter() - started:.0f} s\n\n{report.markdown()}"
    )


if __name__ == "__main__":
    main()
