"""The five NN node types (contract §2 table): config checks, input rank and output shape."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mlcanvas.graph.config_checks import (
    Problem,
    activation_problems,
    config_positive_int,
    config_shape,
    flattened,
    positive_int_problems,
    rate_problems,
    shape_problems,
)
from mlcanvas.graph.shapes import NodeRule, Shape, known_input, rank_one_input


def _input_output(input_shape: Shape | None, config: Mapping[str, Any]) -> Shape:
    return config_shape(config)


def _input_config(config: Mapping[str, Any]) -> list[Problem]:
    return shape_problems("Input", config)


def _flatten_output(input_shape: Shape | None, config: Mapping[str, Any]) -> Shape:
    return flattened(known_input(input_shape))


def _same_shape(input_shape: Shape | None, config: Mapping[str, Any]) -> Shape:
    return list(known_input(input_shape))


def _dense_config(config: Mapping[str, Any]) -> list[Problem]:
    return positive_int_problems("Dense", "units", config) + activation_problems("Dense", config)


def _dense_output(input_shape: Shape | None, config: Mapping[str, Any]) -> Shape:
    return [config_positive_int("units", config)]


def _dropout_config(config: Mapping[str, Any]) -> list[Problem]:
    return rate_problems("Dropout", config)


def _output_config(config: Mapping[str, Any]) -> list[Problem]:
    return positive_int_problems("Output", "num_classes", config) + activation_problems(
        "Output", config
    )


def _output_output(input_shape: Shape | None, config: Mapping[str, Any]) -> Shape:
    return [config_positive_int("num_classes", config)]


def _linear_params(input_shape: Shape | None, output_shape: Shape) -> int:
    """in×out weights plus out biases of the node's Linear."""
    return known_input(input_shape)[0] * output_shape[0] + output_shape[0]


NN_RULES: dict[str, NodeRule] = {
    "Input": NodeRule(output_shape=_input_output, check_config=_input_config),
    "Flatten": NodeRule(output_shape=_flatten_output),
    "Dense": NodeRule(
        output_shape=_dense_output,
        check_input=rank_one_input("Dense requires rank-1 input; add Flatten before Dense"),
        check_config=_dense_config,
        param_count=_linear_params,
    ),
    "Dropout": NodeRule(output_shape=_same_shape, check_config=_dropout_config),
    "Output": NodeRule(
        output_shape=_output_output,
        check_input=rank_one_input("Output requires rank-1 input"),
        check_config=_output_config,
        param_count=_linear_params,
    ),
}
