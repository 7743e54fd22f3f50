"""The four RF node types (contract §6 table): config checks, input rank and output shape.

The forest's hyper-parameters are checked by `mlcanvas.rf.hyperparameters`, not here,
because their bounds depend on the feature count the walk computes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mlcanvas.graph.config_checks import (
    Problem,
    config_positive_int,
    config_shape,
    flattened,
    positive_int_problems,
    shape_problems,
)
from mlcanvas.graph.shapes import NodeRule, Shape, known_input, rank_one_input


def _input_output(input_shape: Shape | None, config: Mapping[str, Any]) -> Shape:
    return config_shape(config)


def _input_config(config: Mapping[str, Any]) -> list[Problem]:
    return shape_problems("RFInput", config)


def _flatten_output(input_shape: Shape | None, config: Mapping[str, Any]) -> Shape:
    return flattened(known_input(input_shape))


def _forest_output(input_shape: Shape | None, config: Mapping[str, Any]) -> Shape:
    return [1]


def _output_config(config: Mapping[str, Any]) -> list[Problem]:
    return positive_int_problems("RFOutput", "num_classes", config)


def _output_output(input_shape: Shape | None, config: Mapping[str, Any]) -> Shape:
    return [config_positive_int("num_classes", config)]


RF_RULES: dict[str, NodeRule] = {
    "RFInput": NodeRule(output_shape=_input_output, check_config=_input_config),
    "RFFlatten": NodeRule(output_shape=_flatten_output),
    "RandomForestClassifier": NodeRule(
        output_shape=_forest_output,
        check_input=rank_one_input("RandomForestClassifier requires rank-1 feature input"),
    ),
    "RFOutput": NodeRule(output_shape=_output_output, check_config=_output_config),
}
