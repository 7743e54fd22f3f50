"""Restarts and crashes of the real stack's processes mid-job (issue 4, item 6).

These tests stop and start shared processes, so tests/e2e/conftest.py runs them after every
other test; each one leaves the whole stack running again, even when it fails.
"""

from __future__ import annotations

import copy
import logging
import signal
from collections.abc import Iterator
from typing import Any

import httpx
import psutil
import pytest

log = logging.getLogger(__name__)

TERMINAL = {"completed", "stopped", "failed"}
IMAGE = [[[0.0] * 8 for _ in range(8)]]

Graph = dict[str, Any]


def train(http: httpx.Client, graph: Graph, epochs: int) -> str:
    graph = copy.deepcopy(graph)
    graph["training"]["epochs"] = epochs
    reply = http.post("/api/model/train", json=graph)
    assert reply.status_code == 200, reply.text
    return reply.json()["job_id"]


def wait_first_epoch(stack: Any, job_id: str) -> None:
    """Returns once the job has really started training (its first epoch_update)."""
    messages, _ = stack.read_stream(f"/ws/training/{job_id}", timeout=240, until="epoch_update")
    assert messages[-1]["type"] == "epoch_update", messages


def ensure_running(stack: Any) -> None:
    """Whatever happened, leave executor and API up for the rest of the session."""
    if "executor" not in stack.procs or stack.procs["executor"].poll() is not None:
        stack.procs.pop("executor", None)
        stack.start_executor()
    if "api" not in stack.procs or stack.procs["api"].poll() is not None:
        stack.procs.pop("api", None)
        stack.start_api()


def stop_if_active(stack: Any, http: httpx.Client, job_id: str) -> None:
    reply = http.post("/api/model/stop", json={"job_id": job_id})
    if reply.status_code == 200 and reply.json()["status"] not in TERMINAL:
        stack.wait_status("model", job_id, TERMINAL, timeout=240)


@pytest.fixture(scope="module")
def http(stack: Any) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.api, timeout=30) as client:
        yield client


def test_api_restart_mid_job_keeps_the_job_and_replays_it(
    stack: Any, http: httpx.Client, digits_graph: Graph
) -> None:
    epochs = 30
    job_id = train(http, digits_graph, epochs)
    try:
        wait_first_epoch(stack, job_id)
        running = http.get("/api/model/status", params={"job_id": job_id}).json()
        assert running["status"] == "running", running
        stack.stop("api")
        with pytest.raises(httpx.TransportError):
            http.get("/health")
        stack.start_api()
    finally:
        ensure_running(stack)

    status = stack.wait_status("model", job_id, TERMINAL, timeout=240)
    assert status["status"] == "completed", status
    assert status["has_artifact"] and status["final_metrics"]["final_accuracy"] > 0.5
    messages, code = stack.read_stream(f"/ws/training/{job_id}", timeout=240)
    assert [m["type"] for m in messages] == (
        ["ws_connected", "training_backend"] + ["epoch_update"] * epochs + ["training_done"]
    )
    assert [m["epoch"] for m in messages[2:-1]] == list(range(1, epochs + 1))
    assert messages[-1]["final_accuracy"] == status["final_metrics"]["final_accuracy"]
    assert code == 1000
    infer = http.post("/api/model/infer", json={"job_id": job_id, "inputs": IMAGE})
    assert infer.status_code == 200, infer.text
    assert len(infer.json()["predictions"]) == 1
    for fmt in ("py", "pt"):
        export = http.get("/api/model/export", params={"job_id": job_id, "format": fmt})
        assert export.status_code == 200, export.text


def test_executor_kill_fails_the_job_and_new_jobs_run(
    stack: Any, http: httpx.Client, digits_graph: Graph
) -> None:
    job_id = train(http, digits_graph, 5000)
    executor = psutil.Process(stack.procs["executor"].pid)
    old_tree: list[psutil.Process] = []
    try:
        wait_first_epoch(stack, job_id)
        old_tree = executor.children(recursive=True)
        forkservers = [p for p in old_tree if "flows.forkserver" in p.cmdline()]
        stack.stop("executor", signal.SIGKILL)
        # The old forkserver answers on the socket until its shutdown; once it is gone, the
        # readiness check of start_executor can only see the new one.
        _gone, alive = psutil.wait_procs(forkservers, timeout=30)
        assert not alive, f"old forkserver processes still running: {alive}"
        stack.start_executor()

        status = stack.wait_status("model", job_id, TERMINAL, timeout=120)
        assert status["status"] == "failed", status
        assert status["terminal"] is True and status["error"]
        messages, code = stack.read_stream(f"/ws/training/{job_id}", timeout=240)
        assert messages[0]["type"] == "ws_connected"
        assert messages[-1]["type"] == "error" and messages[-1]["message"], messages[-1]
        ends = [m for m in messages if m["type"] in ("training_done", "error")]
        assert len(ends) == 1 and code == 1000

        fresh = train(http, digits_graph, 2)
        assert stack.wait_status("model", fresh, TERMINAL, timeout=240)["status"] == "completed"
    finally:
        ensure_running(stack)
        stop_if_active(stack, http, job_id)
        _reap(old_tree)


def _reap(processes: list[psutil.Process]) -> None:
    """Kill what the SIGKILLed executor left behind, by PID, so the session ends clean.

    Its children get SIGTERM when it dies (PR_SET_PDEATHSIG); any still alive after a grace
    period would otherwise outlive the test session.
    """
    _gone, alive = psutil.wait_procs(processes, timeout=10)
    for process in alive:
        log.warning("killing leftover of the old executor: pid %s %s", process.pid, process.name())
        try:
            process.kill()
        except psutil.NoSuchProcess:
            pass
