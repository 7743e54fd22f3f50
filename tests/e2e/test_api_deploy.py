"""Deployments through HTTP on the real stack (contract §7, issue 6): deploy a finished digits
job and an iris job, infer through each, counters and logs move, every bad input is a 4xx that
names the problem, and after an API restart deployments come back stopped and start again.

Each test makes its own deployments, so no test depends on another's (or on a restart test).
"""

from __future__ import annotations

import copy
import random
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

Graph = dict[str, Any]
TERMINAL = {"completed", "stopped", "failed"}
DIGITS_IMAGE = [[[0.0] * 8 for _ in range(8)]]
PROBE_28 = [[0.0] * 28 for _ in range(28)]  # the deployments page's test probe
SETOSA_ROW = [5.1, 3.5, 1.4, 0.2]
DEPLOYMENT_FIELDS = {
    "deployment_id",
    "job_id",
    "status",
    "target",
    "endpoint_path",
    "created_at",
    "last_used_at",
    "request_count",
    "name",
}


def train(http: httpx.Client, family: str, graph: Graph) -> str:
    reply = http.post(f"/api/{family}/train", json=graph)
    assert reply.status_code == 200, reply.text
    return reply.json()["job_id"]


def deploy(http: httpx.Client, job_id: str, name: str | None = None) -> dict[str, Any]:
    reply = http.post("/api/deploy", json={"job_id": job_id, "target": "local", "name": name})
    assert reply.status_code == 200, reply.text
    return reply.json()


def infer(http: httpx.Client, deployment_id: str, inputs: Any, **extra: Any) -> httpx.Response:
    return http.post(f"/api/deploy/{deployment_id}/infer", json={"inputs": inputs, **extra})


def status_of(http: httpx.Client, deployment_id: str) -> dict[str, Any]:
    reply = http.get("/api/deploy/status", params={"deployment_id": deployment_id})
    assert reply.status_code == 200, reply.text
    return reply.json()


def log_events(http: httpx.Client, deployment_id: str, limit: int = 500) -> list[dict[str, Any]]:
    reply = http.get("/api/deploy/logs", params={"deployment_id": deployment_id, "limit": limit})
    assert reply.status_code == 200, reply.text
    assert reply.json()["deployment_id"] == deployment_id
    return reply.json()["logs"]


def assert_error(reply: httpx.Response, status: int, *fragments: str) -> dict[str, Any]:
    assert reply.status_code == status, reply.text
    detail = reply.json()["detail"]
    for fragment in fragments:
        assert fragment in detail["message"], detail
    return detail


@pytest.fixture(scope="module")
def http(stack: Any) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.api, timeout=60) as client:
        yield client


@pytest.fixture(scope="module")
def digits_job(stack: Any, http: httpx.Client, digits_graph: Graph) -> str:
    job_id = train(http, "model", digits_graph)
    assert stack.wait_status("model", job_id, TERMINAL, timeout=240)["status"] == "completed"
    return job_id


@pytest.fixture(scope="module")
def iris_job(stack: Any, http: httpx.Client, iris_graph: Graph) -> str:
    job_id = train(http, "rf", iris_graph)
    assert stack.wait_status("rf", job_id, TERMINAL, timeout=240)["status"] == "completed"
    return job_id


