"""Issue 4's API benchmark: one bounded run against the real stack, loopback only.

Starts Prefect, the executor (worker + warm forkserver) and the API on free 127.0.0.1 ports
with the e2e starter, then an MLflow server (what `make serve` also runs, for the memory
figure); measures; stops every child by PID at the end, also on errors. Beside the API's
figures it times the same calls made straight to Prefect, so the report can say where the
time goes. Figures go in docs/benchmarks.md.

usage: uv run python bench/api_latency.py [--submissions 50] [--sequential 10] [--watchers 100]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import psutil
from job_probe import (
    Watch,
    breakdown,
    event_times,
    prefect_call,
    state_times,
    submit,
    timed_job,
    wait_terminal,
    watch,
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
DRAIN_LIMIT = 2  # runs at once while the submissions drain: 50 forked runs on 2 shared cores
STATUS_EPOCHS = 60  # outlasts the status samples; the jobs are stopped afterwards
WATCHED_EPOCHS = 10
PARKED = {"type": "SCHEDULED", "state_details": {"scheduled_time": "2099-01-01T00:00:00Z"}}
BASE_PARTS = ["prefect", "executor", "api"]

log = logging.getLogger("bench.api_latency")
Row = tuple[str, str, str]  # measure, result, target


def percentile(values: list[float], q: float) -> float:
    """Nearest rank: p99 of 300 samples is the 297th smallest."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds >= 0.1 else f"{seconds * 1000:.1f} ms"


def spread(values: list[float]) -> str:
    """p50 / p95 / p99 in ms."""
    return " / ".join(ms(percentile(values, q)) for q in (50, 95, 99))


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def digits_graph(epochs: int) -> dict[str, Any]:
    graph = json.loads((ROOT / "examples" / "digits_mlp.json").read_text())
    graph["training"]["epochs"] = epochs
    return graph


def memory_rows(label: str, memory: dict[str, list[ProcessMemory]], parts: list[str]) -> list[Row]:
    rss = sum(p.rss for name in parts for p in memory.get(name, []))
    pss = sum(p.pss for name in parts for p in memory.get(name, []))
    rows: list[Row] = [
        (
            f"{label}: {' + '.join(parts)}, RSS (PSS)",
            f"{rss / MIB:.0f} MiB ({pss / MIB:.0f} MiB)",
            f"<= 1536 MiB RSS ({verdict(rss <= 1536 * MIB)})",
        )
    ]
    for name in parts:
        detail = ", ".join(f"{p.label} {p.rss / MIB:.0f}" for p in memory.get(name, []))
        rows.append((f"  {name}: RSS MiB per process", detail, ""))
    return rows


# --- the measurements ---------------------------------------------------------------------


async def first_epoch_latency(
    client: httpx.AsyncClient, prefect: httpx.AsyncClient, ws: str, events: EventLog, runs: int
) -> list[Row]:
    """Each job starts once the one before is Completed in Prefect; then 3 at once."""
    graph = digits_graph(2)
    warm = await timed_job(client, ws, graph)
    await wait_terminal(client, [warm.job_id])
    log.info("warm-up job: first epoch_update after %.2f s", warm.first_epoch)
    jobs = []
    for _ in range(runs):
        jobs.append(await timed_job(client, ws, graph))
        await wait_terminal(client, [jobs[-1].job_id])
        log.info("sequential job: first epoch_update after %.2f s", jobs[-1].first_epoch)
    firsts = [j.first_epoch for j in jobs]
    p50 = statistics.median(firsts)
    rows: list[Row] = [
        ("first job after start: POST -> first `epoch_update`", f"{warm.first_epoch:.2f} s", ""),
        (
            f"POST -> first `epoch_update` at a watcher, {runs} sequential jobs, p50 (max)",
            f"{p50:.2f} s ({max(firsts):.2f} s)",
            f"<= 3 s ({verdict(p50 <= 3)})",
        ),
    ]
    parts = [await breakdown(prefect, events, j) for j in jobs]
    for key in parts[0]:
        rows.append((f"  p50: {key}", f"{statistics.median(p[key] for p in parts):.2f} s", ""))
    together = await asyncio.gather(*(timed_job(client, ws, graph) for _ in range(3)))
    await wait_terminal(client, [j.job_id for j in together])
    slowest = max(together, key=lambda j: j.first_epoch)
    log.info("3 at once: slowest first epoch_update after %.2f s", slowest.first_epoch)
    rows.append(
        (
            "3 jobs submitted at once: slowest POST -> first `epoch_update`",
            f"{slowest.first_epoch:.2f} s",
            f"<= 5 s ({verdict(slowest.first_epoch <= 5)})",
        )
    )
    for key, value in (await breakdown(prefect, events, slowest)).items():
        rows.append((f"  slowest: {key}", f"{value:.2f} s", ""))
    return rows


