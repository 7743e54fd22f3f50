"""Parsing RF graphs and telling them from NN graphs."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from mlcanvas.graph import RandomForestClassifierNode, RFGraph, RFTrainingSpec, graph_kind

RF_TRAINING_DEFAULTS = {
    "dataset": "iris",
    "test_size": 0.2,
    "random_state": 42,
    "stratify": True,
    "log_every_trees": 10,
}


def test_rf_nodes_parse_to_one_model_per_type(iris_payload: dict[str, Any]) -> None:
    graph = RFGraph.model_validate(iris_payload)
    assert isinstance(graph.nodes[1], RandomForestClassifierNode)
    assert graph.nodes[1].config == {"n_estimators": 12, "max_depth": 3}


@pytest.mark.parametrize("node_type", ["Dense", "RFDense", "randomforestclassifier"])
def test_types_outside_the_rf_set_are_schema_failures(node_type: str) -> None:
    with pytest.raises(ValidationError):
        RFGraph.model_validate({"nodes": [{"id": "a", "type": node_type}], "edges": []})


def test_rf_training_aliases_defaults_and_snake_case_wins() -> None:
    assert RFTrainingSpec().model_dump() == RF_TRAINING_DEFAULTS
    spec = RFTrainingSpec.model_validate(
        {"testSize": 0.3, "randomState": 7, "random_state": 8, "logEveryTrees": 5, "extra": 1}
    )
    assert spec.model_dump() == {
        **RF_TRAINING_DEFAULTS,
        "test_size": 0.3,
        "random_state": 8,
        "log_every_trees": 5,
    }


def test_rf_training_list_value_is_a_schema_failure() -> None:
    with pytest.raises(ValidationError):
        RFTrainingSpec.model_validate({"test_size": [0.2]})


def test_rf_graph_json_keeps_training_defaults(iris_payload: dict[str, Any]) -> None:
    dumped = RFGraph.model_validate(iris_payload).to_graph_json()
    assert dumped["training"] == {**RF_TRAINING_DEFAULTS, "test_size": 0.25}


@pytest.mark.parametrize(
    ("payload", "kind"),
    [
        ({"nodes": [{"type": "Input"}, {"type": "Dense"}]}, "nn"),
        ({"nodes": [{"type": "Input"}, {"type": "RFOutput"}]}, "rf"),
        ({"nodes": [{"type": "RandomForestClassifier"}]}, "rf"),
        ({"nodes": [{"type": "RFSomethingNew"}]}, "rf"),
        ({"nodes": []}, "nn"),
        ({"nodes": "oops"}, "nn"),
        ({"nodes": [None, 3, {"type": 5}]}, "nn"),
        ({}, "nn"),
    ],
)
def test_graph_kind_reads_node_types(payload: dict[str, Any], kind: str) -> None:
    assert graph_kind(payload) == kind