def test_deploy_digits_infer_counts_and_logs(http: httpx.Client, digits_job: str) -> None:
    created = deploy(http, digits_job, name="digits-test")
    deployment_id = created["deployment_id"]
    assert DEPLOYMENT_FIELDS <= set(created)
    assert created["status"] == "running" and created["request_count"] == 0
    assert created["job_id"] == digits_job and created["kind"] == "nn"
    assert created["target"] == "local" and created["last_used_at"] is None
    assert created["endpoint_path"] == f"/api/deploy/{deployment_id}/infer"
    assert created["model_uri"] == f"models:/mlcanvas-nn@d-{deployment_id}"

    one = infer(http, deployment_id, DIGITS_IMAGE)
    assert one.status_code == 200, one.text
    body = one.json()
    assert body["deployment_id"] == deployment_id and body["job_id"] == digits_job
    assert body["input_shape"] == [1, 1, 8, 8] and body["output_shape"] == [1, 10]
    assert len(body["predictions"]) == 1 and len(body["probabilities"][0]) == 10
    batch = infer(http, deployment_id, [[0.5] * 64] * 3, return_probabilities=False)
    assert batch.status_code == 200, batch.text
    assert batch.json()["input_shape"] == [3, 1, 8, 8] and "probabilities" not in batch.json()

    now = status_of(http, deployment_id)
    assert now["request_count"] == 2 and now["last_used_at"] is not None
    listed = http.get("/api/deploy/list").json()["deployments"]
    assert listed[0]["deployment_id"] == deployment_id  # newest first
    events = log_events(http, deployment_id)
    assert [e["event"] for e in events] == [
        "deployment_created",
        "inference_request",
        "inference_request",
    ]
    assert events[0]["details"] == {
        "job_id": digits_job,
        "target": "local",
        "endpoint_path": created["endpoint_path"],
    }
    assert events[2]["details"] == {
        "request_count": 2,
        "input_shape": [3, 1, 8, 8],
        "output_shape": [3, 10],
        "prediction_count": 3,
    }
    assert {e["level"] for e in events} == {"info"} and all(e["message"] for e in events)
    assert [e["event"] for e in log_events(http, deployment_id, limit=1)] == ["inference_request"]
    assert len(log_events(http, deployment_id, limit=0)) == 1  # clamped to [1, 500]
    assert len(log_events(http, deployment_id, limit=100000)) == 3


def test_deploy_iris_and_infer_class_names(http: httpx.Client, iris_job: str) -> None:
    created = deploy(http, iris_job)
    deployment_id = created["deployment_id"]
    assert created["kind"] == "rf" and created["name"] is None
    assert created["model_uri"] == f"models:/mlcanvas-rf@d-{deployment_id}"
    reply = infer(http, deployment_id, SETOSA_ROW)
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["predictions"] == ["Iris-setosa"] and body["prediction_indices"] == [0]
    assert body["input_shape"] == [1, 4] and body["deployment_id"] == deployment_id
    assert len(body["probabilities"][0]) == 3
    two = infer(http, deployment_id, [SETOSA_ROW, [6.7, 3.0, 5.2, 2.3]], return_probabilities=False)
    assert two.status_code == 200 and two.json()["probabilities"] is None
    assert status_of(http, deployment_id)["request_count"] == 2
    wrong = infer(http, deployment_id, [1.0, 2.0])
    detail = assert_error(wrong, 400, "Input feature count mismatch")
    assert detail["expected_feature_count"] == 4 and detail["got_feature_count"] == 2
    assert status_of(http, deployment_id)["request_count"] == 2
    assert log_events(http, deployment_id)[-1]["event"] == "inference_request_invalid"


def test_stop_is_repeatable_and_start_serves_again(http: httpx.Client, digits_job: str) -> None:
    deployment_id = deploy(http, digits_job)["deployment_id"]
    for _ in range(2):
        stopped = http.delete(f"/api/deploy/{deployment_id}")
        assert stopped.status_code == 200 and stopped.json()["status"] == "stopped"
    assert_error(infer(http, deployment_id, DIGITS_IMAGE), 400, "Deployment is not running")
    started = http.post(f"/api/deploy/{deployment_id}/start")
    assert started.status_code == 200 and started.json()["status"] == "running"
    again = http.post(f"/api/deploy/{deployment_id}/start")
    assert again.json() == started.json()  # already running: unchanged
    assert infer(http, deployment_id, DIGITS_IMAGE).status_code == 200
    assert status_of(http, deployment_id)["request_count"] == 1
    events = [e["event"] for e in log_events(http, deployment_id)]
    assert events == [
        "deployment_created",
        "deployment_stopped",
        "deployment_started",
        "inference_request",
    ]


