"""Issue 4's API benchmark: one bounded run against the real stack, loopback only.

Starts Prefect, the executor (worker + warm forkserver) and the API on free 127.0.0.1 ports with
the e2e starter (`tests/e2e/stack.py`), adds an MLflow server (what `make serve` also runs) for
the memory figure, measures, and stops every child by PID at the end, also on errors. Figures
go in docs/benchmarks.md.

usage: uv run python bench/api_latency.py [--submissions 50] [--sequential 10] [--watchers 100]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
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
from websockets.asyncio.client import connect

from mlcanvas.jobs.event_log import EventLog

ROOT = Path(__file__).resolve().parents[1]
MIB = 1024**2
JOB_TIMEOUT = 120.0  # one tiny digits job, start to close of its websocket
MEASURE_BUDGET = 900.0  # all measurements after the stack is up
DRAIN_LIMIT = 2  # flow runs at once while the 50 submissions drain (2 cores, shared)
STATUS_EPOCHS = 60  # long enough to outlast the status samples; stopped afterwards
TERMINAL = {"completed", "stopped", "failed"}

log = logging.getLogger("bench.api_latency")
Row = tuple[str, str, str]  # metric, measured, target (met?)


def load_stack_module() -> Any:
    """The e2e starter, imported by path (tests/ is not a package)."""
    spec = importlib.util.spec_from_file_location("e2e_stack", ROOT / "tests" / "e2e" / "stack.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["e2e_stack"] = module  # dataclasses look their module up while building
    spec.loader.exec_module(module)
    return module


def percentile(values: list[float], q: float) -> float:
    """Nearest rank: p99 of 300 samples is the 297th smallest."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def digits_graph(epochs: int) -> dict[str, Any]:
    graph = json.loads((ROOT / "examples" / "digits_mlp.json").read_text())
    graph["training"]["epochs"] = epochs
    return graph


# --- the stack's processes ----------------------------------------------------------------


def stack_processes(stack: Any) -> dict[str, list[psutil.Process]]:
    """Each child we started with everything it started (forkserver, worker, runs...)."""
    tree: dict[str, list[psutil.Process]] = {}
    for name, proc in stack.procs.items():
        try:
            root = psutil.Process(proc.pid)
            tree[name] = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            tree[name] = []
    return tree


def measure_memory(stack: Any) -> dict[str, tuple[int, int, int]]:
    """{part: (processes, RSS bytes, PSS bytes)}. RSS counts pages shared by forked children
    once per process (the target's measure); PSS splits them, closer to what the box spends."""
    out = {}
    for name, procs in stack_processes(stack).items():
        rss = pss = count = 0
        for proc in procs:
            try:
                info = proc.memory_full_info()
            except psutil.NoSuchProcess:
                continue
            rss, pss, count = rss + info.rss, pss + info.pss, count + 1
        out[name] = (count, rss, pss)
    return out


def memory_rows(
    label: str, memory: dict[str, tuple[int, int, int]], *, parts: list[str]
) -> list[Row]:
    rows = []
    for name, (count, rss, pss) in memory.items():
        rows.append(
            (
                f"{label}: {name} ({count} proc)",
                f"RSS {rss / MIB:.0f} MiB, PSS {pss / MIB:.0f} MiB",
                "",
            )
        )
    rss = sum(memory[name][1] for name in parts if name in memory)
    pss = sum(memory[name][2] for name in parts if name in memory)
    target = f"<= 1536 MiB RSS ({verdict(rss <= 1536 * MIB)})"
    rows.append(
        (
            f"{label}: {' + '.join(parts)}",
            f"RSS {rss / MIB:.0f} MiB, PSS {pss / MIB:.0f} MiB",
            target,
        )
    )
    return rows


