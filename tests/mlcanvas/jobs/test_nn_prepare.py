"""From a posted NN graph to a prepared job, with the contract's 400 order (§4 train):
unsupported dataset, then graph errors, then the dataset contract."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from mlcanvas.errors import GraphValidationError, InvalidInputError
from mlcanvas.graph import SOFTMAX_SUPPRESSED_WARNING, NNGraph
from mlcanvas.jobs.nn_prepare import compile_nn, prepare_nn_training, resolve_dataset_id

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


@pytest.fixture
def digits() -> dict[str, Any]:
    return copy.deepcopy(json.loads((EXAMPLES / "digits_mlp.json").read_text()))


def _errors(payload: dict[str, Any], *, train: bool = True) -> list[dict[str, Any]]:
    graph = NNGraph.model_validate(payload)
    with pytest.raises(GraphValidationError) as caught:
        prepare_nn_training(graph) if train else compile_nn(graph)
    assert isinstance(caught.value, InvalidInputError)  # a 400
    assert caught.value.message == caught.value.errors[0].message
    return [e.to_dict() for e in caught.value.errors]


def test_the_digits_example_is_prepared_for_training(digits: dict[str, Any]) -> None:
    prepared = prepare_nn_training(NNGraph.model_validate(digits))

    assert prepared.input_shape == [1, 8, 8]
    assert prepared.num_classes == 10
    assert prepared.warnings == [SOFTMAX_SUPPRESSED_WARNING]
    assert prepared.training.dataset == "digits" and prepared.training.epochs == 10
    assert prepared.summary["param_count"] == 64 * 64 + 64 + 64 * 10 + 10
    assert prepared.summary["resolved_training"] == prepared.training.model_dump()
    assert [layer["node_id"] for layer in prepared.summary["layers"]] == [
        f"node_{i}" for i in range(1, 6)
    ]
    assert "class GeneratedModel" in prepared.python_source


def test_graph_json_keeps_node_extras_and_raw_training_in_snake_case(
    digits: dict[str, Any],
) -> None:
    digits["nodes"][2]["config"].update(rows=8, cols=8, unknown_key="kept")
    digits["nodes"][2]["name"] = "hidden layer"
    digits["nodes"][2]["position"] = {"x": 1, "y": 2}
    digits["edges"][0]["animated"] = True
    digits["training"] = {"dataset": " Digits ", "batchSize": 32, "learningRate": 0.01}
    digits["viewport"] = {"zoom": 1}

    prepared = prepare_nn_training(NNGraph.model_validate(digits))
    graph_json = prepared.graph_json

    dense = graph_json["nodes"][2]
    assert dense["name"] == "hidden layer" and dense["position"] == {"x": 1, "y": 2}
    assert dense["config"] == {
        "units": 64,
        "activation": "relu",
        "rows": 8,
        "cols": 8,
        "unknown_key": "kept",
    }
    assert graph_json["edges"][0] == {"id": "edge_1", "source": "node_1", "target": "node_2"}
    assert "viewport" not in graph_json
    assert graph_json["training"] == {
        "dataset": " Digits ",
        "epochs": 20,
        "batch_size": 32,
        "optimizer": "adam",
        "learning_rate": 0.01,
        "loss": "cross_entropy",
    }
    assert (prepared.training.dataset, prepared.training.batch_size) == ("digits", 32)


def test_without_a_training_block_graph_json_has_none_and_mnist_is_assumed(
    digits: dict[str, Any],
) -> None:
    del digits["training"]
    graph = NNGraph.model_validate(digits)

    assert "training" not in compile_nn(graph).graph_json
    assert resolve_dataset_id(graph) == "mnist"
    assert [e["message"] for e in _errors(digits)] == ["MNIST requires Input.shape=[1, 28, 28]"]


def test_an_unsupported_dataset_is_reported_first_and_alone(digits: dict[str, Any]) -> None:
    digits["training"]["dataset"] = " CIFAR10 "
    digits["training"]["epochs"] = 0  # a training error, and
    digits["nodes"][4]["config"]["num_classes"] = 3  # a contract mismatch: neither reported

    assert _errors(digits) == [
        {
            "message": "Unsupported dataset for v1: cifar10",
            "node_id": None,
            "field": "training.dataset",
            "expected": ["mnist", "digits"],
            "got": "cifar10",
        }
    ]


def test_graph_and_training_errors_come_before_the_dataset_contract(
    digits: dict[str, Any],
) -> None:
    digits["nodes"][0]["config"]["shape"] = [1, 28, 28]  # contract mismatch: not reported
    digits["nodes"][2]["config"]["activation"] = "swish"
    digits["training"]["epochs"] = 0

    errors = _errors(digits)

    assert [(e["node_id"], e["field"]) for e in errors] == [
        ("node_3", "config.activation"),
        (None, "training.epochs"),
    ]


def test_a_valid_graph_that_does_not_fit_its_dataset(digits: dict[str, Any]) -> None:
    digits["nodes"][0]["config"]["shape"] = [1, 28, 28]
    digits["nodes"][4]["config"]["num_classes"] = 3

    errors = _errors(digits)

    assert errors == [
        {
            "message": "Digits (sklearn) requires Input.shape=[1, 8, 8]",
            "node_id": None,
            "field": "config.shape",
            "expected": [1, 8, 8],
            "got": [1, 28, 28],
        },
        {
            "message": "Digits (sklearn) requires Output.num_classes=10",
            "node_id": None,
            "field": "config.num_classes",
            "expected": 10,
            "got": 3,
        },
    ]


def test_compile_does_not_look_at_the_dataset(digits: dict[str, Any]) -> None:
    digits["training"]["dataset"] = "cifar10"
    digits["nodes"][4]["config"]["num_classes"] = 3

    prepared = compile_nn(NNGraph.model_validate(digits))

    assert prepared.num_classes == 3
    assert prepared.training.dataset == "cifar10"


def test_compile_lists_structural_errors(digits: dict[str, Any]) -> None:
    digits["nodes"], digits["edges"] = [], []

    errors = _errors(digits, train=False)

    assert [e["message"] for e in errors] == ["Graph has no nodes"]
