"""The trainable network: a flat `nn.ModuleList`, so state_dict keys are `layers.<i>.*` only."""

from __future__ import annotations

import torch
from torch import nn

from mlcanvas.compile.module_steps import plan_module_steps
from mlcanvas.graph.layers import LayerSpec


class GeneratedModel(nn.Module):
    """Applies `layers` in order; each module is registered once, in the list (contract §8)."""

    def __init__(self, layers: list[nn.Module]) -> None:
        super().__init__()
        self.layers = nn.ModuleList(layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            x = layer(x)
        return x


def build_module(layers: list[LayerSpec]) -> GeneratedModel:
    """Fresh, randomly initialised network (seed torch first for reproducible weights)."""
    return GeneratedModel([step.build() for step in plan_module_steps(layers)])