def test_bad_inputs_are_400_logged_and_not_counted(http: httpx.Client, digits_job: str) -> None:
    deployment_id = deploy(http, digits_job)["deployment_id"]
    probe = assert_error(infer(http, deployment_id, PROBE_28), 400, "deployed model input shape")
    assert probe["expected_shape"] == [1, 8, 8] and probe["got_shape"] == [28, 28]
    assert_error(infer(http, deployment_id, [[1.0, 2.0], [3.0]]), 400, "Invalid inputs payload")
    assert_error(infer(http, deployment_id, "abc"), 400)
    oversized = assert_error(infer(http, deployment_id, [[0.0] * 64] * 4097), 400, "4096")
    assert oversized["max_rows"] == 4096 and oversized["got_rows"] == 4097
    missing = http.post(f"/api/deploy/{deployment_id}/infer", json={})
    assert missing.status_code == 422 and missing.json()["message"] == "body.inputs: Field required"
    broken = http.post(f"/api/deploy/{deployment_id}/infer", content=b'{"inputs": [1,')
    assert broken.status_code == 422 and broken.json()["detail"][0]["type"] == "json_invalid"

    assert status_of(http, deployment_id)["request_count"] == 0
    invalid = [e for e in log_events(http, deployment_id) if e["event"] != "deployment_created"]
    assert [e["event"] for e in invalid] == ["inference_request_invalid"] * 6
    assert {e["level"] for e in invalid} == {"error"}
    assert [e["details"]["status_code"] for e in invalid] == [400, 400, 400, 400, 422, 422]
    assert "deployed model input shape" in invalid[0]["details"]["detail"]["message"]


def test_concurrent_requests_each_get_their_own_rows(http: httpx.Client, digits_job: str) -> None:
    """Concurrent requests are batched into shared forward passes; each caller must still get
    exactly its rows back, and a bad request must fail alone."""
    deployment_id = deploy(http, digits_job)["deployment_id"]
    rng = random.Random(7)
    payloads = [
        [[rng.random() for _ in range(64)] for _ in range(1 + i % 3)] if i % 7 else PROBE_28
        for i in range(48)
    ]
    with ThreadPoolExecutor(max_workers=16) as pool:
        replies = list(pool.map(lambda rows: infer(http, deployment_id, rows), payloads))
    served = 0
    for rows, reply in zip(payloads, replies, strict=True):
        if rows is PROBE_28:
            assert reply.status_code == 400, reply.text
            continue
        assert reply.status_code == 200, reply.text
        served += 1
        alone = infer(http, deployment_id, rows).json()
        body = reply.json()
        assert body["input_shape"] == [len(rows), 1, 8, 8] == alone["input_shape"]
        assert body["predictions"] == alone["predictions"]
        for got, want in zip(body["logits"], alone["logits"], strict=True):
            assert got == pytest.approx(want, abs=1e-4)
    assert status_of(http, deployment_id)["request_count"] == 2 * served


def test_deploy_rejects_remote_unknown_and_malformed_jobs(
    http: httpx.Client, digits_job: str
) -> None:
    remote = http.post("/api/deploy", json={"job_id": digits_job, "target": " Remote "})
    assert_error(remote, 400, "Only local deployment is supported right now")
    local = http.post("/api/deploy", json={"job_id": digits_job, "target": " LOCAL "})
    assert local.status_code == 200 and local.json()["target"] == "local"
    unknown = "0123456789abcdef0123456789abcdef"
    assert_error(
        http.post("/api/deploy", json={"job_id": unknown}), 404, f"Unknown job_id: {unknown}"
    )
    assert_error(http.post("/api/deploy", json={"job_id": "../../etc"}), 404, "Unknown job_id")
    assert http.post("/api/deploy", json={"target": "local"}).status_code == 422


def test_unknown_and_malformed_deployment_ids_are_404(http: httpx.Client) -> None:
    for bad in ("f" * 32, "not-an-id", "F" * 32):
        message = f"Unknown deployment_id: {bad}"
        assert_error(http.get("/api/deploy/status", params={"deployment_id": bad}), 404, message)
        assert_error(http.get("/api/deploy/logs", params={"deployment_id": bad}), 404, message)
        assert_error(http.delete(f"/api/deploy/{bad}"), 404, message)
        assert_error(http.post(f"/api/deploy/{bad}/start"), 404, message)
        assert_error(infer(http, bad, DIGITS_IMAGE), 404, message)
    assert http.get("/api/deploy/status").status_code == 422


def test_running_and_failed_jobs_cannot_be_deployed(
    stack: Any, http: httpx.Client, digits_graph: Graph
) -> None:
    long = copy.deepcopy(digits_graph)
    long["training"]["epochs"] = 500
    job_id = train(http, "model", long)
    try:
        detail = assert_error(http.post("/api/deploy", json={"job_id": job_id}), 400, job_id)
        assert detail["status"] in {"queued", "running"} and "still" in detail["message"]
    finally:
        http.post("/api/model/stop", json={"job_id": job_id})
    mnist = copy.deepcopy(digits_graph)  # MNIST is not cached and there are no credentials
    mnist["nodes"][0]["config"]["shape"] = [1, 28, 28]
    mnist["training"]["dataset"] = "mnist"
    failed_id = train(http, "model", mnist)
    assert stack.wait_status("model", failed_id, TERMINAL, timeout=240)["status"] == "failed"
    failed = assert_error(http.post("/api/deploy", json={"job_id": failed_id}), 400, "failed")
    assert failed["job_id"] == failed_id
    stack.wait_status("model", job_id, TERMINAL, timeout=240)


