"""Random forests end to end against the real stack: train iris over HTTP, follow the RF
websocket, read status, infer, export, stop mid-training, and reject bad input (contract §6)."""

from __future__ import annotations

import copy
import io
import time
from collections.abc import Iterator
from typing import Any

import httpx
import joblib
import pytest

IRIS_CLASSES = ["Iris-setosa", "Iris-versicolor", "Iris-virginica"]
SETOSA_ROW = [5.1, 3.5, 1.4, 0.2]
VIRGINICA_ROW = [6.7, 3.0, 5.2, 2.3]
TERMINAL = {"completed", "stopped", "failed"}

Graph = dict[str, Any]
IrisJob = tuple[str, list[dict[str, Any]], int | None]


def forest(graph: Graph, *, trees: int, log_every: int = 10) -> Graph:
    changed = copy.deepcopy(graph)
    changed["nodes"][1]["config"]["n_estimators"] = trees
    changed["training"]["log_every_trees"] = log_every
    return changed


def train(http: httpx.Client, graph: Graph) -> str:
    reply = http.post("/api/rf/train", json=graph)
    assert reply.status_code == 200, reply.text
    assert reply.json()["status"] == "queued"
    return reply.json()["job_id"]


@pytest.fixture(scope="module")
def http(stack: Any) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.api, timeout=30) as client:
        yield client


@pytest.fixture(scope="module")
def iris_job(stack: Any, http: httpx.Client, iris_graph: Graph) -> IrisJob:
    """One finished 30-tree iris job shared by this module: id, stream and close code."""
    job_id = train(http, iris_graph)
    messages, code = stack.read_stream(f"/ws/rf/training/{job_id}")
    return job_id, messages, code


def test_stream_is_progress_in_order_then_done_then_close(iris_job: IrisJob) -> None:
    _job_id, messages, code = iris_job
    assert messages[0]["type"] == "rf_progress"  # no hello
    assert [m["type"] for m in messages] == ["rf_progress"] * 3 + ["rf_done"]
    progress = messages[:-1]
    assert [m["trees_built"] for m in progress] == [10, 20, 30]
    assert all(m["total_trees"] == 30 and m["stage"] == "training" for m in progress)
    assert all(0 <= m["test_accuracy"] <= 1 and isinstance(m["elapsed_ms"], int) for m in progress)
    assert [m["elapsed_ms"] for m in progress] == sorted(m["elapsed_ms"] for m in progress)
    done = messages[-1]
    assert done["classes"] == IRIS_CLASSES
    matrix = done["confusion_matrix"]
    assert len(matrix) == 3 and all(len(row) == 3 for row in matrix)
    assert sum(map(sum, matrix)) == 30  # 20 % of 150 rows
    assert len(done["feature_importances"]) == 4 == len(done["feature_names"])
    assert sum(done["feature_importances"]) == pytest.approx(1.0)
    assert done["final_test_accuracy"] > 0.8
    assert code == 1000


def test_status_is_completed_with_final_metrics(stack: Any, iris_job: IrisJob) -> None:
    job_id, messages, _ = iris_job
    status = stack.wait_status("rf", job_id, TERMINAL)
    assert status["status"] == "completed" and status["terminal"] is True
    assert status["error"] is None
    assert status["has_artifact"] and status["has_python_source"]
    assert status["final_metrics"] == {
        "final_train_accuracy": messages[-1]["final_train_accuracy"],
        "final_test_accuracy": messages[-1]["final_test_accuracy"],
    }


