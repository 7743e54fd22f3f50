"""Issue 4's API benchmark: one bounded run against the real stack, loopback only.

Starts Prefect, the executor (worker + warm forkserver) and the API on free 127.0.0.1 ports
with the e2e starter, then an MLflow server (what `make serve` also runs, for the memory
figure); measures; stops every child by PID at the end, also on errors. Beside each API figure
it times the same call made straight to Prefect, so the report can say where the time goes.
Figures go in docs/benchmarks.md.

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
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import psutil
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
from websockets.asyncio.client import connect

from mlcanvas.jobs.event_log import EventLog

JOB_TIMEOUT = 180.0  # one tiny digits job, POST to the close of its websocket
MEASURE_BUDGET = 1200.0  # every measurement after the stack is up
DRAIN_LIMIT = 2  # runs at once while the submissions drain: 50 forked runs on 2 shared cores
STATUS_EPOCHS = 60  # outlasts the status samples; the jobs are stopped afterwards
PARKED = {"type": "SCHEDULED", "state_details": {"scheduled_time": "2099-01-01T00:00:00Z"}}
TERMINAL = {"completed", "stopped", "failed"}
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
    return " / ".join(
        ms(q) for q in (percentile(values, 50), percentile(values, 95), percentile(values, 99))
    )


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def digits_graph(epochs: int) -> dict[str, Any]:
    graph = json.loads((ROOT / "examples" / "digits_mlp.json").read_text())
    graph["training"]["epochs"] = epochs
    return graph


def memory_rows(label: str, memory: dict[str, list[ProcessMemory]], parts: list[str]) -> list[Row]:
    rows: list[Row] = []
    for name in parts:
        procs = memory.get(name, [])
        detail = ", ".join(f"{p.label} {p.rss / MIB:.0f}" for p in procs)
        rows.append((f"  {label}: {name}, RSS MiB per process", detail, ""))
    rss = sum(p.rss for name in parts for p in memory.get(name, []))
    pss = sum(p.pss for name in parts for p in memory.get(name, []))
    ok = rss <= 1536 * MIB
    rows.insert(
        0,
        (
            f"{label}: {' + '.join(parts)}, RSS (PSS)",
            f"{rss / MIB:.0f} MiB ({pss / MIB:.0f} MiB)",
            f"<= 1536 MiB ({verdict(ok)})",
        ),
    )
    return rows


# --- jobs over HTTP and the websocket -----------------------------------------------------


@dataclass
class Watch:
    messages: list[dict[str, Any]]
    received: list[float]  # time.time() at each message
    close_code: int | None


async def watch(ws_base: str, job_id: str) -> Watch:
    messages, received = [], []
    async with connect(f"{ws_base}/ws/training/{job_id}", open_timeout=60, max_size=None) as ws:
        async for raw in ws:
            received.append(time.time())
            messages.append(json.loads(raw))
    return Watch(messages, received, ws.close_code)


async def submit(client: httpx.AsyncClient, graph: dict[str, Any]) -> tuple[str, float]:
    started = time.perf_counter()
    reply = await client.post("/api/model/train", json=graph)
    elapsed = time.perf_counter() - started
    if reply.status_code != 200:
        raise RuntimeError(f"POST /train answered {reply.status_code}: {reply.text}")
    return reply.json()["job_id"], elapsed


async def timed_job(
    client: httpx.AsyncClient, ws_base: str, graph: dict[str, Any]
) -> dict[str, Any]:
    """POST, watch at once, follow to the end; seconds from the POST to the first epoch."""
    t0 = time.time()
    job_id, post = await submit(client, graph)
    seen = await asyncio.wait_for(watch(ws_base, job_id), JOB_TIMEOUT)
    types = [m["type"] for m in seen.messages]
    if "epoch_update" not in types or types[-1] != "training_done":
        raise RuntimeError(f"job {job_id} streamed {types}: {seen.messages[-1]}")
    first = seen.received[types.index("epoch_update")]
    return {"job_id": job_id, "t0": t0, "post": post, "first_epoch": first - t0}


async def state_times(prefect: httpx.AsyncClient, job_id: str) -> dict[str, float]:
    """When the run first entered each Prefect state type (epoch seconds)."""
    reply = await prefect.get("/flow_run_states/", params={"flow_run_id": str(UUID(job_id))})
    stamps: dict[str, float] = {}
    for state in sorted(reply.json(), key=lambda s: s["timestamp"]):
        stamps.setdefault(state["type"], datetime.fromisoformat(state["timestamp"]).timestamp())
    return stamps


async def event_times(events: EventLog, job_id: str) -> dict[str, float]:
    """When each event type was first written, and `last` for the final event."""
    written: dict[str, float] = {}
    for event in await asyncio.to_thread(events.read, job_id):
        written.setdefault(event.type, event.created_at)
        written["last"] = event.created_at
    return written


async def breakdown(
    prefect: httpx.AsyncClient, events: EventLog, job: dict[str, Any]
) -> dict[str, float]:
    """Seconds after the POST at which each step to the first epoch was done."""
    stamps = await state_times(prefect, job["job_id"])
    written = await event_times(events, job["job_id"])
    t0 = job["t0"]
    return {
        "POST answered (flow run created, bundle written)": job["post"],
        "Pending: the worker took the run (polls every 0.5 s)": stamps["PENDING"] - t0,
        "Running: launcher, fork of the forkserver, Prefect engine": stamps["RUNNING"] - t0,
        "`training_backend` written (validate task done)": written["training_backend"] - t0,
        "first `epoch_update` written (dataset, compile, epoch 1)": written["epoch_update"] - t0,
        "first `epoch_update` at the watcher": job["first_epoch"],
    }


async def wait_terminal(
    client: httpx.AsyncClient, ids: list[str], timeout: float
) -> dict[str, str]:
    """Statuses of `ids` once all are terminal (or at the deadline); one list call a second."""
    deadline = time.monotonic() + timeout
    while True:
        jobs = (await client.get("/api/jobs", params={"limit": 200})).json()["jobs"]
        status = {j["job_id"]: j["status"] for j in jobs if j["job_id"] in ids}
        if all(status.get(i) in TERMINAL for i in ids) or time.monotonic() > deadline:
            return status
        await asyncio.sleep(1)


# --- the measurements ---------------------------------------------------------------------


async def first_epoch_latency(
    client: httpx.AsyncClient, prefect: httpx.AsyncClient, ws_base: str, events: EventLog, runs: int
) -> list[Row]:
    graph = digits_graph(2)
    warm = await timed_job(client, ws_base, graph)
    log.info("warm-up job: first epoch_update after %.2f s", warm["first_epoch"])
    jobs = []
    for _ in range(runs):
        jobs.append(await timed_job(client, ws_base, graph))
        log.info("sequential job: first epoch_update after %.2f s", jobs[-1]["first_epoch"])
    firsts = [j["first_epoch"] for j in jobs]
    p50 = statistics.median(firsts)
    rows: list[Row] = [
        ("first job after start: POST -> first `epoch_update`", f"{warm['first_epoch']:.2f} s", ""),
        (
            f"POST -> first `epoch_update` at a watcher, {runs} sequential jobs, p50 (max)",
            f"{p50:.2f} s ({max(firsts):.2f} s)",
            f"<= 3 s ({verdict(p50 <= 3)})",
        ),
    ]
    parts = [await breakdown(prefect, events, j) for j in jobs]
    for key in parts[0]:
        rows.append((f"  p50 t+ {key}", f"{statistics.median(p[key] for p in parts):.2f} s", ""))
    together = await asyncio.gather(*(timed_job(client, ws_base, graph) for _ in range(3)))
    slowest = max(together, key=lambda j: j["first_epoch"])
    log.info("3 at once: slowest first epoch_update after %.2f s", slowest["first_epoch"])
    rows.append(
        (
            "3 jobs submitted at once: slowest POST -> first `epoch_update`",
            f"{slowest['first_epoch']:.2f} s",
            f"<= 5 s ({verdict(slowest['first_epoch'] <= 5)})",
        )
    )
    for key, value in (await breakdown(prefect, events, slowest)).items():
        rows.append((f"  slowest t+ {key}", f"{value:.2f} s", ""))
    return rows


async def _all_training(events: EventLog, ids: list[str]) -> bool:
    for job_id in ids:
        if "epoch_update" not in await event_times(events, job_id):
            return False
    return True


async def status_while_training(
    client: httpx.AsyncClient, prefect: httpx.AsyncClient, events: EventLog, samples: int
) -> list[Row]:
    """GET status alternately for two training jobs; the same Prefect read straight after each."""
    ids = [(await submit(client, digits_graph(STATUS_EPOCHS)))[0] for _ in range(2)]
    deadline = time.monotonic() + JOB_TIMEOUT
    while not await _all_training(events, ids):
        if time.monotonic() > deadline:
            raise TimeoutError("the two status-phase jobs never started training")
        await asyncio.sleep(0.2)
    api_times, prefect_times, last = [], [], {}
    for n in range(samples):
        job_id = ids[n % 2]
        started = time.perf_counter()
        reply = await client.get("/api/model/status", params={"job_id": job_id})
        api_times.append(time.perf_counter() - started)
        last[job_id] = reply.json()["status"]
        started = time.perf_counter()
        (await prefect.get(f"/flow_runs/{UUID(job_id)}")).raise_for_status()
        prefect_times.append(time.perf_counter() - started)
    training = all(s == "running" for s in last.values())
    stop_at = time.time()
    for job_id in ids:
        await client.post("/api/model/stop", json={"job_id": job_id})
    ended = await wait_terminal(client, ids, JOB_TIMEOUT)
    done = [await event_times(events, i) for i in ids]
    final = [await state_times(prefect, i) for i in ids]
    p99 = percentile(api_times, 99)
    return [
        (
            f"GET /api/model/status while 2 jobs train, {samples} requests, p50 / p95 / p99",
            spread(api_times),
            f"p99 < 50 ms ({verdict(p99 < 0.05)})",
        ),
        (
            "  the same flow-run read straight from Prefect, p50 / p95 / p99",
            spread(prefect_times),
            "",
        ),
        (
            "  both jobs still training after the last sample",
            "yes" if training else f"no: {last}",
            "",
        ),
        (
            "  POST /stop both -> last `training_done` written / both terminal in Prefect",
            f"{max(d.get('training_done', math.nan) for d in done) - stop_at:.2f} s / "
            f"{max(max(f.values()) for f in final) - stop_at:.2f} s, {sorted(ended.values())}",
            "",
        ),
    ]


async def many_watchers(
    client: httpx.AsyncClient, stack: Any, events: EventLog, count: int
) -> list[Row]:
    epochs = 10
    api = psutil.Process(stack.procs["api"].pid)
    cpu_before = sum(api.cpu_times()[:2])
    job_id, _ = await submit(client, digits_graph(epochs))
    started = time.time()
    results = await asyncio.wait_for(
        asyncio.gather(*(watch(stack.ws, job_id) for _ in range(count)), return_exceptions=True),
        JOB_TIMEOUT,
    )
    api_cpu = sum(api.cpu_times()[:2]) - cpu_before
    seen = [r for r in results if isinstance(r, Watch)]
    failed = [repr(r) for r in results if not isinstance(r, Watch)]
    expected = ["ws_connected", "training_backend", *["epoch_update"] * epochs, "training_done"]
    reference = seen[0].messages[1:] if seen else []
    complete = all(
        [m["type"] for m in w.messages] == expected and w.close_code == 1000 for w in seen
    )
    identical = all(w.messages[1:] == reference and w.messages[0]["job_id"] == job_id for w in seen)
    ok = not failed and len(seen) == count and complete and identical
    written = await asyncio.to_thread(events.read, job_id)
    lags = [  # live deliveries only: events written after this watcher's ws_connected
        w.received[i + 1] - event.created_at
        for w in seen
        for i, event in enumerate(written[: len(w.received) - 1])
        if event.created_at > w.received[0]
    ]
    rows: list[Row] = [
        (
            f"{count} watchers of one {epochs}-epoch job: identical complete sequence, close 1000",
            f"{'PASS' if ok else 'FAIL'} ({len(seen)} ok, {len(failed)} failed)",
            verdict(ok),
        ),
    ]
    if seen:
        rows += [
            (
                "  last watcher's `ws_connected` after the POST",
                f"{max(w.received[0] for w in seen) - started:.2f} s",
                "",
            ),
            (
                "  live delivery, event written -> at each watcher, p50 / p95 / p99",
                f"{spread(lags)} ({len(lags)} deliveries)" if lags else "n/a",
                "",
            ),
            (
                "  `training_done` written -> at the last watcher",
                ms(max(w.received[-1] for w in seen) - written[-1].created_at),
                "",
            ),
            (
                "  POST -> all streams closed; API CPU over that time",
                f"{max(w.received[-1] for w in seen) - started:.1f} s; {api_cpu:.1f} s CPU",
                "",
            ),
        ]
    if failed:
        rows.append(("  first failure", failed[0][:200].replace("|", "/"), ""))
    return rows


async def submissions(
    client: httpx.AsyncClient, prefect: httpx.AsyncClient, stack: Any, count: int
) -> list[Row]:
    """POST /train `count` times; after each, the same flow-run creation straight at Prefect
    (scheduled for 2099, deleted afterwards). Then cancel what is still queued and drain."""
    pool = stack.env["MLCANVAS_WORK_POOL"]
    (
        await prefect.patch(f"/work_pools/{pool}", json={"concurrency_limit": DRAIN_LIMIT})
    ).raise_for_status()
    deployment = (await prefect.get("/deployments/name/train-nn/train-nn")).json()["id"]
    graph = digits_graph(1)
    ids, api_times, parked, prefect_times = [], [], [], []
    for _ in range(count):
        job_id, elapsed = await submit(client, graph)
        ids.append(job_id)
        api_times.append(elapsed)
        started = time.perf_counter()
        reply = await prefect.post(
            f"/deployments/{deployment}/create_flow_run",
            json={"parameters": {"graph": graph}, "state": PARKED, "tags": ["bench"]},
        )
        prefect_times.append(time.perf_counter() - started)
        parked.append(reply.raise_for_status().json()["id"])
    for run_id in parked:
        await prefect.delete(f"/flow_runs/{run_id}")
    drain_started = time.perf_counter()
    cancelled = 0
    for job_id in ids:  # bench housekeeping: runs not started yet are cancelled in Prefect
        state = (await prefect.get(f"/flow_runs/{UUID(job_id)}")).json()["state"]["type"]
        if state == "SCHEDULED":
            reply = await prefect.post(
                f"/flow_runs/{UUID(job_id)}/set_state",
                json={"state": {"type": "CANCELLED", "message": "bench"}},
            )
            cancelled += reply.json().get("status") == "ACCEPT"
    ended = await wait_terminal(client, ids, JOB_TIMEOUT)
    outcome = {s: list(ended.values()).count(s) for s in sorted(set(ended.values()))}
    p50 = statistics.median(api_times)
    return [
        (
            f"POST /api/model/train, {count} sequential submissions, p50 / p95 / p99",
            spread(api_times),
            f"p50 < 50 ms ({verdict(p50 < 0.05)})",
        ),
        (
            "  the same flow-run creation straight at Prefect, p50 / p95 / p99",
            spread(prefect_times),
            "",
        ),
        (
            f"  then {cancelled} queued cancelled, the rest ran ({DRAIN_LIMIT} at once): all ended",
            f"{time.perf_counter() - drain_started:.0f} s, {outcome}",
            "",
        ),
    ]


async def measure(stack: Any, args: argparse.Namespace) -> list[Row]:
    events = EventLog(f"sqlite:///{stack.data_dir / 'events.db'}")
    timeout = httpx.Timeout(60)
    prefect_url = f"http://127.0.0.1:{stack.prefect_port}/api"
    async with (
        httpx.AsyncClient(base_url=stack.api, timeout=timeout) as client,
        httpx.AsyncClient(base_url=prefect_url, timeout=timeout) as prefect,
    ):
        rows = await first_epoch_latency(client, prefect, stack.ws, events, args.sequential)
        rows += await status_while_training(client, prefect, events, args.status_samples)
        rows += await many_watchers(client, stack, events, args.watchers)
        rows += await submissions(client, prefect, stack, args.submissions)
    return rows


def run(stack_module: Any, tmp: Path, args: argparse.Namespace) -> list[Row]:
    stack = stack_module.make_stack(tmp)
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
        rows += memory_rows("idle after the jobs, with MLflow", after, ["mlflow"])[1:]
        return rows
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
    tmp = Path(tempfile.mkdtemp(prefix="mlcanvas-apibench-"))
    try:
        rows = run(load_stack_module(), tmp, args)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    load_after = os.getloadavg()
    out = sys.stdout
    out.write(
        f"\n{os.cpu_count()} CPUs, {psutil.virtual_memory().total / 1024**3:.0f} GiB RAM; "
        f"1-min load average {load_before[0]:.1f} before, {load_after[0]:.1f} after; "
        f"bench took {time.perf_counter() - started:.0f} s\n\n"
    )
    out.write("| measure | result | target |\n|---|---|---|\n")
    for metric, value, target in rows:
        out.write(f"| {metric} | {value} | {target} |\n")


if __name__ == "__main__":
    main()
