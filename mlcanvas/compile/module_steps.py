"""The flat module list as data: one `ModuleStep` per entry of `GeneratedModel.layers`.

Contract §5/§8: Flatten, Linear, the activation and Dropout each take one index, Input takes
none and a "none" activation adds no module. Building, summarising and generating source all
walk these steps, so `layers.<i>` means the same module in model.pt, model.py and the summary.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from mlcanvas.graph.layers import Activation, LayerSpec

if TYPE_CHECKING:
    from torch import nn

# Constructor arguments in source order; a `None` keyword means a positional argument.
ConstructorArgs = tuple[tuple[str | None, int | float], ...]

# Activation name -> (nn class name, constructor arguments).
_ACTIVATIONS: dict[Activation, tuple[str, ConstructorArgs]] = {
    "relu": ("ReLU", ()),
    "leaky_relu": ("LeakyReLU", ((None, 0.01),)),
    "sigmoid": ("Sigmoid", ()),
    "tanh": ("Tanh", ()),
    "gelu": ("GELU", ()),
    "softmax": ("Softmax", (("dim", 1),)),
}


@dataclass(frozen=True)
class ModuleStep:
    """One `nn` constructor call, `nn.<class_name>(...)`, at `layers.<index>`."""

    index: int
    node_id: str
    layer_type: str
    class_name: str
    args: ConstructorArgs = ()

    @property
    def source(self) -> str:
        """The constructor as Python source, e.g. `nn.Linear(64, 16)` or `nn.Dropout(p=0.5)`."""
        rendered = [repr(value) if key is None else f"{key}={value!r}" for key, value in self.args]
        return f"nn.{self.class_name}({', '.join(rendered)})"

    def build(self) -> nn.Module:
        from torch import nn  # here, not at the top: summaries and source need no torch

        positional = [value for key, value in self.args if key is None]
        keywords = {key: value for key, value in self.args if key is not None}
        return getattr(nn, self.class_name)(*positional, **keywords)


def plan_module_steps(layers: list[LayerSpec]) -> list[ModuleStep]:
    """Number every module of the network in execution order (the `layers.<i>` keys)."""
    return [step for _, steps in plan_node_steps(layers) for step in steps]


def plan_node_steps(layers: list[LayerSpec]) -> list[tuple[LayerSpec, list[ModuleStep]]]:
    """The same numbering grouped by node (Input gets an empty list), for per-node views."""
    grouped: list[tuple[LayerSpec, list[ModuleStep]]] = []
    index = 0
    for spec in layers:
        steps: list[ModuleStep] = []
        for class_name, args in _constructors(spec):
            steps.append(ModuleStep(index, spec.node_id, spec.type, class_name, args))
            index += 1
        grouped.append((spec, steps))
    return grouped


def layer_param_count(spec: LayerSpec) -> int:
    """Weights plus biases of the node's Linear (in×out + out); 0 for parameter-free layers."""
    if spec.type not in ("Dense", "Output"):
        return 0
    in_features, out_features = _linear_features(spec)
    return in_features * out_features + out_features


def _constructors(spec: LayerSpec) -> list[tuple[str, ConstructorArgs]]:
    if spec.type == "Input":
        return []
    if spec.type == "Flatten":
        return [("Flatten", ())]  # nn.Flatten() starts at dim 1: the batch dim is kept
    if spec.type == "Dropout":
        if spec.rate is None:
            raise ValueError(f"Dropout {spec.node_id!r} has no rate")
        return [("Dropout", (("p", float(spec.rate)),))]
    if spec.type in ("Dense", "Output"):
        linear = ("Linear", tuple((None, n) for n in _linear_features(spec)))
        if spec.activation == "none":
            return [linear]
        if spec.activation not in _ACTIVATIONS:
            raise ValueError(f"Unknown activation {spec.activation!r} on node {spec.node_id!r}")
        return [linear, _ACTIVATIONS[spec.activation]]
    raise ValueError(f"Unknown layer type {spec.type!r} for node {spec.node_id!r}")


def _linear_features(spec: LayerSpec) -> tuple[int, int]:
    # The graph validator guarantees rank-1 input and units; a miss here is a bug, not input.
    if spec.input_shape is None or len(spec.input_shape) != 1 or spec.units is None:
        raise ValueError(
            f"{spec.type} {spec.node_id!r} needs rank-1 input and units, "
            f"got input_shape={spec.input_shape} units={spec.units}"
        )
    return int(spec.input_shape[0]), int(spec.units)
