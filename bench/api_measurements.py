"""The API benchmark's four measurements, each against a running stack, each adding its rows
to a `Report`: first-epoch latency, status while training, many watchers, submissions.

Used by `bench/api_latency.py`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import statistics
import time
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
from stack_probe import ROOT

from mlcanvas.jobs.event_log import EventLog

DRAIN_LIMIT = 2  # runs at once while the submissions drain: 50 forked runs on 2 shared cores
STATUS_EPOCHS = 2000  # outlasts the status samples by far; the jobs are stopped afterwards
WATCHED_EPOCHS = 10
PARKED = {"type": "SCHEDULED", "state_details": {"scheduled_time": "2099-01-01T00:00:00Z"}}

log = logging.getLogger("bench.api_measurements")


class Report:
    """The rows of the Markdown table the run prints: measure, result, target and verdict."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, str, str]] = []

    def add(self, measure: str, result: str, target: str = "", ok: bool | None = None) -> None:
        if ok is not None:
            target = f"{target} ({'met' if ok else 'MISSED'})"
        self.rows.append((measure, result.replace("|", "/"), target))

    def markdown(self) -> str:
        lines = ["| measure | result | target |", "|---|---|---|"]
        lines += [f"| {measure} | {result} | {target} |" for measure, result, target in self.rows]
        return "\n".join(lines) + "\n"


