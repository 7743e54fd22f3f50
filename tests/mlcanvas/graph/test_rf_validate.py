"""RF validation (contract §6, §11 item 9): RF names, topology, shapes and hyper-parameters."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from mlcanvas.graph import RFGraph, ValidationReport, validate_rf_graph

ChainBuilder = Callable[..., dict[str, Any]]  # the `chain` fixture
FOREST = "RandomForestClassifier"


def _validate(payload: dict[str, Any]) -> ValidationReport:
    return validate_rf_graph(RFGraph.model_validate(payload))


def _messages(report: ValidationReport) -> list[str]:
    return [error["message"] for error in report.errors]


def test_iris_graph_is_valid_with_shapes(iris_payload: dict[str, Any]) -> None:
    report = _validate(iris_payload)
    assert report.valid, report.errors
    assert report.execution_order == ["node_1", "node_2", "node_3"]
    assert {nid: (s.input, s.output) for nid, s in report.shapes.items()} == {
        "node_1": (None, [4]),
        "node_2": ([4], [1]),
        "node_3": ([1], [3]),
    }
    assert report.warnings == []
    assert report.total_params == 0
    assert report.graph_input_shape == [4]
    assert report.graph_num_classes == 3


def test_flatten_variant_is_supported(chain: ChainBuilder) -> None:
    report = _validate(
        chain(
            ("RFInput", {"shape": [2, 2]}),
            ("RFFlatten", {}),
            (FOREST, {}),
            ("RFOutput", {"num_classes": 3}),
        )
    )
    assert report.valid, report.errors
    assert report.shapes["node_3"].input == [4]


def test_branching_is_rejected(iris_payload: dict[str, Any]) -> None:
    iris_payload["nodes"].append({"id": "node_4", "type": "RFOutput", "config": {"num_classes": 3}})
    iris_payload["edges"].append({"id": "edge_9", "source": "node_2", "target": "node_4"})
    report = _validate(iris_payload)
    assert not report.valid
    assert "Graph must contain exactly one RFOutput node" in _messages(report)


def test_wrong_order_is_an_unsupported_topology(chain: ChainBuilder) -> None:
    report = _validate(
        chain(
            ("RFInput", {"shape": [4]}),
            (FOREST, {}),
            ("RFFlatten", {}),
            ("RFOutput", {"num_classes": 3}),
        )
    )
    assert report.errors == [
        {
            "message": "Unsupported RF topology for v1",
            "node_id": None,
            "field": None,
            "expected": [
                ["RFInput", FOREST, "RFOutput"],
                ["RFInput", "RFFlatten", FOREST, "RFOutput"],
            ],
            "got": ["RFInput", FOREST, "RFFlatten", "RFOutput"],
        }
    ]
    assert all(entry.output is None for entry in report.shapes.values())


def test_missing_forest_and_two_flattens(chain: ChainBuilder) -> None:
    report = _validate(
        chain(
            ("RFInput", {"shape": [4]}),
            ("RFFlatten", {}),
            ("RFFlatten", {}),
            ("RFOutput", {"num_classes": 3}),
        )
    )
    assert [(e["message"], e["expected"], e["got"]) for e in report.errors[:2]] == [
        (f"Graph must contain exactly one {FOREST} node", 1, 0),
        ("Graph can contain at most one RFFlatten node", "at most 1", 2),
    ]
    assert _messages(report)[2] == "Unsupported RF topology for v1"


def test_forest_needs_rank_1_features(chain: ChainBuilder) -> None:
    report = _validate(
        chain(("RFInput", {"shape": [2, 2]}), (FOREST, {}), ("RFOutput", {"num_classes": 3}))
    )
    assert report.errors == [
        {
            "message": f"{FOREST} requires rank-1 feature input",
            "node_id": "node_2",
            "field": None,
            "expected": "compatible shape/config",
            "got": {"input_shape": [2, 2], "config": {}, "type": FOREST},
        }
    ]


@pytest.mark.parametrize(
    ("shape", "message"),
    [
        ([], "RFInput.shape must be a non-empty integer list"),
        ([4.5], "RFInput.shape must contain only integers"),
        ([-4], "RFInput.shape values must be > 0"),
    ],
)
def test_rf_input_shape_errors(chain: ChainBuilder, shape: list[Any], message: str) -> None:
    report = _validate(
        chain(("RFInput", {"shape": shape}), (FOREST, {}), ("RFOutput", {"num_classes": 3}))
    )
    assert [(e["message"], e["node_id"], e["field"]) for e in report.errors] == [
        (message, "node_1", "config.shape")
    ]


@pytest.mark.parametrize("num_classes", [0, None, True, 1.5, "3"])
def test_rf_output_num_classes(chain: ChainBuilder, num_classes: Any) -> None:
    report = _validate(
        chain(("RFInput", {"shape": [4]}), (FOREST, {}), ("RFOutput", {"num_classes": num_classes}))
    )
    assert [(e["message"], e["node_id"], e["field"]) for e in report.errors] == [
        ("RFOutput.num_classes must be a positive integer", "node_3", "config.num_classes")
    ]


def test_hyperparameter_errors_name_the_forest_and_field(chain: ChainBuilder) -> None:
    report = _validate(
        chain(
            ("RFInput", {"shape": [4]}),
            (
                FOREST,
                {"n_estimators": 0, "criterion": "Entropy", "max_features": 5, "bootstrap": "no"},
            ),
            ("RFOutput", {"num_classes": 3}),
        )
    )
    assert [(e["node_id"], e["field"]) for e in report.errors] == [
        ("node_2", "config.n_estimators"),
        ("node_2", "config.max_features"),  # an int above the 4 features
        ("node_2", "config.bootstrap"),
    ]
    assert report.shapes["node_3"].output == [3]  # hyper-parameters do not stop shapes


def test_max_features_up_to_the_feature_count_is_valid(chain: ChainBuilder) -> None:
    report = _validate(
        chain(
            ("RFInput", {"shape": [4]}),
            (FOREST, {"max_features": 4}),
            ("RFOutput", {"num_classes": 3}),
        )
    )
    assert report.valid, report.errors


def test_hyperparameters_are_checked_even_when_the_structure_is_broken(chain: ChainBuilder) -> None:
    payload = chain(
        ("RFInput", {"shape": [4]}),
        (FOREST, {"min_samples_split": 1}),
        ("RFOutput", {"num_classes": 3}),
    )
    payload["edges"].pop()
    report = _validate(payload)
    assert ("node_2", "config.min_samples_split") in [
        (e["node_id"], e["field"]) for e in report.errors
    ]