async def status_while_training(
    client: httpx.AsyncClient, prefect: httpx.AsyncClient, events: EventLog, samples: int
) -> list[Row]:
    """GET status alternately for two training jobs; the same Prefect read straight after each."""
    ids = [(await submit(client, digits_graph(STATUS_EPOCHS)))[0] for _ in range(2)]
    deadline = time.monotonic() + 120
    while not all(["epoch_update" in await event_times(events, i) for i in ids]):
        if time.monotonic() > deadline:
            raise TimeoutError("the two status-phase jobs never started training")
        await asyncio.sleep(0.2)
    api_times, prefect_times, last, busy = [], [], {}, 0
    for n in range(samples):
        job_id = ids[n % 2]
        started = time.perf_counter()
        reply = await client.get("/api/model/status", params={"job_id": job_id})
        api_times.append(time.perf_counter() - started)
        last[job_id] = reply.json()["status"]
        started = time.perf_counter()
        busy += (await prefect_call(prefect, "GET", f"/flow_runs/{UUID(job_id)}"))[1]
        prefect_times.append(time.perf_counter() - started)
    training = all(s == "running" for s in last.values())
    stop_at = time.time()
    for job_id in ids:
        await client.post("/api/model/stop", json={"job_id": job_id})
    ended = await wait_terminal(client, ids)
    done = max([(await event_times(events, i)).get("training_done", math.nan) for i in ids])
    final = max([max((await state_times(prefect, i)).values()) for i in ids])
    p99 = percentile(api_times, 99)
    return [
        (
            f"GET /api/model/status while 2 jobs train, {samples} requests, p50 / p95 / p99",
            spread(api_times),
            f"p99 < 50 ms ({verdict(p99 < 0.05)})",
        ),
        (
            "  the same flow-run read straight from Prefect, p50 / p95 / p99 (503s retried)",
            f"{spread(prefect_times)} ({busy})",
            "",
        ),
        ("  both jobs still training after the last sample", "yes" if training else str(last), ""),
        (
            "  POST /stop both -> last `training_done` written / both final in Prefect",
            f"{done - stop_at:.2f} s / {final - stop_at:.2f} s, {sorted(ended.values())}",
            "",
        ),
    ]