def test_infer_a_row_and_a_matrix_gives_class_names(http: httpx.Client, iris_job: IrisJob) -> None:
    job_id, _, _ = iris_job
    one = http.post("/api/rf/infer", json={"job_id": job_id, "inputs": SETOSA_ROW})
    assert one.status_code == 200, one.text
    assert one.json()["input_shape"] == [1, 4]
    assert one.json()["predictions"] == ["Iris-setosa"]
    assert one.json()["prediction_indices"] == [0]
    assert one.json()["classes"] == IRIS_CLASSES
    rows = [SETOSA_ROW, VIRGINICA_ROW]
    many = http.post("/api/rf/infer", json={"job_id": job_id, "inputs": rows})
    assert many.status_code == 200, many.text
    assert many.json()["input_shape"] == [2, 4]
    assert many.json()["predictions"] == ["Iris-setosa", "Iris-virginica"]
    assert all(sum(p) == pytest.approx(1.0) for p in many.json()["probabilities"])
    bare = http.post(
        "/api/rf/infer",
        json={"job_id": job_id, "inputs": SETOSA_ROW, "return_probabilities": False},
    )
    assert bare.json()["probabilities"] is None


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        (SETOSA_ROW[:3], "Input feature count mismatch"),
        ([SETOSA_ROW + [1.0]], "Input feature count mismatch"),
        ([[SETOSA_ROW]], "inputs must be a 1D feature vector or a 2D feature matrix"),
        (["a", "b", "c", "d"], "Invalid inputs payload: "),
    ],
)
def test_infer_with_a_wrong_payload_is_400(
    http: httpx.Client, iris_job: IrisJob, inputs: Any, message: str
) -> None:
    job_id, _, _ = iris_job
    reply = http.post("/api/rf/infer", json={"job_id": job_id, "inputs": inputs})
    assert reply.status_code == 400, reply.text
    detail = reply.json()["detail"]
    assert detail["message"].startswith(message)
    if message == "Input feature count mismatch":
        assert detail["expected_feature_count"] == 4
        assert detail["got_feature_count"] in (3, 5)


def test_export_py_and_pkl(http: httpx.Client, iris_job: IrisJob) -> None:
    job_id, _, _ = iris_job
    source = http.get("/api/rf/export", params={"job_id": job_id})
    assert source.status_code == 200
    assert source.headers["content-type"] == "text/x-python; charset=utf-8"
    assert "class GeneratedRandomForestModel" in source.text
    pickled = http.get("/api/rf/export", params={"job_id": job_id, "format": "pkl"})
    assert pickled.status_code == 200
    assert pickled.headers["content-type"] == "application/octet-stream"
    assert pickled.headers["content-disposition"] == f'attachment; filename="{job_id}.pkl"'
    artifact = joblib.load(io.BytesIO(pickled.content))  # our own artifact, just downloaded
    assert artifact["class_names"] == IRIS_CLASSES
    assert artifact["expected_feature_count"] == 4
    assert len(artifact["model"].estimators_) == 30


@pytest.mark.parametrize(
    ("node_id", "key", "value"),
    [
        ("rf_2", "n_estimators", 0),
        ("rf_2", "n_estimators", 10**7),
        ("rf_2", "max_depth", -1),
        ("rf_2", "criterion", "foo"),
        ("rf_2", "min_samples_split", 1),
        ("rf_3", "num_classes", 0),
    ],
)
def test_bad_hyper_parameter_is_400_naming_node_and_field(
    http: httpx.Client, iris_graph: Graph, node_id: str, key: str, value: Any
) -> None:
    graph = copy.deepcopy(iris_graph)
    next(n for n in graph["nodes"] if n["id"] == node_id)["config"][key] = value
    reply = http.post("/api/rf/train", json=graph)
    assert reply.status_code == 400, reply.text
    error = reply.json()["detail"]["errors"][0]
    assert (error["node_id"], error["field"]) == (node_id, f"config.{key}")
    report = http.post("/api/rf/validate", json=graph)
    assert report.status_code == 200 and report.json()["valid"] is False
    assert report.json()["errors"][0]["field"] == f"config.{key}"


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("test_size", 1.5, "training.test_size"),
        ("test_size", 0, "training.test_size"),
        ("log_every_trees", 0, "training.log_every_trees"),
        ("dataset", "nope", "Unsupported RF dataset: nope"),
        ("dataset", "mnist", "Unsupported RF dataset: mnist"),
    ],
)
def test_bad_training_value_is_400_naming_the_field(
    http: httpx.Client, iris_graph: Graph, key: str, value: Any, message: str
) -> None:
    graph = copy.deepcopy(iris_graph)
    graph["training"][key] = value
    reply = http.post("/api/rf/train", json=graph)
    assert reply.status_code == 400, reply.text
    detail = reply.json()["detail"]
    assert detail["errors"][0]["field"] == f"training.{key}"
    assert detail["message"] == detail["errors"][0]["message"]
    assert message in detail["message"]


