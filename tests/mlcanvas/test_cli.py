"""The typer CLI through CliRunner: validate and train's bad-input paths, no servers started."""

from __future__ import annotations

import copy
import json
import socket
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from mlcanvas.cli import app
from mlcanvas.cli_train import with_overrides

WIDE = {"COLUMNS": "220", "NO_COLOR": "1"}


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def write_graph(tmp_path: Path):  # type: ignore[no-untyped-def]
    def write(graph: dict[str, Any] | str, name: str = "graph.json") -> str:
        path = tmp_path / name
        path.write_text(graph if isinstance(graph, str) else json.dumps(graph))
        return str(path)

    return write


@pytest.fixture
def no_stack_url() -> str:
    """An API URL where nothing listens (a port we just released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def _bad_nn(digits_graph: dict[str, Any]) -> dict[str, Any]:
    graph = copy.deepcopy(digits_graph)
    dense = next(node for node in graph["nodes"] if node["type"] == "Dense")
    dense["config"]["units"] = -3
    graph["training"]["optimizer"] = "rmsprop"
    return graph


def test_validate_valid_nn_prints_layers_and_total(runner, write_graph, digits_graph) -> None:
    result = runner.invoke(app, ["validate", write_graph(digits_graph)], env=WIDE)

    assert result.exit_code == 0, result.output
    assert "Neural network: valid" in result.output
    for node in digits_graph["nodes"]:
        assert node["id"] in result.output
    assert "[1, 8, 8]" in result.output
    assert "4,160" in result.output  # Dense 64 -> 64
    assert "4,810" in result.output  # total


def test_validate_valid_rf(runner, write_graph, iris_graph) -> None:
    result = runner.invoke(app, ["validate", write_graph(iris_graph)], env=WIDE)

    assert result.exit_code == 0, result.output
    assert "Random forest: valid" in result.output
    assert "RandomForestClassifier" in result.output
    assert "3 nodes" in result.output


def test_validate_invalid_graph_lists_every_error_and_exits_1(
    runner, write_graph, digits_graph
) -> None:
    result = runner.invoke(app, ["validate", write_graph(_bad_nn(digits_graph))], env=WIDE)

    assert result.exit_code == 1, result.output
    assert "Graph is invalid: 2 error(s)" in result.output
    assert "node_3" in result.output
    assert "config.units" in result.output
    assert "Dense.units must be a positive integer" in result.output
    assert "training.optimizer" in result.output
    assert "rmsprop" in result.output
    assert "Traceback" not in result.output


def test_validate_malformed_json_exits_2(runner, write_graph) -> None:
    result = runner.invoke(app, ["validate", write_graph('{"nodes": [')], env=WIDE)

    assert result.exit_code == 2
    assert "is not valid JSON" in result.output
    assert "Traceback" not in result.output


def test_validate_unknown_node_type_exits_2(runner, write_graph) -> None:
    graph = {"nodes": [{"id": "a", "type": "Conv2D", "config": {}}], "edges": []}
    result = runner.invoke(app, ["validate", write_graph(graph)], env=WIDE)

    assert result.exit_code == 2
    assert "does not match the schema" in result.output
    assert "nodes[0]" in result.output
    assert "Conv2D" in result.output


def test_validate_non_object_json_exits_2(runner, write_graph) -> None:
    result = runner.invoke(app, ["validate", write_graph("[1, 2]")], env=WIDE)

    assert result.exit_code == 2
    assert "must hold a JSON object" in result.output


def test_train_without_stack_refuses_bad_graph(
    runner, write_graph, digits_graph, no_stack_url
) -> None:
    path = write_graph(_bad_nn(digits_graph))
    result = runner.invoke(app, ["train", path, "--api", no_stack_url, "--epochs", "2"], env=WIDE)

    assert result.exit_code == 1, result.output
    assert "config.units" in result.output
    assert "training.optimizer" in result.output
    assert "Traceback" not in result.output


def test_train_malformed_json_exits_2(runner, write_graph, no_stack_url) -> None:
    result = runner.invoke(app, ["train", write_graph("{oops"), "--api", no_stack_url], env=WIDE)

    assert result.exit_code == 2
    assert "is not valid JSON" in result.output


def test_train_unknown_node_type_exits_2_before_any_stack_probe(runner, write_graph) -> None:
    graph = {"nodes": [{"id": "a", "type": "LSTM", "config": {}}], "edges": []}
    result = runner.invoke(app, ["train", write_graph(graph), "--api", "http://127.0.0.1:9"])

    assert result.exit_code == 2
    assert "does not match the schema" in result.output


def test_jobs_without_stack_says_how_to_start_one(runner, no_stack_url) -> None:
    result = runner.invoke(app, ["jobs", "--api", no_stack_url], env=WIDE)

    assert result.exit_code == 1
    assert "No stack answers" in result.output
    assert "mlcanvas serve" in result.output


def test_overrides_go_into_the_training_block(digits_graph) -> None:
    graph = with_overrides(digits_graph, epochs=3, dataset="mnist")

    assert graph["training"]["epochs"] == 3
    assert graph["training"]["dataset"] == "mnist"
    assert graph["training"]["batch_size"] == digits_graph["training"]["batch_size"]
    assert digits_graph["training"]["epochs"] == 2  # the original is untouched


def test_overrides_create_a_training_block_when_absent() -> None:
    graph = {"nodes": [], "edges": []}

    assert with_overrides(graph, epochs=None, dataset=None) is graph
    assert with_overrides(graph, epochs=4, dataset=None)["training"] == {"epochs": 4}
