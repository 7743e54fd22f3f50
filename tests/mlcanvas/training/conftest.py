"""Tiny real data and models for the training tests: three separable classes in 2x2 images."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
from torch import nn

from mlcanvas.datasets.tensors import TensorSplit
from mlcanvas.training import seed_everything


class TinyNet(nn.Module):
    """Shaped like a generated model: one flat `layers` list, so keys read `layers.<i>.*`."""

    def __init__(self, hidden: int = 8, dropout: float = 0.0) -> None:
        super().__init__()
        self.layers = nn.ModuleList(
            [
                nn.Flatten(),
                nn.Linear(4, hidden),
                nn.ReLU(),
                nn.Dropout(dropout),
                nn.Linear(hidden, 3),
            ]
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            x = layer(x)
        return x


def _make_rows(n: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    y = torch.arange(n) % 3
    centres = torch.eye(3, 4) * 3
    x = centres[y] + torch.randn(n, 4, generator=generator) * 0.5
    return x.reshape(n, 1, 2, 2).float(), y.long()


@pytest.fixture
def tiny_split() -> TensorSplit:
    """42 train rows, 10 test rows."""
    generator = torch.Generator().manual_seed(0)
    x_train, y_train = _make_rows(42, generator)
    x_test, y_test = _make_rows(10, generator)
    return TensorSplit(x_train, y_train, x_test, y_test)


@pytest.fixture
def make_model() -> Callable[..., TinyNet]:
    """Builds a `TinyNet` with a fixed init (seed 0), so runs compare like for like."""

    def build(hidden: int = 8, dropout: float = 0.0) -> TinyNet:
        seed_everything(0)
        return TinyNet(hidden, dropout)

    return build