def percentile(values: list[float], q: float) -> float:
    """Nearest rank: p99 of 300 samples is the 297th smallest."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds >= 0.1 else f"{seconds * 1000:.1f} ms"


def spread(values: list[float]) -> str:
    """p50 / p95 / p99 in ms."""
    return " / ".join(ms(percentile(values, q)) for q in (50, 95, 99))


def digits_graph(epochs: int) -> dict[str, Any]:
    graph = json.loads((ROOT / "examples" / "digits_mlp.json").read_text())
    graph["training"]["epochs"] = epochs
    return graph


async def first_epoch_latency(
    report: Report, client: httpx.AsyncClient, prefect: httpx.AsyncClient, ws: str,
    events: EventLog, runs: int,
) -> None:  # fmt: skip
    """Each job starts once the one before is Completed in Prefect; then 3 at once."""
    graph = digits_graph(2)
    warm = await timed_job(client, ws, graph)
    await wait_terminal(client, [warm.job_id])
    report.add("first job after start: POST -> first `epoch_update`", f"{warm.first_epoch:.2f} s")
    jobs = []
    for _ in range(runs):
        jobs.append(await timed_job(client, ws, graph))
        await wait_terminal(client, [jobs[-1].job_id])
        log.info("sequential job: first epoch_update after %.2f s", jobs[-1].first_epoch)
    firsts = [j.first_epoch for j in jobs]
    p50 = statistics.median(firsts)
    report.add(
        f"POST -> first `epoch_update` at a watcher, {runs} sequential jobs, p50 (max)",
        f"{p50:.2f} s ({max(firsts):.2f} s)", "<= 3 s", p50 <= 3,
    )  # fmt: skip
    parts = [await breakdown(prefect, events, j) for j in jobs]
    for key in parts[0]:
        report.add(f"  p50: {key}", f"{statistics.median(p[key] for p in parts):.2f} s")
    together = await asyncio.gather(*(timed_job(client, ws, graph) for _ in range(3)))
    await wait_terminal(client, [j.job_id for j in together])
    slowest = max(together, key=lambda j: j.first_epoch)
    log.info("3 at once: slowest first epoch_update after %.2f s", slowest.first_epoch)
    report.add(
        "3 jobs submitted at once: slowest POST -> first `epoch_update`",
        f"{slowest.first_epoch:.2f} s", "<= 5 s", slowest.first_epoch <= 5,
    )  # fmt: skip
    for key, value in (await breakdown(prefect, events, slowest)).items():
        report.add(f"  slowest: {key}", f"{value:.2f} s")


async def status_while_training(
    report: Report, client: httpx.AsyncClient, prefect: httpx.AsyncClient, events: EventLog,
    samples: int,
) -> None:  # fmt: skip
    """GET status alternately for two training jobs; the same Prefect read straight after each."""
    ids = [(await submit(client, digits_graph(STATUS_EPOCHS)))[0] for _ in range(2)]
    deadline = time.monotonic() + 120
    while not all(["epoch_update" in await event_times(events, i) for i in ids]):
        if time.monotonic() > deadline:
            raise TimeoutError("the two status-phase jobs never started training")
        await asyncio.sleep(0.2)
    api_times, prefect_times, statuses, busy = [], [], set(), 0
    for n in range(samples):
        job_id = ids[n % 2]
        started = time.perf_counter()
        reply = await client.get("/api/model/status", params={"job_id": job_id})
        api_times.append(time.perf_counter() - started)
        statuses.add(reply.json()["status"])
        started = time.perf_counter()
        busy += (await prefect_call(prefect, "GET", f"/flow_runs/{UUID(job_id)}"))[1]
        prefect_times.append(time.perf_counter() - started)
    stop_at = time.time()
    for job_id in ids:
        await client.post("/api/model/stop", json={"job_id": job_id})
    ended = await wait_terminal(client, ids)
    done = max([(await event_times(events, i)).get("training_done", math.nan) for i in ids])
    final = max([max((await state_times(prefect, i)).values()) for i in ids])
    p99 = percentile(api_times, 99)
    report.add(
        f"GET /api/model/status while 2 jobs train, {samples} requests, p50 / p95 / p99",
        spread(api_times), "p99 < 50 ms", p99 < 0.05,
    )  # fmt: skip
    report.add(
        "  the same flow-run read straight from Prefect, p50 / p95 / p99 (busy retries)",
        f"{spread(prefect_times)} ({busy})",
    )
    report.add("  statuses the samples saw", ", ".join(sorted(statuses)))
    report.add(
        "  POST /stop both -> last `training_done` written / both final in Prefect",
        f"{done - stop_at:.2f} s / {final - stop_at:.2f} s, {sorted(ended.values())}",
    )


async def many_watchers(
    report: Report, client: httpx.AsyncClient, stack: Any, events: EventLog, count: int
) -> None:
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
    report.add(
        f"{count} watchers of one {WATCHED_EPOCHS}-epoch job: same complete sequence, close 1000",
        f"{'PASS' if ok else 'FAIL'} ({len(seen)} complete, {len(failed)} failed)", "all", ok,
    )  # fmt: skip
    if failed:
        report.add("  first failure", failed[0][:200])
    if not seen:
        return
    written = await asyncio.to_thread(events.read, job_id)
    lags = [  # live deliveries only: events written after this watcher's ws_connected
        w.received[i + 1] - event.created_at
        for w in seen
        for i, event in enumerate(written[: len(w.received) - 1])
        if event.created_at > w.received[0]
    ]
    closed = max(w.received[-1] for w in seen)
    connected = max(w.received[0] for w in seen) - started
    report.add("  last watcher's `ws_connected` after the POST", f"{connected:.2f} s")
    report.add(
        "  live delivery, event written -> at a watcher, p50 / p95 / p99",
        f"{spread(lags)} ({len(lags)} deliveries)" if lags else "n/a",
    )
    report.add(
        "  `training_done` written -> at the last watcher", ms(closed - written[-1].created_at)
    )
    report.add(
        "  POST -> last stream closed; API CPU meanwhile",
        f"{closed - started:.1f} s; {api_cpu:.1f} s",
    )


async def cancel_queued(prefect: httpx.AsyncClient, ids: list[str]) -> int:
    """Bench housekeeping: the runs of `ids` not started yet are cancelled in Prefect."""
    cancelled = 0
    for job_id in ids:
        run = (await prefect_call(prefect, "GET", f"/flow_runs/{UUID(job_id)}"))[0].json()
        if run["state"]["type"] == "SCHEDULED":
            cancel = {"state": {"type": "CANCELLED", "message": "bench: queue drained"}}
            path = f"/flow_runs/{UUID(job_id)}/set_state"
            reply, _ = await prefect_call(prefect, "POST", path, json=cancel)
            cancelled += reply.json().get("status") == "ACCEPT"
    return cancelled


async def submissions(
    report: Report, client: httpx.AsyncClient, prefect: httpx.AsyncClient, stack: Any, count: int
) -> None:
    """POST /train `count` times with the work pool paused (nothing trains: the API and
    Prefect alone), cancelling those runs; then `count` times again while the runs execute
    2 at once. Then, while the queue those POSTs left keeps training, the same flow-run
    creation `count` times straight at Prefect (scheduled for 2099, deleted afterwards): a
    pass of its own, because each one doubles the Prefect server's load for the POST beside
    it. Then cancel what is still queued and drain."""
    pool = f"/work_pools/{stack.env['MLCANVAS_WORK_POOL']}"
    graph = digits_graph(1)
    await prefect_call(prefect, "PATCH", pool, json={"is_paused": True})
    quiet_ids, quiet_times = [], []
    for _ in range(count):
        job_id, elapsed = await submit(client, graph)
        quiet_ids.append(job_id)
        quiet_times.append(elapsed)
    await cancel_queued(prefect, quiet_ids)
    report.add(
        f"POST /api/model/train, {count} sequential submissions, pool paused (nothing "
        "training), p50 / p95 / p99",
        spread(quiet_times), "p50 < 50 ms", statistics.median(quiet_times) < 0.05,
    )  # fmt: skip
    await prefect_call(
        prefect, "PATCH", pool, json={"is_paused": False, "concurrency_limit": DRAIN_LIMIT}
    )
    deployment = (await prefect_call(prefect, "GET", "/deployments/name/train-nn/train-nn"))[0]
    create = f"/deployments/{deployment.json()['id']}/create_flow_run"
    body = {"parameters": {"graph": graph}, "state": PARKED, "tags": ["bench"]}
    ids, api_times, parked, prefect_times, busy = [], [], [], [], 0
    for _ in range(count):
        job_id, elapsed = await submit(client, graph)
        ids.append(job_id)
        api_times.append(elapsed)
    for _ in range(count):
        started = time.perf_counter()
        reply, retries = await prefect_call(prefect, "POST", create, json=body)
        prefect_times.append(time.perf_counter() - started)
        parked.append(reply.json()["id"])
        busy += retries
    collided = 0  # three at once, as three users' POSTs would
    for _ in range(10):
        burst = (prefect.post(create, json=body) for _ in range(3))
        replies = await asyncio.gather(*burst, return_exceptions=True)
        landed = [r for r in replies if isinstance(r, httpx.Response) and r.is_success]
        collided += len(replies) - len(landed)  # 503s and dropped connections
        parked += [r.json()["id"] for r in landed]
    for run_id in parked:
        await prefect_call(prefect, "DELETE", f"/flow_runs/{run_id}")
    drain_started = time.perf_counter()
    cancelled = await cancel_queued(prefect, ids)
    ended = await wait_terminal(client, ids, 300)
    outcome = {s: list(ended.values()).count(s) for s in sorted(set(ended.values()))}
    p50 = statistics.median(api_times)
    report.add(
        f"POST /api/model/train, {count} sequential submissions while the runs train "
        f"({DRAIN_LIMIT} at once), p50 / p95 / p99",
        spread(api_times), "p50 < 50 ms", p50 < 0.05,
    )  # fmt: skip
    report.add(
        "  then the same flow-run creation straight at Prefect while the queue trains, "
        "p50 / p95 / p99 (busy retries)",
        f"{spread(prefect_times)} ({busy})",
    )
    report.add(
        "  3 creations at once straight at Prefect, 10 rounds: busy answers", f"{collided} of 30"
    )
    report.add(
        f"  then {cancelled} queued cancelled, the rest ran ({DRAIN_LIMIT} at once); all ended",
        f"{time.perf_counter() - drain_started:.0f} s, {outcome}",
    )
