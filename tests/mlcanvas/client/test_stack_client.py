"""API error bodies (contract §1) decoded back into our error tree; URLs of job sockets."""

from __future__ import annotations

import socket

import httpx
import pytest

from mlcanvas.client import StackClient, error_from_response
from mlcanvas.errors import (
    DependencyUnavailableError,
    GraphValidationError,
    InvalidInputError,
    NotFoundError,
)


def test_graph_errors_keep_node_ids_and_fields() -> None:
    body = {
        "detail": {
            "message": "Dense.units must be a positive integer",
            "errors": [
                {
                    "node_id": "node_3",
                    "field": "config.units",
                    "message": "Dense.units must be a positive integer",
                    "expected": "int > 0",
                    "got": -3,
                    "extra_key": "ignored",
                },
                {"node_id": None, "message": "Unsupported dataset for v1: cifar"},
            ],
        }
    }

    error = error_from_response(httpx.Response(400, json=body))

    assert isinstance(error, GraphValidationError)
    assert [e.node_id for e in error.errors] == ["node_3", None]
    assert error.errors[0].field == "config.units"
    assert error.errors[0].got == -3
    assert error.message == "Dense.units must be a positive integer"


def test_not_found_keeps_the_message() -> None:
    body = {"detail": {"message": "Unknown job_id: nope"}}

    error = error_from_response(httpx.Response(404, json=body))

    assert isinstance(error, NotFoundError)
    assert error.message == "Unknown job_id: nope"


def test_schema_failure_uses_the_top_level_message() -> None:
    body = {"detail": [{"loc": ["body", "nodes"], "msg": "Field required"}], "message": "x: y"}

    error = error_from_response(httpx.Response(422, json=body))

    assert isinstance(error, InvalidInputError)
    assert error.message == "x: y"


def test_server_fault_is_a_dependency_error() -> None:
    error = error_from_response(httpx.Response(500, text="<html>oops</html>"))

    assert isinstance(error, DependencyUnavailableError)
    assert "HTTP 500" in error.message


def test_socket_urls_follow_the_api_scheme() -> None:
    with StackClient("https://canvas.example:8443/") as client:
        assert (
            client.socket_url("nn", "a" * 32) == f"wss://canvas.example:8443/ws/training/{'a' * 32}"
        )
    with StackClient("http://127.0.0.1:8000") as client:
        assert client.socket_url("rf", "b" * 32).startswith("ws://127.0.0.1:8000/ws/rf/training/")


def test_unreachable_api_is_reported_not_raised_raw() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with StackClient(f"http://127.0.0.1:{port}") as client:
        assert client.is_up() is False
        with pytest.raises(DependencyUnavailableError, match="Cannot reach the API"):
            client.jobs(5)
