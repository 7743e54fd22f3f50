"""Bad input against the real stack: every case is a 4xx in the contract's error shape that
names the field or node (never a 5xx), and nothing else is disturbed (contract §1, §4, §5)."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

UNKNOWN_ID = "0123456789abcdef0123456789abcdef"
MALFORMED_IDS = ["not-a-job", "0123456789ABCDEF0123456789ABCDEF", "0" * 31, "../../etc/passwd", ""]
DIGITS_INPUTS = [0.0] * 64
IRIS_INPUTS = [5.1, 3.5, 1.4, 0.2]

Graph = dict[str, Any]
DigitsJob = tuple[str, dict[str, Any]]
Request = Callable[[httpx.Client, str], httpx.Response]


def latest_job_id(http: httpx.Client, family: str) -> str | None:
    return http.get(f"/api/{family}/latest").json()["job_id"]


def with_training(graph: Graph, **training: Any) -> Graph:
    changed = copy.deepcopy(graph)
    changed["training"].update(training)
    return changed


def with_config(graph: Graph, node_id: str, **config: Any) -> Graph:
    changed = copy.deepcopy(graph)
    next(n for n in changed["nodes"] if n["id"] == node_id)["config"].update(config)
    return changed


def rejected_train(http: httpx.Client, graph: Graph, family: str = "model") -> dict[str, Any]:
    """POST train expecting 400 with the graph-error shape; no job may be created."""
    before = latest_job_id(http, family)
    reply = http.post(f"/api/{family}/train", json=graph)
    assert reply.status_code == 400, reply.text
    detail = reply.json()["detail"]
    assert detail["message"] == detail["errors"][0]["message"]
    assert latest_job_id(http, family) == before
    return detail


@pytest.fixture(scope="module")
def http(stack: Any) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.api, timeout=30) as client:
        yield client


@pytest.fixture(scope="module")
def digits_job(stack: Any, http: httpx.Client, digits_graph: Graph) -> DigitsJob:
    """One finished digits job shared by this module, with its status body when done."""
    reply = http.post("/api/model/train", json=digits_graph)
    assert reply.status_code == 200, reply.text
    job_id = reply.json()["job_id"]
    finished = stack.wait_status("model", job_id, {"completed", "failed", "stopped"})
    assert finished["status"] == "completed", finished
    return job_id, finished


@pytest.mark.parametrize(
    "path",
    [
        "/api/model/validate",
        "/api/model/compile",
        "/api/model/train",
        "/api/model/infer",
        "/api/model/stop",
        "/api/rf/validate",
        "/api/rf/train",
        "/api/rf/infer",
        "/api/rf/stop",
    ],
)
def test_malformed_json_body_is_422_with_a_message(http: httpx.Client, path: str) -> None:
    reply = http.post(path, content=b'{"nodes": [', headers={"content-type": "application/json"})
    assert reply.status_code == 422, reply.text
    body = reply.json()
    assert body["detail"][0]["type"] == "json_invalid"
    assert body["message"].startswith("body") and "JSON" in body["message"]


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({"edges": []}, "body.nodes: Field required"),
        ({"nodes": []}, "body.edges: Field required"),
        ({"nodes": "x", "edges": []}, "body.nodes: "),
        ({"nodes": [], "edges": {"id": "e1"}}, "body.edges: "),
        ({"nodes": ["Input"], "edges": []}, "body.nodes[0]"),
        ({"nodes": [{"id": 1, "type": "Input", "config": {}}], "edges": []}, "body.nodes[0]"),
        ({"nodes": [{"id": "a", "type": "Input", "config": [1]}], "edges": []}, "body.nodes[0]"),
        ({"nodes": [], "edges": [{"id": "e1", "source": "a"}]}, "body.edges[0].target"),
        ([], "body: "),
    ],
)
@pytest.mark.parametrize("family", ["model", "rf"])
def test_wrong_types_and_missing_lists_are_422_naming_the_field(
    http: httpx.Client, family: str, body: Any, where: str
) -> None:
    for action in ("validate", "train"):
        reply = http.post(f"/api/{family}/{action}", json=body)
        assert reply.status_code == 422, reply.text
        assert reply.json()["message"].startswith(where), reply.json()["message"]


@pytest.mark.parametrize(("family", "node_type"), [("model", "Conv2D"), ("rf", "Dense")])
def test_unknown_node_type_is_422_naming_the_type(
    http: httpx.Client, digits_graph: Graph, family: str, node_type: str
) -> None:
    graph = copy.deepcopy(digits_graph)
    graph["nodes"][0]["type"] = node_type
    for action in ("validate", "compile", "train"):
        reply = http.post(f"/api/{family}/{action}", json=graph)
        assert reply.status_code == 422, reply.text
        assert reply.json()["message"].startswith("body.nodes[0].type: "), reply.text


@pytest.mark.parametrize(
    ("node_id", "config", "field", "message"),
    [
        ("node_3", {"units": "many"}, "config.units", "Dense.units must be a positive integer"),
        ("node_3", {"units": True}, "config.units", "Dense.units must be a positive integer"),
        ("node_3", {"units": 2.5}, "config.units", "Dense.units must be a positive integer"),
        ("node_4", {"rate": 1.5}, "config.rate", "Dropout.rate must be in [0, 1)"),
        ("node_5", {"num_classes": 0}, "config.num_classes", "Output.num_classes must be"),
    ],
)
def test_bad_layer_config_on_train_is_400_naming_node_and_field(
    http: httpx.Client, digits_graph: Graph, node_id: str, config: dict, field: str, message: str
) -> None:
    error = rejected_train(http, with_config(digits_graph, node_id, **config))["errors"][0]
    assert (error["node_id"], error["field"]) == (node_id, field)
    assert error["message"].startswith(message)


def test_shape_mismatch_on_train_and_compile_is_400_naming_the_node(
    http: httpx.Client, digits_graph: Graph
) -> None:
    graph = copy.deepcopy(digits_graph)  # Dense straight after the [1,8,8] Input
    graph["nodes"][1] = {"id": "node_2", "type": "Dense", "config": {"units": 4}}
    detail = rejected_train(http, graph)
    assert detail["errors"][0]["node_id"] == "node_2"
    assert detail["message"] == "Dense requires rank-1 input; add Flatten before Dense"
    compiled = http.post("/api/model/compile", json=graph)
    assert compiled.status_code == 400
    assert compiled.json()["detail"]["errors"][0]["node_id"] == "node_2"


def test_edge_to_unknown_node_is_400_naming_the_target(
    http: httpx.Client, digits_graph: Graph
) -> None:
    graph = copy.deepcopy(digits_graph)
    graph["edges"].append({"id": "edge_9", "source": "node_5", "target": "ghost"})
    error = rejected_train(http, graph)["errors"][0]
    assert error["node_id"] == "ghost"
    assert error["message"] == "Edge references unknown node"


def test_unknown_dataset_is_400(http: httpx.Client, digits_graph: Graph) -> None:
    detail = rejected_train(http, with_training(digits_graph, dataset="cifar10"))
    assert detail["message"] == "Unsupported dataset for v1: cifar10"
    assert detail["errors"][0]["field"] == "training.dataset"


def test_dataset_contract_is_400_naming_the_required_shape(
    http: httpx.Client, digits_graph: Graph
) -> None:
    graph = with_config(digits_graph, "node_1", shape=[1, 28, 28])
    detail = rejected_train(http, graph)
    assert "Digits" in detail["message"] and "Input.shape=[1, 8, 8]" in detail["message"]
    assert detail["errors"][0]["expected"] == [1, 8, 8]
    assert detail["errors"][0]["got"] == [1, 28, 28]
    classes = rejected_train(http, with_config(digits_graph, "node_5", num_classes=3))
    assert "Output.num_classes=10" in classes["message"]


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("epochs", -1),
        ("epochs", 0),
        ("epochs", 10**9),
        ("epochs", "ten"),
        ("batch_size", 0),
        ("batch_size", 10**9),
        ("learning_rate", 0),
        ("learning_rate", -0.1),
        ("optimizer", "foo"),
        ("loss", "hinge"),
    ],
)
def test_bad_hyper_parameter_is_400_naming_the_training_field(
    http: httpx.Client, digits_graph: Graph, key: str, value: Any
) -> None:
    graph = with_training(digits_graph, **{key: value})
    error = rejected_train(http, graph)["errors"][0]
    assert (error["field"], error["got"]) == (f"training.{key}", value)
    compiled = http.post("/api/model/compile", json=graph)
    assert compiled.status_code == 400, compiled.text
    assert compiled.json()["detail"]["errors"][0]["field"] == f"training.{key}"


def test_unknown_activation_is_invalid_on_validate_and_400_on_train(
    http: httpx.Client, digits_graph: Graph
) -> None:
    graph = with_config(digits_graph, "node_3", activation="swishy")
    report = http.post("/api/model/validate", json=graph)
    assert report.status_code == 200, report.text
    assert report.json()["valid"] is False
    error = report.json()["errors"][0]
    assert (error["node_id"], error["field"], error["got"]) == (
        "node_3",
        "config.activation",
        "swishy",
    )
    assert "relu" in error["expected"]
    assert rejected_train(http, graph)["errors"][0]["field"] == "config.activation"


@pytest.mark.parametrize(
    ("inputs", "message", "got_shape"),
    [
        ([[[0.0] * 7] * 8], "Input tensor shape is incompatible with model input shape", [1, 8, 7]),
        ([[0.0] * 28] * 28, "Input tensor shape is incompatible with model input shape", [28, 28]),
        (
            [[[0.0] * 28] * 28],
            "Input tensor shape is incompatible with model input shape",
            [1, 28, 28],
        ),
        ([0.0] * 63, "Input tensor shape is incompatible with model input shape", [63]),
        (3.0, "inputs must be at least 1D", None),
        ("abc", "Invalid inputs payload: ", None),
        ([[1.0, 2.0], [3.0]], "Invalid inputs payload: ", None),
        ([[True] * 8] * 8, "Invalid inputs payload: ", None),
    ],
)
def test_infer_with_a_wrong_payload_is_400(
    http: httpx.Client, digits_job: DigitsJob, inputs: Any, message: str, got_shape: Any
) -> None:
    job_id, _ = digits_job
    reply = http.post("/api/model/infer", json={"job_id": job_id, "inputs": inputs})
    assert reply.status_code == 400, reply.text
    detail = reply.json()["detail"]
    assert detail["message"].startswith(message)
    if got_shape is not None:
        assert detail["expected_shape"] == [1, 8, 8]
        assert detail["got_shape"] == got_shape


def test_infer_on_a_job_without_a_model_is_400(
    stack: Any, http: httpx.Client, digits_graph: Graph
) -> None:
    job_id = http.post("/api/model/train", json=with_training(digits_graph, epochs=500)).json()[
        "job_id"
    ]
    try:
        reply = http.post("/api/model/infer", json={"job_id": job_id, "inputs": DIGITS_INPUTS})
        assert reply.status_code == 400, reply.text
        assert reply.json()["detail"]["message"] in {
            f"No trained model available for this job (status: {status})"
            for status in ("queued", "running")
        }
        weights = http.get("/api/model/export", params={"job_id": job_id, "format": "pt"})
        assert weights.status_code == 404
        assert weights.json()["detail"]["message"] == "No exported .pt artifact yet for this job"
    finally:
        assert http.post("/api/model/stop", json={"job_id": job_id}).status_code == 200
        stack.wait_status("model", job_id, {"stopped", "completed", "failed"})


def _id_requests() -> dict[str, Request]:
    def export(family: str, fmt: str) -> Request:
        return lambda http, job_id: http.get(
            f"/api/{family}/export", params={"job_id": job_id, "format": fmt}
        )

    return {
        "nn status": lambda http, job_id: http.get("/api/model/status", params={"job_id": job_id}),
        "nn stop": lambda http, job_id: http.post("/api/model/stop", json={"job_id": job_id}),
        "nn infer": lambda http, job_id: http.post(
            "/api/model/infer", json={"job_id": job_id, "inputs": DIGITS_INPUTS}
        ),
        "nn export py": export("model", "py"),
        "nn export pt": export("model", "pt"),
        "rf status": lambda http, job_id: http.get("/api/rf/status", params={"job_id": job_id}),
        "rf stop": lambda http, job_id: http.post("/api/rf/stop", json={"job_id": job_id}),
        "rf infer": lambda http, job_id: http.post(
            "/api/rf/infer", json={"job_id": job_id, "inputs": IRIS_INPUTS}
        ),
        "rf export py": export("rf", "py"),
        "rf export pkl": export("rf", "pkl"),
    }


ID_REQUESTS = _id_requests()


@pytest.mark.parametrize("job_id", [UNKNOWN_ID, *MALFORMED_IDS])
@pytest.mark.parametrize("request_name", list(ID_REQUESTS))
def test_unknown_or_malformed_job_id_is_404(
    http: httpx.Client, request_name: str, job_id: str
) -> None:
    reply = ID_REQUESTS[request_name](http, job_id)
    assert reply.status_code == 404, reply.text
    assert reply.json()["detail"]["message"] == f"Unknown job_id: {job_id}"


@pytest.mark.parametrize("request_name", [name for name in ID_REQUESTS if name.startswith("rf")])
def test_nn_job_id_is_unknown_to_the_rf_endpoints(
    http: httpx.Client, digits_job: DigitsJob, request_name: str
) -> None:
    job_id, _ = digits_job
    reply = ID_REQUESTS[request_name](http, job_id)
    assert reply.status_code == 404, reply.text
    assert reply.json()["detail"]["message"] == f"Unknown job_id: {job_id}"


@pytest.mark.parametrize("job_id", [UNKNOWN_ID, "not-a-job", "0123456789ABCDEF0123456789ABCDEF"])
@pytest.mark.parametrize(
    ("path", "error_type"), [("/ws/training", "error"), ("/ws/rf/training", "rf_error")]
)
def test_websocket_of_unknown_job_sends_error_and_closes_1008(
    stack: Any, path: str, error_type: str, job_id: str
) -> None:
    messages, code = stack.read_stream(f"{path}/{job_id}", timeout=60)
    assert messages == [{"type": error_type, "message": f"Unknown job_id: {job_id}"}]
    assert code == 1008


def test_rf_websocket_of_an_nn_job_closes_1008(stack: Any, digits_job: DigitsJob) -> None:
    job_id, _ = digits_job
    messages, code = stack.read_stream(f"/ws/rf/training/{job_id}", timeout=60)
    assert messages == [{"type": "rf_error", "message": f"Unknown job_id: {job_id}"}]
    assert code == 1008


@pytest.mark.parametrize(("family", "fmt"), [("model", "zip"), ("model", "pkl"), ("rf", "pt")])
def test_export_with_an_unknown_format_is_422(
    http: httpx.Client, digits_job: DigitsJob, family: str, fmt: str
) -> None:
    reply = http.get(f"/api/{family}/export", params={"job_id": digits_job[0], "format": fmt})
    assert reply.status_code == 422, reply.text
    assert reply.json()["message"].startswith("query.format: ")


@pytest.mark.parametrize("family", ["model", "rf"])
def test_status_without_job_id_is_422(http: httpx.Client, family: str) -> None:
    reply = http.get(f"/api/{family}/status")
    assert reply.status_code == 422, reply.text
    assert reply.json()["message"] == "query.job_id: Field required"


@pytest.mark.parametrize("body", [None, {}, {"job_id": None}])
def test_stop_without_a_job_id_answers_the_newest_job_unchanged(
    http: httpx.Client, digits_job: DigitsJob, body: dict | None
) -> None:
    newest = http.get("/api/model/latest").json()
    assert newest["terminal"] is True  # every job of this module has ended by now
    reply = (
        http.post("/api/model/stop") if body is None else http.post("/api/model/stop", json=body)
    )
    assert reply.status_code == 200, reply.text
    assert reply.json() == {"job_id": newest["job_id"], "status": newest["status"]}
    assert http.get("/api/model/latest").json() == newest


def test_nothing_else_was_disturbed(http: httpx.Client, digits_job: DigitsJob) -> None:
    job_id, finished = digits_job
    assert http.get("/health").json() == {"status": "ok"}
    health = http.get("/api/health")
    assert health.status_code == 200
    for dependency in ("prefect", "executor", "event_log"):
        assert health.json()["dependencies"][dependency]["ok"], health.text
    assert http.get("/api/model/status", params={"job_id": job_id}).json() == finished
    image = [[[0.0] * 8 for _ in range(8)]]
    reply = http.post("/api/model/infer", json={"job_id": job_id, "inputs": image})
    assert reply.status_code == 200, reply.text
    assert len(reply.json()["predictions"]) == 1