async def many_watchers(
    client: httpx.AsyncClient, stack: Any, events: EventLog, count: int
) -> list[Row]:
    api = psutil.Process(stack.procs["api"].pid)
    cpu_before = sum(api.cpu_times()[:2])
    job_id, _ = await submit(client, digits_graph(WATCHED_EPOCHS))
    started = time.time()
    results = await asyncio.wait_for(
        asyncio.gather(*(watch(stack.ws, job_id) for _ in range(count)), return_exceptions=True),
        180,
    )
    api_cpu = sum(api.cpu_times()[:2]) - cpu_before
    seen = [r for r in results if isinstance(r, Watch)]
    failed = [repr(r) for r in results if not isinstance(r, Watch)]
    expected = ["ws_connected", "training_backend"] + ["epoch_update"] * WATCHED_EPOCHS
    expected.append("training_done")
    reference = seen[0].messages[1:] if seen else []
    ok = not failed and len(seen) == count
    for w in seen:
        ok = ok and [m["type"] for m in w.messages] == expected and w.close_code == 1000
        ok = ok and w.messages[0]["job_id"] == job_id and w.messages[1:] == reference
    rows: list[Row] = [
        (
            f"{count} watchers of one {WATCHED_EPOCHS}-epoch job: "
            "identical complete sequence, close 1000",
            f"{'PASS' if ok else 'FAIL'} ({len(seen)} complete, {len(failed)} failed)",
            verdict(ok),
        )
    ]
    if failed:
        rows.append(("  first failure", failed[0][:200].replace("|", "/"), ""))
    if not seen:
        return rows
    written = await asyncio.to_thread(events.read, job_id)
    lags = [  # live deliveries only: events written after this watcher's ws_connected
        w.received[i + 1] - event.created_at
        for w in seen
        for i, event in enumerate(written[: len(w.received) - 1])
        if event.created_at > w.received[0]
    ]
    closed = max(w.received[-1] for w in seen)
    rows += [
        (
            "  last watcher's `ws_connected` after the POST",
            f"{max(w.received[0] for w in seen) - started:.2f} s",
            "",
        ),
        (
            "  live delivery, event written -> at a watcher, p50 / p95 / p99",
            f"{spread(lags)} ({len(lags)} deliveries)" if lags else "n/a",
            "",
        ),
        (
            "  `training_done` written -> at the last watcher",
            ms(closed - written[-1].created_at),
            "",
        ),
        (
            "  POST -> last stream ends; API CPU meanwhile",
            f"{closed - started:.1f} s; {api_cpu:.1f} s",
            "",
        ),
    ]
    return rows


async def submissions(
    client: httpx.AsyncClient, prefect: httpx.AsyncClient, stack: Any, count: int
) -> list[Row]:
    """POST /train `count` times; after each, the same flow-run creation straight at Prefect
    (scheduled for 2099, deleted afterwards). Then cancel what is still queued and drain."""
    pool = stack.env["MLCANVAS_WORK_POOL"]
    await prefect_call(
        prefect, "PATCH", f"/work_pools/{pool}", json={"concurrency_limit": DRAIN_LIMIT}
    )
    deployment = (await prefect_call(prefect, "GET", "/deployments/name/train-nn/train-nn"))[0]
    create = f"/deployments/{deployment.json()['id']}/create_flow_run"
    graph = digits_graph(1)
    body = {"parameters": {"graph": graph}, "state": PARKED, "tags": ["bench"]}
    ids, api_times, parked, prefect_times, busy = [], [], [], [], 0
    for _ in range(count):
        job_id, elapsed = await submit(client, graph)
        ids.append(job_id)
        api_times.append(elapsed)
        started = time.perf_counter()
        reply, retries = await prefect_call(prefect, "POST", create, json=body)
        prefect_times.append(time.perf_counter() - started)
        parked.append(reply.json()["id"])
        busy += retries
    collided = 0  # three at once, as three users' POSTs would
    for _ in range(10):
        replies = await asyncio.gather(*(prefect.post(create, json=body) for _ in range(3)))
        collided += sum(r.status_code == 503 for r in replies)
        parked += [r.json()["id"] for r in replies if r.is_success]
    for run_id in parked:
        await prefect_call(prefect, "DELETE", f"/flow_runs/{run_id}")
    drain_started = time.perf_counter()
    cancelled = 0
    for job_id in ids:  # bench housekeeping: runs not started yet are cancelled in Prefect
        run = (await prefect_call(prefect, "GET", f"/flow_runs/{UUID(job_id)}"))[0].json()
        if run["state"]["type"] == "SCHEDULED":
            reply, _ = await prefect_call(
                prefect,
                "POST",
                f"/flow_runs/{UUID(job_id)}/set_state",
                json={"state": {"type": "CANCELLED", "message": "bench: queue drained"}},
            )
            cancelled += reply.json().get("status") == "ACCEPT"
    ended = await wait_terminal(client, ids, 300)
    outcome = {s: list(ended.values()).count(s) for s in sorted(set(ended.values()))}
    p50 = statistics.median(api_times)
    return [
        (
            f"POST /api/model/train, {count} sequential submissions, p50 / p95 / p99",
            spread(api_times),
            f"p50 < 50 ms ({verdict(p50 < 0.05)})",
        ),
        (
            "  the same flow-run creation straight at Prefect, p50 / p95 / p99 (503s retried)",
            f"{spread(prefect_times)} ({busy})",
            "",
        ),
        ("  3 creations at once straight at Prefect, 10 rounds: 503s", f"{collided} of 30", ""),
        (
            f"  then {cancelled} queued cancelled, the rest ran ({DRAIN_LIMIT} at once); all ended",
            f"{time.perf_counter() - drain_started:.0f} s, {outcome}",
            "",
        ),
    ]