def wait_for_runs_to_exit(stack: Any, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        procs = [p for ps in stack_processes(stack).values() for p in ps]
        if not any("launcher.py" in " ".join(_cmdline(p)) for p in procs):
            return
        time.sleep(0.5)


def _cmdline(proc: psutil.Process) -> list[str]:
    try:
        return proc.cmdline()
    except psutil.Error:
        return []


def start_mlflow(stack: Any, stack_module: Any) -> float:
    """`make serve` also runs an MLflow server (the UI; every process writes the store itself)."""
    mlruns = Path(stack.env["MLCANVAS_MLRUNS_DIR"])
    mlruns.mkdir(parents=True, exist_ok=True)
    store = f"sqlite:///{mlruns / 'mlflow.db'}"
    port = stack_module.free_port()
    started = time.perf_counter()
    stack._spawn("mlflow", [
        sys.executable, "-m", "mlflow", "server", "--backend-store-uri", store,
        "--registry-store-uri", store, "--artifacts-destination", (mlruns / "artifacts").as_uri(),
        "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
    ])  # fmt: skip
    url = f"http://127.0.0.1:{port}/health"
    stack_module.wait_until(
        lambda: httpx.get(url, timeout=1).status_code == 200, 120, "MLflow server"
    )
    return time.perf_counter() - started


def stop_everything(stack: Any) -> None:
    """SIGTERM each part's process group, then SIGKILL by PID whatever of the tree survived."""
    tree = [p for procs in stack_processes(stack).values() for p in procs]
    for name in ("mlflow", "api", "executor", "prefect"):
        try:
            stack.stop(name)
        except OSError:
            log.warning("could not stop %s", name, exc_info=True)
    for proc in tree:
        try:
            if proc.is_running():
                proc.kill()
        except psutil.Error:
            pass


# --- jobs over HTTP and the websocket -------------------------------------------------------


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


async def timed_job(client: httpx.AsyncClient, stack: Any, graph: dict[str, Any]) -> dict[str, Any]:
    """POST, watch at once, follow to the end: seconds from the POST to each milestone."""
    t0 = time.time()
    job_id, post = await submit(client, graph)
    seen = await asyncio.wait_for(watch(stack.ws, job_id), JOB_TIMEOUT)
    types = [m["type"] for m in seen.messages]
    if "epoch_update" not in types or types[-1] != "training_done":
        raise RuntimeError(f"job {job_id} streamed {types}: {seen.messages[-1]}")
    first = seen.received[types.index("epoch_update")]
    return {"job_id": job_id, "t0": t0, "post": post, "first_epoch": first - t0}


async def breakdown(
    prefect: httpx.AsyncClient, events: EventLog, job: dict[str, Any]
) -> dict[str, float]:
    """Where the seconds to the first epoch go: Prefect state times and event-log times."""
    reply = await prefect.get("/flow_run_states/", params={"flow_run_id": str(UUID(job["job_id"]))})
    stamps: dict[str, float] = {}
    for state in sorted(reply.json(), key=lambda s: s["timestamp"]):
        stamps.setdefault(state["type"], datetime.fromisoformat(state["timestamp"]).timestamp())
    written = {}
    for event in await asyncio.to_thread(events.read, job["job_id"]):
        written.setdefault(event.type, event.created_at)
    t0 = job["t0"]
    return {
        "POST answered (flow run created, bundle written)": job["post"],
        "Pending: the worker took the run (poll 0.5 s)": stamps["PENDING"] - t0,
        "Running: launcher -> forkserver fork -> Prefect engine": stamps["RUNNING"] - t0,
        "`training_backend` written (validate task done)": written["training_backend"] - t0,
        "first `epoch_update` written (dataset, compile, epoch 1)": written["epoch_update"] - t0,
        "first `epoch_update` at the watcher": job["first_epoch"],
    }


async def wait_terminal(
    client: httpx.AsyncClient, ids: list[str], timeout: float
) -> dict[str, str]:
    """Statuses of `ids` once all are terminal (or at the deadline), from one list call a second."""
    deadline = time.monotonic() + timeout
    while True:
        jobs = (await client.get("/api/jobs", params={"limit": 200})).json()["jobs"]
        status = {j["job_id"]: j["status"] for j in jobs if j["job_id"] in ids}
        if all(status.get(i) in TERMINAL for i in ids) or time.monotonic() > deadline:
            return status
        await asyncio.sleep(1)


# --- the measurements ----------------------------------------------------------------------


async def first_epoch_latency(
    client: httpx.AsyncClient, prefect: httpx.AsyncClient, stack: Any, events: EventLog, runs: int
) -> list[Row]:
    graph = digits_graph(2)
    warm = await timed_job(client, stack, graph)
    log.info("warm-up job: first epoch_update after %.2f s", warm["first_epoch"])
    jobs = []
    for _ in range(runs):
        jobs.append(await timed_job(client, stack, graph))
        log.info("sequential job: first epoch_update after %.2f s", jobs[-1]["first_epoch"])
    firsts = [j["first_epoch"] for j in jobs]
    p50 = statistics.median(firsts)
    rows: list[Row] = [
        ("first job after start: POST -> first epoch_update", f"{warm['first_epoch']:.2f} s", ""),
        (
            f"POST -> first epoch_update, {runs} sequential jobs, p50 (max)",
            f"{p50:.2f} s ({max(firsts):.2f} s)",
            f"<= 3 s ({verdict(p50 <= 3)})",
        ),
    ]
    parts = [await breakdown(prefect, events, j) for j in jobs]
    for key in parts[0]:
        rows.append((f"  p50 t+ {key}", f"{statistics.median(p[key] for p in parts):.2f} s", ""))
    together = await asyncio.gather(*(timed_job(client, stack, graph) for _ in range(3)))
    slowest = max(j["first_epoch"] for j in together)
    rows.append(
        (
            "3 jobs submitted at once: slowest POST -> first epoch_update",
            f"{slowest:.2f} s",
            f"<= 5 s ({verdict(slowest <= 5)})",
        )
    )
    parts = [await breakdown(prefect, events, j) for j in together]
    for key in list(parts[0])[1:]:
        rows.append((f"  slowest t+ {key}", f"{max(p[key] for p in parts):.2f} s", ""))
    return rows


async def status_while_training(
    client: httpx.AsyncClient, events: EventLog, samples: int
) -> list[Row]:
    ids = [(await submit(client, digits_graph(STATUS_EPOCHS)))[0] for _ in range(2)]
    deadline = time.monotonic() + JOB_TIMEOUT
    while not all(
        any(e.type == "epoch_update" for e in await asyncio.to_thread(events.read, i)) for i in ids
    ):
        if time.monotonic() > deadline:
            raise TimeoutError("the two status-phase jobs never started training")
        await asyncio.sleep(0.2)
    times, last = [], {}
    for n in range(samples):
        job_id = ids[n % 2]
        started = time.perf_counter()
        reply = await client.get("/api/model/status", params={"job_id": job_id})
        times.append(time.perf_counter() - started)
        last[job_id] = reply.json()["status"]
    training = all(s == "running" for s in last.values())
    stop_started = time.perf_counter()
    for job_id in ids:
        await client.post("/api/model/stop", json={"job_id": job_id})
    ended = await wait_terminal(client, ids, JOB_TIMEOUT)
    p99 = percentile(times, 99)
    return [
        (
            f"GET status while 2 jobs train ({samples} sequential requests), p50 / p95 / p99",
            f"{ms(statistics.median(times))} / {ms(percentile(times, 95))} / {ms(p99)}",
            f"p99 < 50 ms ({verdict(p99 < 0.05)})",
        ),
        (
            "  both jobs still training after the last sample",
            "yes" if training else f"no: {last}",
            "",
        ),
        (
            "  POST /stop both -> both terminal",
            f"{time.perf_counter() - stop_started:.2f} s, {sorted(ended.values())}",
            "",
        ),
    ]


async def many_watchers(
    client: httpx.AsyncClient, stack: Any, events: EventLog, count: int
) -> list[Row]:
    epochs = 10
    job_id, _ = await submit(client, digits_graph(epochs))
    started = time.time()
    results = await asyncio.wait_for(
        asyncio.gather(*(watch(stack.ws, job_id) for _ in range(count)), return_exceptions=True),
        JOB_TIMEOUT,
    )
    seen = [r for r in results if isinstance(r, Watch)]
    failed = [repr(r) for r in results if not isinstance(r, Watch)]
    expected = ["ws_connected", "training_backend", *["epoch_update"] * epochs, "training_done"]
    reference = seen[0].messages[1:] if seen else []
    complete = all(
        [m["type"] for m in w.messages] == expected and w.close_code == 1000 for w in seen
    )
    identical = all(w.messages[1:] == reference for w in seen)
    ok = not failed and len(seen) == count and complete and identical
    written = await asyncio.to_thread(events.read, job_id)
    lags = [  # live deliveries only: events written after this watcher's ws_connected
        w.received[i + 1] - event.created_at
        for w in seen
        for i, event in enumerate(written[: len(w.received) - 1])
        if event.created_at > w.received[0]
    ]
    connected = max(w.received[0] for w in seen) - started if seen else float("nan")
    last = max(w.received[-1] for w in seen) - written[-1].created_at if seen else float("nan")
    rows: list[Row] = [
        (
            f"{count} watchers of one {epochs}-epoch job: identical complete sequence, close 1000",
            f"{'PASS' if ok else 'FAIL'} ({len(seen)} ok, {len(failed)} failed)",
            verdict(ok),
        ),
        ("  all watchers connected (last ws_connected after POST)", f"{connected:.2f} s", ""),
        (
            "  live delivery lag, event written -> watcher, p50 / max",
            f"{ms(statistics.median(lags))} / {ms(max(lags))} ({len(lags)} deliveries)"
            if lags
            else "n/a",
            "",
        ),
        ("  training_done written -> last watcher has it", ms(last), ""),
    ]
    if failed:
        rows.append(("  first failure", failed[0][:200], ""))
    return rows


async def submissions(client: httpx.AsyncClient, stack: Any, count: int) -> list[Row]:
    limit = {"concurrency_limit": DRAIN_LIMIT}
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{stack.prefect_port}/api") as prefect:
        (
            await prefect.patch(f"/work_pools/{stack.env['MLCANVAS_WORK_POOL']}", json=limit)
        ).raise_for_status()
    graph = digits_graph(1)
    ids, times = [], []
    for _ in range(count):
        job_id, elapsed = await submit(client, graph)
        ids.append(job_id)
        times.append(elapsed)
    drain_started = time.perf_counter()
    ended = await wait_terminal(client, ids, 600)
    drained = time.perf_counter() - drain_started
    outcome = {s: list(ended.values()).count(s) for s in sorted(set(ended.values()))}
    p50 = statistics.median(times)
    return [
        (
            f"POST /api/model/train, {count} sequential submissions, p50 / p95 / max",
            f"{ms(p50)} / {ms(percentile(times, 95))} / {ms(max(times))}",
            f"p50 < 50 ms ({verdict(p50 < 0.05)})",
        ),
        (
            f"  queue drained ({DRAIN_LIMIT} runs at once, 1 epoch each)",
            f"{drained:.0f} s, {outcome}",
            "",
        ),
    ]


async def measure(stack: Any, args: argparse.Namespace) -> list[Row]:
    events = EventLog(f"sqlite:///{stack.data_dir / 'events.db'}")
    timeout = httpx.Timeout(60)
    async with (
        httpx.AsyncClient(base_url=stack.api, timeout=timeout) as client,
        httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{stack.prefect_port}/api", timeout=timeout
        ) as prefect,
    ):
        rows = await first_epoch_latency(client, prefect, stack, events, args.sequential)
        rows += await status_while_training(client, events, args.status_samples)
        rows += await many_watchers(client, stack, events, args.watchers)
        rows += await submissions(client, stack, args.submissions)
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
        time.sleep(3)  # let start-up threads and caches settle before "idle"
        idle = measure_memory(stack)
        mlflow_up = start_mlflow(stack, stack_module)
        rows: list[Row] = [
            (
                "stack start -> all healthy (Prefect, executor forkserver, API)",
                f"{all_up:.1f} s",
                "",
            ),
            (
                "  Prefect healthy / API healthy (deployments registered)",
                f"{prefect_up:.1f} s / {api_up:.1f} s",
                "",
            ),
            (
                "  + MLflow server started afterwards (make serve runs it too)",
                f"{mlflow_up:.1f} s",
                "",
            ),
        ]
        rows += memory_rows("idle after start", idle, parts=["prefect", "executor", "api"])
        rows += asyncio.run(asyncio.wait_for(measure(stack, args), MEASURE_BUDGET))
        wait_for_runs_to_exit(stack)
        after = measure_memory(stack)
        rows += memory_rows("idle after the jobs", after, parts=["prefect", "executor", "api"])
        rows += memory_rows(
            "idle after the jobs, make serve set",
            after,
            parts=["prefect", "mlflow", "executor", "api"],
        )[-1:]
        return rows
    except BaseException:
        for path in sorted(stack.logs.glob("*.log")):
            log.error("--- %s\n%s", path.name, path.read_text(errors="replace")[-3000:])
        raise
    finally:
        stop_everything(stack)


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=50)
    parser.add_argument("--sequential", type=int, default=10)
    parser.add_argument("--watchers", type=int, default=100)
    parser.add_argument("--status-samples", type=int, default=300)
    args = parser.parse_args()
    load_before = os.getloadavg()
    tmp = Path(tempfile.mkdtemp(prefix="mlcanvas-apibench-"))
    try:
        rows = run(load_stack_module(), tmp, args)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    load_after = os.getloadavg()
    out = sys.stdout
    out.write(
        f"\nmachine: {os.cpu_count()} CPUs, {psutil.virtual_memory().total / 1024**3:.0f} GiB; "
        f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f} (1 min)\n\n"
    )
    out.write("| measure | result | target |\n|---|---|---|\n")
    for metric, value, target in rows:
        out.write(f"| {metric} | {value} | {target} |\n")


if __name__ == "__main__":
    main()
