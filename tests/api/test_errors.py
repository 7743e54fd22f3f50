"""The one table from error families to HTTP responses, and the 422 `message` (contract §1)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import ValidationError

from api.errors import install_error_handlers, status_for, validation_message
from mlcanvas.errors import (
    ConflictError,
    DatasetError,
    DatasetUnavailableError,
    DependencyUnavailableError,
    ErrorDetail,
    GraphValidationError,
    InferenceInputError,
    InvalidInputError,
    MLCanvasError,
    NotFoundError,
    NotReadyError,
)
from mlcanvas.graph import NNGraph


@pytest.mark.parametrize(
    ("err", "status"),
    [
        (InvalidInputError("x"), 400),
        (GraphValidationError([ErrorDetail("x")]), 400),
        (DatasetError("x"), 400),
        (DatasetUnavailableError("x"), 400),
        (InferenceInputError("x"), 400),
        (NotReadyError("x"), 400),
        (NotFoundError("x"), 404),
        (ConflictError("x"), 409),
        (DependencyUnavailableError("x"), 503),
        (MLCanvasError("x"), 500),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, Exception) else str(v),
)
def test_status_for_each_family(err: MLCanvasError, status: int) -> None:
    assert status_for(err) == status


@pytest.mark.parametrize(
    ("errors", "message"),
    [
        ([], "Invalid request"),
        (
            [{"type": "missing", "loc": ("query", "job_id"), "msg": "Field required"}],
            "query.job_id: Field required",
        ),
        (
            [{"type": "int_parsing", "loc": ["body", "nodes", 0, "config", "units"], "msg": "m"}],
            "body.nodes[0].config.units: m",
        ),
        (
            [{"type": "missing", "loc": ("body",), "msg": "Field required"}, {"msg": "second"}],
            "body: Field required",
        ),
        (
            [
                {
                    "type": "union_tag_invalid",
                    "loc": ("body", "nodes", 2),
                    "msg": "Input tag 'Conv2D' found using 'type' does not match ...",
                    "ctx": {"discriminator": "'type'"},
                }
            ],
            "body.nodes[2].type: Input tag 'Conv2D' found using 'type' does not match ...",
        ),
        (
            [{"type": "union_tag_not_found", "loc": ("body", "nodes", 0), "msg": "no tag"}],
            "body.nodes[0].type: no tag",
        ),
        ([{"loc": ()}], ": invalid"),
    ],
)
def test_validation_message_is_the_first_error_with_a_readable_path(
    errors: list[dict[str, Any]], message: str
) -> None:
    assert validation_message(errors) == message


def test_validation_message_names_the_node_type_field_of_a_real_pydantic_error() -> None:
    with pytest.raises(ValidationError) as caught:
        NNGraph.model_validate({"nodes": [{"id": "n", "type": "Conv2D"}], "edges": []})
    errors = [{**e, "loc": ("body", *e["loc"])} for e in caught.value.errors()]

    message = validation_message(errors)

    assert message.startswith("body.nodes[0].type: Input tag 'Conv2D'")
    assert "'Input'" in message and "'Dense'" in message


class Client:
    """Requests through the real ASGI app (handlers, middleware), without a server."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        async def send() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app, raise_app_exceptions=False)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
                return await http.request(method, url, **kwargs)

        return asyncio.run(send())

    def get(self, url: str) -> httpx.Response:
        return self.request("GET", url)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)


@pytest.fixture
def client() -> Client:
    app = FastAPI()
    install_error_handlers(app)

    @app.post("/graph")
    def post_graph(graph: NNGraph) -> dict[str, int]:
        return {"nodes": len(graph.nodes)}

    @app.get("/raise/{what}")
    def raise_(what: str) -> None:
        if what == "graph":
            raise GraphValidationError(
                [
                    ErrorDetail("Dense.units must be a positive integer", "n3", "config.units"),
                    ErrorDetail("training.epochs must be an integer", field="training.epochs"),
                ]
            )
        if what == "infer":
            raise InferenceInputError("Input tensor shape is incompatible", got_shape=[1, 2])
        if what == "missing":
            raise NotFoundError(f"Unknown job_id: {what}", job_id=what)
        if what == "busy":
            raise DependencyUnavailableError("Prefect server unreachable")
        raise RuntimeError("a bug")

    return Client(app)


def test_a_graph_error_is_400_with_message_and_every_error(client: Client) -> None:
    response = client.get("/raise/graph")

    assert response.status_code == 400
    detail = response.json()["detail"]
    assert detail["message"] == "Dense.units must be a positive integer"
    assert [(e["node_id"], e["field"]) for e in detail["errors"]] == [
        ("n3", "config.units"),
        (None, "training.epochs"),
    ]


@pytest.mark.parametrize(
    ("what", "status", "detail"),
    [
        ("infer", 400, {"message": "Input tensor shape is incompatible", "got_shape": [1, 2]}),
        ("missing", 404, {"message": "Unknown job_id: missing", "job_id": "missing"}),
        ("busy", 503, {"message": "Prefect server unreachable"}),
    ],
)
def test_other_families_answer_their_status_with_message_and_fields(
    client: Client, what: str, status: int, detail: dict[str, Any]
) -> None:
    response = client.get(f"/raise/{what}")

    assert response.status_code == status
    assert response.json() == {"detail": detail}


def test_a_bug_is_a_logged_500_that_names_only_the_exception_type(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="api.errors"):
        response = client.get("/raise/bug")

    assert response.status_code == 500
    assert response.json() == {"detail": {"message": "Internal server error: RuntimeError"}}
    assert "unhandled error on GET /raise/bug" in caplog.text
    assert "a bug" in caplog.text  # the traceback is in the log, not in the body


def test_a_schema_failure_is_422_with_a_top_level_message(client: Client) -> None:
    response = client.post("/graph", json={"nodes": [{"id": "n", "type": "Conv2D"}], "edges": []})

    assert response.status_code == 422
    body = response.json()
    assert body["detail"][0]["loc"] == ["body", "nodes", 0]
    assert body["message"].startswith("body.nodes[0].type: Input tag 'Conv2D'")


def test_a_missing_required_list_is_422(client: Client) -> None:
    response = client.post("/graph", json={"nodes": []})

    assert response.status_code == 422
    assert response.json()["message"] == "body.edges: Field required"
