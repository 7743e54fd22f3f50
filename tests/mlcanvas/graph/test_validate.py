"""NN validation (contract §3, §11 items 1-2): shapes, params, and every error with its field."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from mlcanvas.graph import ACCEPTED_ACTIVATION_NAMES, NNGraph, ValidationReport, validate_graph

SHAPE_STOP = "compatible shape/config"
ChainBuilder = Callable[..., dict[str, Any]]  # the `chain` fixture


def _validate(payload: dict[str, Any]) -> ValidationReport:
    return validate_graph(NNGraph.model_validate(payload))


def _shapes(report: ValidationReport) -> dict[str, tuple[Any, Any]]:
    return {nid: (entry.input, entry.output) for nid, entry in report.shapes.items()}


def test_mnist_graph_is_valid_with_shapes_and_param_counts(mnist_payload: dict[str, Any]) -> None:
    report = _validate(mnist_payload)
    assert report.valid
    assert report.errors == []
    assert report.warnings == []
    assert report.execution_order == ["node_1", "node_2", "node_3", "node_4"]
    assert _shapes(report) == {
        "node_1": (None, [1, 28, 28]),
        "node_2": ([1, 28, 28], [784]),
        "node_3": ([784], [64]),
        "node_4": ([64], [10]),
    }
    assert report.param_counts == {"node_1": 0, "node_2": 0, "node_3": 784 * 64 + 64, "node_4": 650}
    assert report.total_params == 50890
    assert report.graph_input_shape == [1, 28, 28]
    assert report.graph_num_classes == 10


def test_report_dump_has_the_contract_keys(mnist_payload: dict[str, Any]) -> None:
    dumped = _validate(mnist_payload).model_dump()
    assert list(dumped) == [
        "valid",
        "shapes",
        "errors",
        "execution_order",
        "warnings",
        "param_counts",
        "total_params",
    ]
    assert dumped["shapes"]["node_1"] == {"input": None, "output": [1, 28, 28]}


def test_dropout_keeps_shape_and_integral_floats_count_as_ints(chain: ChainBuilder) -> None:
    report = _validate(
        chain(
            ("Input", {"shape": [1.0, 8, 8]}),
            ("Dropout", {}),
            ("Flatten", {}),
            ("Dense", {"units": 16.0, "activation": None}),
            ("Dropout", {"rate": 0}),
            ("Output", {"num_classes": 10}),
        )
    )
    assert report.valid, report.errors
    assert report.shapes["node_2"].output == [1, 8, 8]
    assert report.shapes["node_4"].output == [16]
    assert report.total_params == (64 * 16 + 16) + (16 * 10 + 10)


def test_empty_graph() -> None:
    report = _validate({"nodes": [], "edges": []})
    assert not report.valid
    assert report.shapes == {}
    assert report.execution_order == []
    assert report.errors == [
        {
            "message": "Graph has no nodes",
            "node_id": None,
            "field": None,
            "expected": "at least one node",
            "got": 0,
        }
    ]


def test_unknown_edge_source_is_invalid_and_leaves_shapes_null(
    mnist_payload: dict[str, Any],
) -> None:
    mnist_payload["edges"][0]["source"] = "node_99"
    report = _validate(mnist_payload)
    assert not report.valid
    assert "unknown" in report.errors[0]["message"]
    assert all(entry == (None, None) for entry in _shapes(report).values())
    assert set(report.shapes) == {"node_1", "node_2", "node_3", "node_4"}


def test_branch_is_a_degree_error(mnist_payload: dict[str, Any]) -> None:
    mnist_payload["nodes"].append({"id": "node_5", "type": "Dense", "config": {"units": 4}})
    mnist_payload["edges"].append({"id": "edge_9", "source": "node_2", "target": "node_5"})
    report = _validate(mnist_payload)
    assert not report.valid
    assert any("degree" in error["message"] for error in report.errors)


def test_back_edge_is_a_cycle(mnist_payload: dict[str, Any]) -> None:
    mnist_payload["edges"].append({"id": "edge_9", "source": "node_3", "target": "node_2"})
    report = _validate(mnist_payload)
    assert any("cycle" in error["message"] for error in report.errors)


def test_dense_on_rank_3_stops_shapes_with_the_section_3_error(chain: ChainBuilder) -> None:
    config = {"units": 16, "rows": 4, "cols": 4}
    report = _validate(
        chain(("Input", {"shape": [1, 8, 8]}), ("Dense", config), ("Output", {"num_classes": 10}))
    )
    assert report.errors == [
        {
            "message": "Dense requires rank-1 input; add Flatten before Dense",
            "node_id": "node_2",
            "field": None,
            "expected": SHAPE_STOP,
            "got": {"input_shape": [1, 8, 8], "config": config, "type": "Dense"},
        }
    ]
    assert _shapes(report) == {
        "node_1": (None, [1, 8, 8]),
        "node_2": ([1, 8, 8], None),
        "node_3": (None, None),
    }
    assert report.execution_order == ["node_1", "node_2", "node_3"]
    assert report.param_counts == {"node_1": 0}


@pytest.mark.parametrize(
    ("shape", "message"),
    [
        (None, "Input.shape must be a non-empty integer list"),
        ([], "Input.shape must be a non-empty integer list"),
        ("1,8,8", "Input.shape must be a non-empty integer list"),
        ([1, "8", 8], "Input.shape must contain only integers"),
        ([1, True, 8], "Input.shape must contain only integers"),
        ([1, 8.5, 8], "Input.shape must contain only integers"),
        ([1, 0, 8], "Input.shape values must be > 0"),
    ],
)
def test_input_shape_errors(chain: ChainBuilder, shape: Any, message: str) -> None:
    config = {} if shape is None else {"shape": shape}
    report = _validate(chain(("Input", config), ("Flatten", {}), ("Output", {"num_classes": 2})))
    assert [(e["message"], e["node_id"], e["field"]) for e in report.errors] == [
        (message, "node_1", "config.shape")
    ]
    assert report.errors[0]["expected"] == SHAPE_STOP
    assert report.errors[0]["got"]["type"] == "Input"
    assert report.errors[0]["got"]["input_shape"] is None


@pytest.mark.parametrize(
    ("node", "message", "field"),
    [
        (("Dense", {}), "Dense.units must be a positive integer", "config.units"),
        (("Dense", {"units": 0}), "Dense.units must be a positive integer", "config.units"),
        (("Dense", {"units": True}), "Dense.units must be a positive integer", "config.units"),
        (("Dense", {"units": 2.5}), "Dense.units must be a positive integer", "config.units"),
        (("Dense", {"units": "16"}), "Dense.units must be a positive integer", "config.units"),
        (("Dropout", {"rate": "half"}), "Dropout.rate must be numeric", "config.rate"),
        (("Dropout", {"rate": None}), "Dropout.rate must be numeric", "config.rate"),
        (("Dropout", {"rate": False}), "Dropout.rate must be numeric", "config.rate"),
        (("Dropout", {"rate": 1}), "Dropout.rate must be in [0, 1)", "config.rate"),
        (("Dropout", {"rate": -0.1}), "Dropout.rate must be in [0, 1)", "config.rate"),
    ],
)
def test_middle_node_config_errors(
    chain: ChainBuilder, node: tuple[str, dict[str, Any]], message: str, field: str
) -> None:
    report = _validate(chain(("Input", {"shape": [4]}), node, ("Output", {"num_classes": 2})))
    assert [(e["message"], e["node_id"], e["field"]) for e in report.errors] == [
        (message, "node_2", field)
    ]
    assert report.errors[0]["expected"] == SHAPE_STOP
    assert report.errors[0]["got"] == {"input_shape": [4], "config": node[1], "type": node[0]}


@pytest.mark.parametrize(
    ("input_shape", "output_config", "message", "field"),
    [
        ([1, 2, 2], {"num_classes": 2}, "Output requires rank-1 input", None),
        (
            [4],
            {"num_classes": 0},
            "Output.num_classes must be a positive integer",
            "config.num_classes",
        ),
        ([4], {}, "Output.num_classes must be a positive integer", "config.num_classes"),
        (
            [4],
            {"num_classes": False},
            "Output.num_classes must be a positive integer",
            "config.num_classes",
        ),
    ],
)
def test_output_errors(
    chain: ChainBuilder,
    input_shape: list[int],
    output_config: dict[str, Any],
    message: str,
    field: str | None,
) -> None:
    report = _validate(chain(("Input", {"shape": input_shape}), ("Output", output_config)))
    assert [(e["message"], e["node_id"], e["field"]) for e in report.errors] == [
        (message, "node_2", field)
    ]


def test_unknown_activation_lists_the_accepted_names_and_stops_shapes(chain: ChainBuilder) -> None:
    report = _validate(
        chain(
            ("Input", {"shape": [4]}),
            ("Dense", {"units": 8, "activation": "swish"}),
            ("Output", {"num_classes": 2}),
        )
    )
    assert report.errors == [
        {
            "message": "Unknown activation 'swish' on Dense",
            "node_id": "node_2",
            "field": "config.activation",
            "expected": ACCEPTED_ACTIVATION_NAMES,
            "got": "swish",
        }
    ]
    assert report.shapes["node_3"].output is None


@pytest.mark.parametrize(
    "activation", ["Leaky ReLU", "leaky-relu", "LRELU", " GELU ", "LINEAR", "identity", "", None]
)
def test_accepted_activation_spellings(chain: ChainBuilder, activation: Any) -> None:
    report = _validate(
        chain(
            ("Input", {"shape": [4]}),
            ("Dense", {"units": 8, "activation": activation}),
            ("Output", {"num_classes": 2, "activation": activation}),
        )
    )
    assert report.valid, report.errors


def test_config_errors_after_the_first_failure_are_reported_too(chain: ChainBuilder) -> None:
    report = _validate(
        chain(
            ("Input", {"shape": [1, 8, 8]}),
            ("Dense", {"units": 0, "activation": "mish"}),
            ("Dropout", {"rate": 2}),
            ("Output", {"num_classes": True, "activation": 7}),
        )
    )
    found = [(e["node_id"], e["field"], e["expected"]) for e in report.errors]
    assert found == [
        ("node_2", None, SHAPE_STOP),  # the walk's stop: rank-3 input
        ("node_2", "config.units", "int > 0"),
        ("node_2", "config.activation", ACCEPTED_ACTIVATION_NAMES),
        ("node_3", "config.rate", "number in [0, 1)"),
        ("node_4", "config.num_classes", "int > 0"),
        ("node_4", "config.activation", ACCEPTED_ACTIVATION_NAMES),
    ]
    assert report.errors[1]["got"] == 0
    assert report.errors[3]["got"] == 2
    assert report.errors[5]["got"] == 7


def test_config_errors_are_reported_alongside_structural_errors(chain: ChainBuilder) -> None:
    payload = chain(
        ("Input", {"shape": []}),
        ("Flatten", {}),
        ("Dense", {"units": -3}),
        ("Output", {"num_classes": 10}),
    )
    payload["edges"].append({"id": "edge_9", "source": "node_3", "target": "node_2"})
    report = _validate(payload)
    fields = [(e["node_id"], e["field"]) for e in report.errors]
    assert ("node_1", "config.shape") in fields
    assert ("node_3", "config.units") in fields
    assert any(e["message"] == "Graph contains a cycle" for e in report.errors)
    assert all(entry == (None, None) for entry in _shapes(report).values())