async def measure(stack: Any, args: argparse.Namespace) -> list[Row]:
    events = EventLog(f"sqlite:///{stack.data_dir / 'events.db'}")
    # uvicorn drops keep-alive connections idle for 5 s; never reuse one it may have dropped
    options: dict[str, Any] = {"timeout": 60, "limits": httpx.Limits(keepalive_expiry=2)}
    prefect_url = f"http://127.0.0.1:{stack.prefect_port}/api"
    async with (
        httpx.AsyncClient(base_url=stack.api, **options) as client,
        httpx.AsyncClient(base_url=prefect_url, **options) as prefect,
    ):
        rows = await first_epoch_latency(client, prefect, stack.ws, events, args.sequential)
        rows += await status_while_training(client, prefect, events, args.status_samples)
        rows += await many_watchers(client, stack, events, args.watchers)
        rows += await submissions(client, prefect, stack, args.submissions)
    return rows


def log_counts(stack: Any) -> list[Row]:
    """Prefect's SQLite contention, as the server logged it (every 503 it answered)."""
    text = (stack.logs / "prefect.log").read_text(errors="replace")
    busy = text.count("Encountered retryable exception in request")
    locked = text.count("database is locked")
    return [
        (
            "Prefect server: 503s answered / 'database is locked' in its log",
            f"{busy} / {locked}",
            "",
        )
    ]


def run(stack_module: Any, tmp: Path, args: argparse.Namespace) -> list[Row]:
    stack = stack_module.make_stack(tmp)
    stack.env["PREFECT_API_LOG_RETRYABLE_ERRORS"] = "true"  # count the 503s Prefect answers
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
        idle_cpu = idle_cpu_share(stack, 10)  # also lets start-up work settle before "idle"
        idle = measure_memory(stack)
        mlflow_up = start_mlflow(stack, stack_module)
        log.info("MLflow server healthy after %.1f s", mlflow_up)
        rows: list[Row] = [
            (
                "stack start -> all healthy (Prefect, executor forkserver, API)",
                f"{all_up:.1f} s",
                "",
            ),
            (
                "  Prefect healthy / API healthy (needs the executor's deployments)",
                f"{prefect_up:.1f} s / {api_up:.1f} s",
                "",
            ),
            (
                "  MLflow server (`make serve` runs it too), started afterwards",
                f"{mlflow_up:.1f} s",
                "",
            ),
            ("idle stack CPU (10 s, no job)", f"{idle_cpu * 100:.0f}% of one core", ""),
        ]
        rows += memory_rows("idle after start", idle, BASE_PARTS)
        rows += asyncio.run(asyncio.wait_for(measure(stack, args), MEASURE_BUDGET))
        wait_for_runs_to_exit(stack)
        after = measure_memory(stack)
        rows += memory_rows("idle after the jobs", after, BASE_PARTS)
        rows += memory_rows("idle after the jobs, with MLflow", after, [*BASE_PARTS, "mlflow"])[:1]
        rows += memory_rows("", after, ["mlflow"])[1:]
        return rows + log_counts(stack)
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
    try:
        rows = run(load_stack_module(), tmp, args)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    load_after = os.getloadavg()
    sys.stdout.write(
        f"\ncommit {commit} (+ working tree); {os.cpu_count()} CPUs, "
        f"{psutil.virtual_memory().total / 1024**3:.0f} GiB RAM; 1-min load average "
        f"{load_before[0]:.1f} before, {load_after[0]:.1f} after; "
        f"bench took {time.perf_counter() - started:.0f} s\n\n"
        "| measure | result | target |\n|---|---|---|\n"
    )
    for metric, value, target in rows:
        sys.stdout.write(f"| {metric} | {value} | {target} |\n")


if __name__ == "__main__":
    main()
