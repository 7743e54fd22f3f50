"""From a posted RF graph to a prepared job, with the contract's 400 order (§6 train):
unsupported dataset, then graph errors (hyperparameters included), then features and classes."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from mlcanvas.errors import GraphValidationError, InvalidInputError
from mlcanvas.graph import RFGraph
from mlcanvas.jobs.rf_prepare import compile_rf, prepare_rf_training, rf_dataset_spec

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
IRIS_FEATURES = ["SepalLengthCm", "SepalWidthCm", "PetalLengthCm", "PetalWidthCm"]


@pytest.fixture
def iris() -> dict[str, Any]:
    return copy.deepcopy(json.loads((EXAMPLES / "iris_forest.json").read_text()))


def _errors(payload: dict[str, Any]) -> list[dict[str, Any]]:
    with pytest.raises(GraphValidationError) as caught:
        prepare_rf_training(RFGraph.model_validate(payload))
    assert isinstance(caught.value, InvalidInputError)  # a 400
    assert caught.value.message == caught.value.errors[0].message
    return [e.to_dict() for e in caught.value.errors]


def test_the_iris_example_is_prepared_for_training(iris: dict[str, Any]) -> None:
    prepared, spec = prepare_rf_training(RFGraph.model_validate(iris))

    assert spec.id == "iris"
    assert (prepared.input_shape, prepared.feature_count, prepared.num_classes) == ([4], 4, 3)
    assert prepared.hyperparameters.n_estimators == 30
    assert prepared.hyperparameters.random_state == 42  # null falls back to training's
    summary = prepared.summary
    assert summary["model_family"] == "random_forest"
    assert summary["dataset"] == "iris"
    assert (summary["expected_feature_count"], summary["num_classes"]) == (4, 3)
    assert [layer["type"] for layer in summary["layers"]] == [
        "RFInput",
        "RandomForestClassifier",
        "RFOutput",
    ]
    assert summary["layers"][1]["input_shape"] == [4]
    assert summary["layers"][2]["output_shape"] == [3]
    assert summary["resolved_hyperparameters"] == prepared.hyperparameters.model_dump()
    assert summary["resolved_training"] == prepared.training.model_dump()
    assert "class GeneratedRandomForestModel" in prepared.python_source
    assert all(name in prepared.python_source for name in IRIS_FEATURES)


def test_compile_without_a_dataset_names_features_by_position(iris: dict[str, Any]) -> None:
    prepared = compile_rf(RFGraph.model_validate(iris))

    assert "feature_3" in prepared.python_source
    assert "SepalLengthCm" not in prepared.python_source


def test_graph_json_keeps_extras_and_raw_training(iris: dict[str, Any]) -> None:
    iris["nodes"][0]["name"] = "features"
    iris["training"] = {"dataset": " IRIS ", "testSize": 0.25, "randomState": 7}

    prepared, spec = prepare_rf_training(RFGraph.model_validate(iris))

    assert prepared.graph_json["nodes"][0]["name"] == "features"
    assert prepared.graph_json["training"]["dataset"] == " IRIS "
    assert prepared.graph_json["training"]["test_size"] == 0.25
    assert spec.id == "iris"
    assert (prepared.training.test_size, prepared.training.random_state) == (0.25, 7)
    assert prepared.hyperparameters.random_state == 7


def test_without_a_training_block_iris_is_assumed(iris: dict[str, Any]) -> None:
    del iris["training"]
    graph = RFGraph.model_validate(iris)

    assert rf_dataset_spec(graph).id == "iris"
    assert "training" not in prepare_rf_training(graph)[0].graph_json


def test_a_flattened_input_counts_its_features(iris: dict[str, Any]) -> None:
    iris["nodes"][0]["config"]["shape"] = [2, 2]
    iris["nodes"].append({"id": "rf_0", "type": "RFFlatten", "config": {}})
    iris["edges"] = [
        {"id": "e0", "source": "rf_1", "target": "rf_0"},
        {"id": "e1", "source": "rf_0", "target": "rf_2"},
        {"id": "e2", "source": "rf_2", "target": "rf_3"},
    ]

    prepared, _spec = prepare_rf_training(RFGraph.model_validate(iris))

    assert (prepared.input_shape, prepared.feature_count) == ([2, 2], 4)
    assert prepared.summary["expected_feature_count"] == 4


def test_an_unsupported_dataset_is_reported_first_and_alone(iris: dict[str, Any]) -> None:
    iris["training"]["dataset"] = "MNIST"
    iris["nodes"][1]["config"]["n_estimators"] = 0  # a graph error: not reported

    assert _errors(iris) == [
        {
            "message": "Unsupported RF dataset: mnist",
            "node_id": None,
            "field": "training.dataset",
            "expected": ["breast_cancer", "iris", "wine", "wine_sklearn"],
            "got": "mnist",
        }
    ]


def test_graph_and_training_errors_come_before_the_dataset_contract(
    iris: dict[str, Any],
) -> None:
    iris["nodes"][0]["config"]["shape"] = [5]  # a contract mismatch: not reported
    iris["nodes"][1]["config"]["n_estimators"] = 0
    iris["training"]["test_size"] = 2

    errors = _errors(iris)

    assert [(e["node_id"], e["field"]) for e in errors] == [
        ("rf_2", "config.n_estimators"),
        (None, "training.test_size"),
    ]


def test_a_valid_graph_that_does_not_fit_its_dataset(iris: dict[str, Any]) -> None:
    iris["nodes"][0]["config"]["shape"] = [5]
    iris["nodes"][2]["config"]["num_classes"] = 4

    assert _errors(iris) == [
        {
            "message": "Iris requires 4 features (product of RFInput.shape)",
            "node_id": None,
            "field": "config.shape",
            "expected": 4,
            "got": 5,
        },
        {
            "message": "Iris requires RFOutput.num_classes=3",
            "node_id": None,
            "field": "config.num_classes",
            "expected": 3,
            "got": 4,
        },
    ]
