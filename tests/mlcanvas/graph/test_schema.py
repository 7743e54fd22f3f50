"""Parsing NN graphs: what is kept, what is dropped, and what is a 422 (pydantic error)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from mlcanvas.graph import DenseNode, InputNode, NNGraph, TrainingSpec

TRAINING_DEFAULTS = {
    "dataset": "mnist",
    "epochs": 20,
    "batch_size": 64,
    "optimizer": "adam",
    "learning_rate": 0.001,
    "loss": "cross_entropy",
}


def test_nodes_parse_to_one_model_per_type(mnist_payload: dict[str, Any]) -> None:
    graph = NNGraph.model_validate(mnist_payload)
    assert isinstance(graph.nodes[0], InputNode)
    assert isinstance(graph.nodes[2], DenseNode)
    assert [node.type for node in graph.nodes] == ["Input", "Flatten", "Dense", "Output"]


def test_node_extras_and_raw_config_are_kept_for_graph_json() -> None:
    payload = {
        "nodes": [
            {
                "id": "node_3",
                "type": "Dense",
                "config": {"units": "sixteen", "rows": 4, "cols": 4},
                "name": "hidden",
                "position": {"x": 1, "y": 2},
            }
        ],
        "edges": [],
    }
    dumped = NNGraph.model_validate(payload).to_graph_json()
    assert dumped["nodes"][0] == payload["nodes"][0]


def test_missing_or_null_config_becomes_empty() -> None:
    graph = NNGraph.model_validate(
        {
            "nodes": [
                {"id": "a", "type": "Flatten"},
                {"id": "b", "type": "Flatten", "config": None},
            ],
            "edges": [],
        }
    )
    assert [node.config for node in graph.nodes] == [{}, {}]


def test_edge_extras_are_dropped_and_top_level_extras_ignored() -> None:
    graph = NNGraph.model_validate(
        {
            "nodes": [],
            "edges": [{"id": "e", "source": "a", "target": "b", "animated": True}],
            "viewport": {"zoom": 1},
        }
    )
    assert graph.to_graph_json() == {
        "nodes": [],
        "edges": [{"id": "e", "source": "a", "target": "b"}],
    }


@pytest.mark.parametrize(
    ("payload", "loc"),
    [
        ({"nodes": [{"id": "a", "type": "Conv2D"}], "edges": []}, ("nodes", 0)),
        ({"nodes": [{"id": "a", "type": "RFInput"}], "edges": []}, ("nodes", 0)),
        ({"nodes": [{"id": "a"}], "edges": []}, ("nodes", 0)),
        ({"edges": []}, ("nodes",)),
        ({"nodes": []}, ("edges",)),
        ({"nodes": [], "edges": [{"id": "e", "source": "a"}]}, ("edges", 0, "target")),
        ({"nodes": [{"id": 1, "type": "Input"}], "edges": []}, ("nodes", 0, "Input", "id")),
        ({"nodes": [], "edges": [], "training": {"epochs": [5]}}, ("training", "epochs")),
        ({"nodes": [], "edges": [], "training": "fast"}, ("training",)),
    ],
)
def test_schema_failures_are_pydantic_errors(payload: dict[str, Any], loc: tuple[Any, ...]) -> None:
    with pytest.raises(ValidationError) as caught:
        NNGraph.model_validate(payload)
    assert caught.value.errors()[0]["loc"][: len(loc)] == loc


def test_unknown_type_error_names_the_allowed_tags() -> None:
    with pytest.raises(ValidationError) as caught:
        NNGraph.model_validate({"nodes": [{"id": "a", "type": "LSTM"}], "edges": []})
    error = caught.value.errors()[0]
    assert error["type"] == "union_tag_invalid"
    assert "'Dense'" in error["msg"]


def test_training_dump_has_every_default_in_snake_case() -> None:
    assert TrainingSpec().model_dump() == TRAINING_DEFAULTS
    graph = NNGraph.model_validate({"nodes": [], "edges": [], "training": {"epochs": 3}})
    assert graph.to_graph_json()["training"] == {**TRAINING_DEFAULTS, "epochs": 3}


def test_training_is_omitted_from_graph_json_when_not_sent() -> None:
    graph = NNGraph.model_validate({"nodes": [], "edges": []})
    assert graph.training is None
    assert "training" not in graph.to_graph_json()


def test_training_camel_case_aliases_and_snake_case_wins() -> None:
    spec = TrainingSpec.model_validate(
        {"batchSize": 32, "learningRate": 0.1, "learning_rate": 0.5, "momentum": 0.9}
    )
    assert spec.batch_size == 32
    assert spec.learning_rate == 0.5
    assert "momentum" not in spec.model_dump()


def test_training_values_stay_raw_so_bad_ones_are_semantic_errors() -> None:
    raw = {"dataset": " MNIST ", "epochs": True, "batch_size": "64", "learning_rate": None}
    spec = TrainingSpec.model_validate(raw)
    assert spec.model_dump() == {**TRAINING_DEFAULTS, **raw}
