"""Optimizers and losses by their contract names (§2): `adam`/`sgd`, `cross_entropy`/`mse`."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import torch
import torch.nn.functional as F
from torch import nn

from mlcanvas.errors import ErrorDetail, GraphValidationError

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
"""`loss(logits [N, C], labels int64 [N]) -> scalar`: the mean loss of the batch."""

OPTIMIZERS = ("adam", "sgd")
LOSSES = ("cross_entropy", "mse")


def make_optimizer(name: str, params: Iterable[nn.Parameter], lr: float) -> torch.optim.Optimizer:
    """Adam with torch's defaults, or plain SGD (no momentum, no weight decay)."""
    if name == "adam":
        return torch.optim.Adam(params, lr=lr)
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr)
    raise _unknown("optimizer", name, OPTIMIZERS)


def make_loss(name: str, num_classes: int) -> LossFn:
    """Cross-entropy on logits, or MSE between the logits and one-hot float targets."""
    if name == "cross_entropy":
        return F.cross_entropy
    if name == "mse":

        def mse_on_one_hot(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
            targets = F.one_hot(labels, num_classes).to(logits.dtype)
            return F.mse_loss(logits, targets)

        return mse_on_one_hot
    raise _unknown("loss", name, LOSSES)


def _unknown(key: str, name: str, allowed: tuple[str, ...]) -> GraphValidationError:
    detail = ErrorDetail(
        message=f"Unsupported {key}: {name}",
        field=f"training.{key}",
        expected=list(allowed),
        got=name,
    )
    return GraphValidationError([detail])
