"""The benchmark's view of jobs: submit over HTTP, watch over the websocket, and read when each
step happened from Prefect's state history and the job event log.

Used by `bench/api_latency.py`.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import httpx
from websockets.asyncio.client import connect

from mlcanvas.jobs.event_log import EventLog

JOB_TIMEOUT = 180.0  # one tiny digits job, POST to the close of its websocket
TERMINAL = {"completed", "stopped", "failed"}


@dataclass
class Watch:
    messages: list[dict[str, Any]]
    received: list[float]  # time.time() at each message
    close_code: int | None


@dataclass
class TimedJob:
    job_id: str
    t0: float  # time.time() just before the POST
    post: float  # seconds the POST took
    first_epoch: float  # seconds from t0 to the first `epoch_update` at the watcher


async def watch(ws_base: str, job_id: str) -> Watch:
    messages, received = [], []
    async with connect(f"{ws_base}/ws/training/{job_id}", open_timeout=60, max_size=None) as ws:
        async for raw in ws:
            received.append(time.time())
            messages.append(json.loads(raw))
    return Watch(messages, received, ws.close_code)


async def submit(client: httpx.AsyncClient, graph: dict[str, Any]) -> tuple[str, float]:
    """POST /train; the job id and the seconds it took."""
    started = time.perf_counter()
    reply = await client.post("/api/model/train", json=graph)
    elapsed = time.perf_counter() - started
    if reply.status_code != 200:
        raise RuntimeError(f"POST /train answered {reply.status_code}: {reply.text}")
    return reply.json()["job_id"], elapsed


async def timed_job(client: httpx.AsyncClient, ws_base: str, graph: dict[str, Any]) -> TimedJob:
    """POST, watch at once, follow to the end of the stream."""
    t0 = time.time()
    job_id, post = await submit(client, graph)
    seen = await asyncio.wait_for(watch(ws_base, job_id), JOB_TIMEOUT)
    types = [m["type"] for m in seen.messages]
    if "epoch_update" not in types or types[-1] != "training_done":
        raise RuntimeError(f"job {job_id} streamed {types}: {seen.messages[-1]}")
    return TimedJob(job_id, t0, post, seen.received[types.index("epoch_update")] - t0)


async def prefect_call(
    prefect: httpx.AsyncClient, method: str, url: str, **kwargs: Any
) -> tuple[httpx.Response, int]:
    """One Prefect REST call, retried while Prefect is busy: a 503 (its SQLite was locked) or
    a dropped connection. The reply and how many busy answers came first. Prefect's own client
    retries both too, but after ~2 s, 4 s, 8 s ..."""
    for busy in range(20):
        if busy:
            await asyncio.sleep(0.1)
        try:
            reply = await prefect.request(method, url, **kwargs)
        except (httpx.ReadError, httpx.RemoteProtocolError):
            continue
        if reply.status_code != 503:
            return reply.raise_for_status(), busy
    raise RuntimeError(f"Prefect stayed busy for twenty tries of {method} {url}")


async def state_times(prefect: httpx.AsyncClient, job_id: str) -> dict[str, float]:
    """When the run first entered each Prefect state type (epoch seconds)."""
    reply, _ = await prefect_call(
        prefect, "GET", "/flow_run_states/", params={"flow_run_id": str(UUID(job_id))}
    )
    stamps: dict[str, float] = {}
    for state in sorted(reply.json(), key=lambda s: s["timestamp"]):
        stamps.setdefault(state["type"], datetime.fromisoformat(state["timestamp"]).timestamp())
    return stamps


async def event_times(events: EventLog, job_id: str) -> dict[str, float]:
    """When each event type was first written (epoch seconds)."""
    written: dict[str, float] = {}
    for event in await asyncio.to_thread(events.read, job_id):
        written.setdefault(event.type, event.created_at)
    return written


async def breakdown(
    prefect: httpx.AsyncClient, events: EventLog, job: TimedJob
) -> dict[str, float]:
    """Seconds after the POST at which each step to the first epoch was done, then how long
    the run went on after its terminal message."""
    stamps = await state_times(prefect, job.job_id)
    written = await event_times(events, job.job_id)
    t0 = job.t0
    return {
        "POST answered (flow run created, bundle written)": job.post,
        "Pending: the worker took the run (polls every 0.5 s)": stamps["PENDING"] - t0,
        "Running: launcher, fork of the forkserver, Prefect engine": stamps["RUNNING"] - t0,
        "`training_backend` written (validate task done)": written["training_backend"] - t0,
        "first `epoch_update` written (dataset, compile, epoch 1)": written["epoch_update"] - t0,
        "first `epoch_update` at the watcher": job.first_epoch,
        "after the stream: `training_done` -> Completed (MLflow model logging)": stamps.get(
            "COMPLETED", math.nan
        )
        - written["training_done"],
    }


async def wait_terminal(
    client: httpx.AsyncClient, ids: list[str], timeout: float = JOB_TIMEOUT
) -> dict[str, str]:
    """Statuses of `ids` once all are terminal (or at the deadline), polled through the API."""
    deadline = time.monotonic() + timeout
    status: dict[str, str] = {}
    while True:
        for job_id in ids:
            if status.get(job_id) not in TERMINAL:
                reply = await client.get("/api/model/status", params={"job_id": job_id})
                status[job_id] = reply.json()["status"]
        if all(s in TERMINAL for s in status.values()) or time.monotonic() > deadline:
            return status
        await asyncio.sleep(0.5)
