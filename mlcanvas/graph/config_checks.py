"""Small checks of one node config value, shared by the NN and RF node rules.

Each returns `Problem`s with the contract's message, the field, the rule and the raw value;
the shape walk decides how to report them (contract §3 step 6).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mlcanvas.graph.activations import ACCEPTED_ACTIVATION_NAMES, resolve_activation
from mlcanvas.graph.scalars import as_int, as_number


@dataclass(frozen=True)
class Problem:
    """One node problem. `keeps_expected`: report `expected`/`got` as they are, even as the
    walk's stopping error (the activation error lists the allowed names, contract §2)."""

    message: str
    field: str | None = None
    expected: Any = None
    got: Any = None
    keeps_expected: bool = False


def shape_problems(node_type: str, config: Mapping[str, Any]) -> list[Problem]:
    """`shape` must be a non-empty list of ints > 0; at most one problem, the first in §3 order."""
    raw = config.get("shape")

    def problem(message: str) -> list[Problem]:
        return [Problem(message, "config.shape", "non-empty list of ints > 0", raw)]

    if not isinstance(raw, list) or not raw:
        return problem(f"{node_type}.shape must be a non-empty integer list")
    dims = [as_int(value) for value in raw]
    if any(dim is None for dim in dims):
        return problem(f"{node_type}.shape must contain only integers")
    if any(dim is not None and dim <= 0 for dim in dims):
        return problem(f"{node_type}.shape values must be > 0")
    return []


def config_shape(config: Mapping[str, Any]) -> list[int]:
    """The `shape` as ints; call only after `shape_problems` found nothing."""
    return [int(value) for value in config["shape"]]


def flattened(shape: list[int]) -> list[int]:
    return [math.prod(shape)]


def positive_int_problems(node_type: str, key: str, config: Mapping[str, Any]) -> list[Problem]:
    """`key` must be an int > 0 (integral floats count, booleans do not)."""
    raw = config.get(key)
    number = as_int(raw)
    if number is None or number <= 0:
        return [
            Problem(
                f"{node_type}.{key} must be a positive integer", f"config.{key}", "int > 0", raw
            )
        ]
    return []


def config_positive_int(key: str, config: Mapping[str, Any]) -> int:
    """The value as int; call only after `positive_int_problems` found nothing."""
    return int(config[key])


def dropout_rate(config: Mapping[str, Any]) -> float | None:
    """The Dropout rate (0.5 when absent); None when it is not a number."""
    return as_number(config.get("rate", 0.5))


def rate_problems(node_type: str, config: Mapping[str, Any]) -> list[Problem]:
    """Dropout `rate` must be a number in [0, 1)."""
    raw = config.get("rate", 0.5)
    rate = dropout_rate(config)
    expected = "number in [0, 1)"
    if rate is None:
        return [Problem(f"{node_type}.rate must be numeric", "config.rate", expected, raw)]
    if not 0 <= rate < 1:
        return [Problem(f"{node_type}.rate must be in [0, 1)", "config.rate", expected, raw)]
    return []


def activation_problems(node_type: str, config: Mapping[str, Any]) -> list[Problem]:
    """An unknown activation name is an error listing every accepted spelling."""
    if resolve_activation(node_type, config) is not None:
        return []
    raw = config.get("activation")
    return [
        Problem(
            f"Unknown activation {raw!r} on {node_type}",
            "config.activation",
            ACCEPTED_ACTIVATION_NAMES,
            raw,
            keeps_expected=True,
        )
    ]