def test_feature_count_mismatch_with_the_dataset_is_400(
    http: httpx.Client, iris_graph: Graph
) -> None:
    graph = copy.deepcopy(iris_graph)
    graph["nodes"][0]["config"]["shape"] = [5]
    reply = http.post("/api/rf/train", json=graph)
    assert reply.status_code == 400, reply.text
    error = reply.json()["detail"]["errors"][0]
    assert (error["field"], error["expected"], error["got"]) == ("config.shape", 4, 5)


def test_datasets_are_sorted_by_id(http: httpx.Client) -> None:
    datasets = http.get("/api/rf/datasets").json()["datasets"]
    ids = [d["id"] for d in datasets]
    assert ids == sorted(ids)
    assert {"iris", "wine", "breast_cancer"} <= set(ids)
    iris = next(d for d in datasets if d["id"] == "iris")
    assert (iris["name"], iris["kaggle_dataset"]) == ("Iris", "uciml/iris")


def test_status_stays_answerable_while_a_large_forest_trains(
    stack: Any, http: httpx.Client, iris_graph: Graph
) -> None:
    job_id = train(http, forest(iris_graph, trees=400))
    seen: list[str] = []
    slowest = 0.0
    deadline = time.monotonic() + 180
    while not seen or seen[-1] not in TERMINAL:
        assert time.monotonic() < deadline, f"job {job_id} did not end: {seen[-5:]}"
        started = time.perf_counter()
        reply = http.get("/api/rf/status", params={"job_id": job_id})
        slowest = max(slowest, time.perf_counter() - started)
        assert reply.status_code == 200, reply.text
        seen.append(reply.json()["status"])
        time.sleep(0.05)
    assert seen[-1] == "completed"
    assert "running" in seen
    assert slowest < 1.0, f"slowest status read took {slowest:.2f} s"
    messages, _ = stack.read_stream(f"/ws/rf/training/{job_id}")
    progress = [m["trees_built"] for m in messages if m["type"] == "rf_progress"]
    assert progress == list(range(10, 401, 10))
    assert messages[-1]["type"] == "rf_done"


def test_stop_mid_training_keeps_the_forest(
    stack: Any, http: httpx.Client, iris_graph: Graph
) -> None:
    job_id = train(http, forest(iris_graph, trees=5000))
    try:
        first, _ = stack.read_stream(f"/ws/rf/training/{job_id}", until="rf_progress")
        assert first[-1]["type"] == "rf_progress"
        stop = http.post("/api/rf/stop", json={"job_id": job_id})
        assert stop.status_code == 200, stop.text
        assert stop.json() == {"job_id": job_id, "status": "stopping"}
        messages, code = stack.read_stream(f"/ws/rf/training/{job_id}")
    finally:
        status = stack.wait_status("rf", job_id, TERMINAL)
    assert status["status"] == "stopped" and status["terminal"] is True
    assert status["has_artifact"] is True
    assert messages[-1]["type"] == "rf_done" and code == 1000
    built = [m["trees_built"] for m in messages if m["type"] == "rf_progress"]
    assert 10 <= built[-1] < 5000
    pickled = http.get("/api/rf/export", params={"job_id": job_id, "format": "pkl"})
    assert pickled.status_code == 200
    assert len(joblib.load(io.BytesIO(pickled.content))["model"].estimators_) == built[-1]
    reply = http.post("/api/rf/infer", json={"job_id": job_id, "inputs": SETOSA_ROW})
    assert reply.status_code == 200 and reply.json()["predictions"] == ["Iris-setosa"]
    again = http.post("/api/rf/stop", json={"job_id": job_id})
    assert again.json() == {"job_id": job_id, "status": "stopped"}  # terminal: unchanged
