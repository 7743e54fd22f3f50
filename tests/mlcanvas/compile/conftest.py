"""LayerSpec lists built by hand, as the graph validator would hand them to the compiler."""

from __future__ import annotations

import pytest

from mlcanvas.graph.layers import LayerSpec


@pytest.fixture
def mnist_layers() -> list[LayerSpec]:
    """The contract's 4-node MNIST plan (§11.1), softmax already suppressed to "none"."""
    return [
        LayerSpec("node_1", "Input", None, (1, 28, 28)),
        LayerSpec("node_2", "Flatten", (1, 28, 28), (784,)),
        LayerSpec("node_3", "Dense", (784,), (64,), units=64, activation="relu"),
        LayerSpec("node_4", "Output", (64,), (10,), units=10, activation="none"),
    ]


@pytest.fixture
def mixed_layers() -> list[LayerSpec]:
    """Every layer type and activation once, on the digits input shape."""
    return [
        LayerSpec("in", "Input", None, (1, 8, 8)),
        LayerSpec("flat", "Flatten", (1, 8, 8), (64,)),
        LayerSpec("d_none", "Dense", (64,), (32,), units=32, activation="none"),
        LayerSpec("d_leaky", "Dense", (32,), (16,), units=16, activation="leaky_relu"),
        LayerSpec("drop", "Dropout", (16,), (16,), rate=0.25),
        LayerSpec("d_sigmoid", "Dense", (16,), (16,), units=16, activation="sigmoid"),
        LayerSpec("d_tanh", "Dense", (16,), (12,), units=12, activation="tanh"),
        LayerSpec("d_gelu", "Dense", (12,), (12,), units=12, activation="gelu"),
        LayerSpec("out", "Output", (12,), (10,), units=10, activation="softmax"),
    ]
