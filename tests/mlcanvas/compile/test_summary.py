from __future__ import annotations

import json

from mlcanvas.compile.module import build_module
from mlcanvas.compile.summary import summarize_layers
from mlcanvas.graph.layers import LayerSpec


def test_mnist_summary_matches_the_contract_shape(mnist_layers: list[LayerSpec]) -> None:
    summary = summarize_layers(mnist_layers)

    assert summary == {
        "param_count": 784 * 64 + 64 + 64 * 10 + 10,
        "layers": [
            {
                "node_id": "node_1",
                "type": "Input",
                "input_shape": None,
                "output_shape": [1, 28, 28],
                "module": "input",
            },
            {
                "node_id": "node_2",
                "type": "Flatten",
                "input_shape": [1, 28, 28],
                "output_shape": [784],
                "module": "nn.Flatten()",
            },
            {
                "node_id": "node_3",
                "type": "Dense",
                "input_shape": [784],
                "output_shape": [64],
                "module": "nn.Linear(784, 64) -> nn.ReLU()",
            },
            {
                "node_id": "node_4",
                "type": "Output",
                "input_shape": [64],
                "output_shape": [10],
                "module": "nn.Linear(64, 10)",
            },
        ],
    }
    json.dumps(summary)  # plain JSON types only


def test_module_strings_for_every_activation_and_dropout(mixed_layers: list[LayerSpec]) -> None:
    modules = {row["node_id"]: row["module"] for row in summarize_layers(mixed_layers)["layers"]}

    assert modules == {
        "in": "input",
        "flat": "nn.Flatten()",
        "d_none": "nn.Linear(64, 32)",
        "d_leaky": "nn.Linear(32, 16) -> nn.LeakyReLU(0.01)",
        "drop": "nn.Dropout(p=0.25)",
        "d_sigmoid": "nn.Linear(16, 16) -> nn.Sigmoid()",
        "d_tanh": "nn.Linear(16, 12) -> nn.Tanh()",
        "d_gelu": "nn.Linear(12, 12) -> nn.GELU()",
        "out": "nn.Linear(12, 10) -> nn.Softmax(dim=1)",
    }


def test_param_count_equals_the_built_modules_parameters(mixed_layers: list[LayerSpec]) -> None:
    model = build_module(mixed_layers)

    expected = sum(p.numel() for p in model.parameters())
    assert summarize_layers(mixed_layers)["param_count"] == expected


def test_dropout_rate_zero_renders_as_a_float() -> None:
    layers = [LayerSpec("drop", "Dropout", (4,), (4,), rate=0)]

    assert summarize_layers(layers)["layers"][0]["module"] == "nn.Dropout(p=0.0)"
