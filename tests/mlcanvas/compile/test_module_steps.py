from __future__ import annotations

import pytest
from torch import nn

from mlcanvas.compile.module_steps import layer_param_count, plan_module_steps, plan_node_steps
from mlcanvas.graph.layers import LayerSpec


def test_mnist_plan_numbers_modules_without_the_input(mnist_layers: list[LayerSpec]) -> None:
    steps = plan_module_steps(mnist_layers)

    assert [(s.index, s.node_id, s.source) for s in steps] == [
        (0, "node_2", "nn.Flatten()"),
        (1, "node_3", "nn.Linear(784, 64)"),
        (2, "node_3", "nn.ReLU()"),
        (3, "node_4", "nn.Linear(64, 10)"),
    ]


def test_grouping_by_node_keeps_the_same_indices(mixed_layers: list[LayerSpec]) -> None:
    grouped = plan_node_steps(mixed_layers)

    assert [spec.node_id for spec, _ in grouped] == [spec.node_id for spec in mixed_layers]
    assert grouped[0][1] == []  # Input takes no index
    flat = [step for _, steps in grouped for step in steps]
    assert flat == plan_module_steps(mixed_layers)
    assert [step.index for step in flat] == list(range(len(flat)))


def test_built_modules_match_their_source(mixed_layers: list[LayerSpec]) -> None:
    for step in plan_module_steps(mixed_layers):
        module = step.build()
        assert isinstance(module, getattr(nn, step.class_name))
        assert step.source.startswith(f"nn.{type(module).__name__}(")


def test_param_count_is_in_times_out_plus_out(mnist_layers: list[LayerSpec]) -> None:
    assert [layer_param_count(spec) for spec in mnist_layers] == [0, 0, 784 * 64 + 64, 650]


def test_an_activation_the_validator_should_have_caught_is_a_bug() -> None:
    bad = LayerSpec("d", "Dense", (4,), (2,), units=2, activation="swish")  # type: ignore[arg-type]

    with pytest.raises(ValueError, match="Unknown activation 'swish'"):
        plan_module_steps([bad])
