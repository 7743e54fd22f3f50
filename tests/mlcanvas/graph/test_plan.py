"""LayerSpecs for the compiler: normalised activations, shapes and the softmax warning."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from mlcanvas.errors import GraphValidationError
from mlcanvas.graph import (
    SOFTMAX_SUPPRESSED_WARNING,
    LayerSpec,
    NNGraph,
    plan_layers,
    validate_graph,
)

ChainBuilder = Callable[..., dict[str, Any]]  # the `chain` fixture


def _plan(
    payload: dict[str, Any], loss: str = "cross_entropy"
) -> tuple[list[LayerSpec], list[str]]:
    graph = NNGraph.model_validate(payload)
    return plan_layers(graph, validate_graph(graph), loss)


def test_mnist_plan_suppresses_output_softmax_under_cross_entropy(
    mnist_payload: dict[str, Any],
) -> None:
    layers, warnings = _plan(mnist_payload)
    assert layers == [
        LayerSpec("node_1", "Input", None, (1, 28, 28)),
        LayerSpec("node_2", "Flatten", (1, 28, 28), (784,)),
        LayerSpec("node_3", "Dense", (784,), (64,), units=64, activation="relu"),
        LayerSpec("node_4", "Output", (64,), (10,), units=10, activation="none"),
    ]
    assert warnings == [SOFTMAX_SUPPRESSED_WARNING]
    assert SOFTMAX_SUPPRESSED_WARNING == (
        "Output softmax suppressed because loss is cross_entropy (expects logits)."
    )


@pytest.mark.parametrize("loss", ["mse", "Mean Squared Error"])
def test_softmax_is_kept_under_mse(mnist_payload: dict[str, Any], loss: str) -> None:
    layers, warnings = _plan(mnist_payload, loss)
    assert layers[-1].activation == "softmax"
    assert warnings == []


def test_activation_defaults_and_aliases(chain: ChainBuilder) -> None:
    layers, warnings = _plan(
        chain(
            ("Input", {"shape": [4]}),
            ("Dense", {"units": 8}),
            ("Dense", {"units": 8, "activation": None}),
            ("Dense", {"units": 8, "activation": "linear"}),
            ("Dense", {"units": 8, "activation": "LReLU"}),
            ("Dense", {"units": 8, "activation": "softmax"}),
            ("Dropout", {"rate": 0.25}),
            ("Dropout", {}),
            ("Output", {"num_classes": 3, "activation": None}),
        ),
        "CE",
    )
    assert [(layer.type, layer.activation) for layer in layers] == [
        ("Input", "none"),
        ("Dense", "relu"),
        ("Dense", "relu"),
        ("Dense", "none"),
        ("Dense", "leaky_relu"),
        ("Dense", "softmax"),  # only the Output softmax is dropped
        ("Dropout", "none"),
        ("Dropout", "none"),
        ("Output", "none"),
    ]
    assert [layer.rate for layer in layers[6:8]] == [0.25, 0.5]
    assert warnings == []


def test_invalid_graph_raises_with_every_error(chain: ChainBuilder) -> None:
    with pytest.raises(GraphValidationError) as caught:
        _plan(chain(("Input", {"shape": [1, 8, 8]}), ("Dense", {"units": 4}), ("Output", {})))
    assert caught.value.message == "Dense requires rank-1 input; add Flatten before Dense"
    assert [error.field for error in caught.value.errors] == [None, "config.num_classes"]