def test_restart_brings_deployments_back_stopped_and_start_serves(
    stack: Any, http: httpx.Client, digits_job: str, iris_job: str
) -> None:
    digits = deploy(http, digits_job, name="digits-restart")["deployment_id"]
    iris = deploy(http, iris_job)["deployment_id"]
    stopped_before = deploy(http, digits_job)["deployment_id"]
    assert http.delete(f"/api/deploy/{stopped_before}").status_code == 200
    for _ in range(3):
        assert infer(http, digits, DIGITS_IMAGE).status_code == 200
    assert infer(http, iris, SETOSA_ROW).status_code == 200
    try:
        stack.stop("api")
        stack.start_api()
    finally:
        if "api" not in stack.procs or stack.procs["api"].poll() is not None:
            stack.procs.pop("api", None)
            stack.start_api()

    listed = {d["deployment_id"]: d for d in http.get("/api/deploy/list").json()["deployments"]}
    assert listed[digits]["status"] == "stopped" and listed[digits]["request_count"] == 3
    assert listed[digits]["last_used_at"] is not None and listed[digits]["name"] == "digits-restart"
    assert listed[iris]["status"] == "stopped" and listed[iris]["request_count"] == 1
    restored = log_events(http, digits)[-1]
    assert restored["event"] == "deployment_restored_stopped"
    assert restored["details"] == {"reason": "in_memory_runtime_lost"}
    assert log_events(http, stopped_before)[-1]["event"] == "deployment_stopped"
    assert_error(infer(http, digits, DIGITS_IMAGE), 400, "Deployment is not running")

    for deployment_id in (digits, iris):
        started = http.post(f"/api/deploy/{deployment_id}/start")
        assert started.status_code == 200 and started.json()["status"] == "running"
    assert infer(http, digits, DIGITS_IMAGE).status_code == 200
    assert infer(http, iris, SETOSA_ROW).json()["predictions"] == ["Iris-setosa"]
    assert status_of(http, digits)["request_count"] == 4
    assert status_of(http, iris)["request_count"] == 2
    assert log_events(http, digits)[-2]["event"] == "deployment_started"


def test_cli_deploy_list_and_predict(
    stack: Any, http: httpx.Client, iris_job: str, tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from mlcanvas.cli import app

    wide = {"COLUMNS": "240", "NO_COLOR": "1"}
    runner = CliRunner()
    deployed = runner.invoke(
        app, ["deploy", iris_job, "--name", "iris-cli", "--api", stack.api], env=wide
    )
    assert deployed.exit_code == 0, deployed.output
    deployment_id = next(
        d["deployment_id"]
        for d in http.get("/api/deploy/list").json()["deployments"]
        if d["name"] == "iris-cli"
    )
    assert deployment_id in deployed.output and "running" in deployed.output
    listed = runner.invoke(app, ["deployments", "--api", stack.api], env=wide)
    assert listed.exit_code == 0 and deployment_id in listed.output and "iris-cli" in listed.output
    inputs = tmp_path / "rows.json"
    inputs.write_text(f'{{"inputs": [{SETOSA_ROW}, {SETOSA_ROW}]}}')
    predicted = runner.invoke(
        app, ["predict", deployment_id, str(inputs), "--api", stack.api], env=wide
    )
    assert predicted.exit_code == 0, predicted.output
    assert predicted.output.count("Iris-setosa") == 2
    assert status_of(http, deployment_id)["request_count"] == 1
    unknown = runner.invoke(app, ["predict", "f" * 32, str(inputs), "--api", stack.api], env=wide)
    assert unknown.exit_code == 1 and f"Unknown deployment_id: {'f' * 32}" in unknown.output
    wrong = tmp_path / "wrong.json"
    wrong.write_text("[1.0, 2.0]")
    bad = runner.invoke(app, ["predict", deployment_id, str(wrong), "--api", stack.api], env=wide)
    assert bad.exit_code == 1 and "Input feature count mismatch" in bad.output
