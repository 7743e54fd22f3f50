"""NN jobs through HTTP and the websocket on the real stack, then read back from MLflow."""

from __future__ import annotations

import copy
import json
import time
from typing import Any

import httpx
import pytest
from websockets.sync.client import connect


def follow(stack: Any, job_id: str, timeout: float = 180) -> list[dict[str, Any]]:
    messages = []
    with connect(f"{stack.ws}/ws/training/{job_id}", open_timeout=30) as ws:
        deadline = time.monotonic() + timeout
        for raw in ws:
            messages.append(json.loads(raw))
            assert time.monotonic() < deadline, "stream did not end in time"
        assert ws.close_code == 1000
    return messages


@pytest.fixture(scope="module")
def finished_job(stack: Any, digits_graph: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    reply = httpx.post(f"{stack.api}/api/model/train", json=digits_graph, timeout=30)
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["status"] == "queued" and len(body["job_id"]) == 32
    return body["job_id"], follow(stack, body["job_id"])


def test_train_streams_the_contract_sequence(finished_job: Any) -> None:
    _job_id, messages = finished_job
    types = [m["type"] for m in messages]
    assert types == [
        "ws_connected",
        "training_backend",
        "epoch_update",
        "epoch_update",
        "training_done",
    ]
    epochs = [m for m in messages if m["type"] == "epoch_update"]
    assert [m["epoch"] for m in epochs] == [1, 2]
    assert epochs[-1]["loss"] == epochs[-1]["test_loss"]
    assert set(epochs[0]["weights"]) == {
        "layers.1.weight",
        "layers.1.bias",
        "layers.4.weight",
        "layers.4.bias",
    }
    assert len(epochs[0]["weights"]["layers.1.weight"]["histogram"]) == 20
    done = messages[-1]
    assert done["final_accuracy"] == done["final_test_accuracy"] > 0.5
    assert done["status"] == "completed"


def test_late_watcher_gets_the_full_replay(stack: Any, finished_job: Any) -> None:
    job_id, first = finished_job
    again = follow(stack, job_id)
    assert [m["type"] for m in again] == [m["type"] for m in first]
    assert again[1:] == first[1:]


def test_status_latest_infer_and_exports(stack: Any, finished_job: Any) -> None:
    job_id, _ = finished_job
    status = stack.wait_status("model", job_id, {"completed"})
    assert status["terminal"] is True and status["has_artifact"] and status["has_python_source"]
    assert set(status["final_metrics"]) >= {"final_loss", "final_accuracy", "final_train_loss"}
    image = [[[0.0] * 8 for _ in range(8)]]
    infer = httpx.post(f"{stack.api}/api/model/infer", json={"job_id": job_id, "inputs": image})
    assert infer.status_code == 200, infer.text
    assert infer.json()["input_shape"] == [1, 1, 8, 8]
    assert len(infer.json()["probabilities"][0]) == 10
    source = httpx.get(f"{stack.api}/api/model/export", params={"job_id": job_id})
    assert source.status_code == 200 and "class GeneratedModel" in source.text
    weights = httpx.get(f"{stack.api}/api/model/export", params={"job_id": job_id, "format": "pt"})
    assert weights.status_code == 200
    assert weights.headers["content-disposition"] == f'attachment; filename="{job_id}.pt"'
    assert weights.content == (stack.data_dir / "jobs" / job_id / "model.pt").read_bytes()
    stop = httpx.post(f"{stack.api}/api/model/stop", json={"job_id": job_id})
    assert stop.json() == {"job_id": job_id, "status": "completed"}  # terminal: unchanged


def test_mlflow_run_has_metrics_model_and_bundle(stack: Any, finished_job: Any) -> None:
    import mlflow
    import mlflow.pytorch
    import torch
    from mlflow.tracking import MlflowClient

    job_id, _ = finished_job
    uri = f"sqlite:///{stack.tmp / 'mlruns' / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri)
    experiment = client.get_experiment_by_name("mlcanvas-nn")
    runs = client.search_runs([experiment.experiment_id], f"tags.`mlcanvas.job_id` = '{job_id}'")
    assert len(runs) == 1
    run = runs[0]
    assert run.info.status == "FINISHED"
    assert run.data.tags["prefect.flow_run_id"].replace("-", "") == job_id
    assert run.info.run_name.startswith("digits-mlp-")
    history = client.get_metric_history(run.info.run_id, "test_accuracy")
    assert [m.step for m in history] == [1, 2]
    files = {f.path for f in client.list_artifacts(run.info.run_id, "bundle")}
    assert {
        f"bundle/{n}"
        for n in (
            "model.py",
            "graph.json",
            "training.json",
            "summary.json",
            "metadata.json",
            "model.pt",
        )
    } <= files
    mlflow.set_tracking_uri(uri)
    model = mlflow.pytorch.load_model(f"runs:/{run.info.run_id}/model")
    assert model(torch.zeros(3, 1, 8, 8)).shape == (3, 10)


def test_stop_keeps_the_partial_model(stack: Any, digits_graph: dict[str, Any]) -> None:
    graph = copy.deepcopy(digits_graph)
    graph["training"]["epochs"] = 500
    job_id = httpx.post(f"{stack.api}/api/model/train", json=graph).json()["job_id"]
    with connect(f"{stack.ws}/ws/training/{job_id}", open_timeout=30) as ws:
        messages = []
        for raw in ws:
            message = json.loads(raw)
            messages.append(message)
            if message["type"] == "epoch_update" and message["epoch"] == 2:
                ws.send(json.dumps({"command": "stop"}))
    assert messages[-1]["type"] == "training_done"
    assert messages[-1]["status"] == "stopped"
    status = stack.wait_status("model", job_id, {"stopped"})
    assert status["terminal"] and status["has_artifact"]
    image = [[[0.0] * 8 for _ in range(8)]]
    assert (
        httpx.post(
            f"{stack.api}/api/model/infer", json={"job_id": job_id, "inputs": image}
        ).status_code
        == 200
    )
    latest = httpx.get(f"{stack.api}/api/model/latest").json()
    assert latest["job_id"] == job_id and latest["status"] == "stopped"


def test_cancel_from_prefect_ends_stopped_with_partial_model(
    stack: Any, digits_graph: dict[str, Any]
) -> None:
    """What the Prefect UI's Cancel does: the run goes Cancelling; the loop notices, saves."""
    import asyncio
    from uuid import UUID

    from prefect.client.orchestration import PrefectClient
    from prefect.states import Cancelling

    graph = copy.deepcopy(digits_graph)
    graph["training"]["epochs"] = 500
    job_id = httpx.post(f"{stack.api}/api/model/train", json=graph).json()["job_id"]
    with connect(f"{stack.ws}/ws/training/{job_id}", open_timeout=30) as ws:
        messages = []
        for raw in ws:
            message = json.loads(raw)
            messages.append(message)
            if message["type"] == "epoch_update" and message["epoch"] == 2:

                async def cancel() -> None:
                    async with PrefectClient(api=stack.env["PREFECT_API_URL"]) as client:
                        await client.set_flow_run_state(UUID(hex=job_id), Cancelling())

                asyncio.run(cancel())
    assert messages[-1]["type"] == "training_done" and messages[-1]["status"] == "stopped"
    status = stack.wait_status("model", job_id, {"stopped", "failed"})
    assert status["status"] == "stopped" and status["has_artifact"]
