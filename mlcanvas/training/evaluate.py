"""Loss and accuracy of a model on a whole split, without gradients."""

from __future__ import annotations

import torch
from torch import nn

from mlcanvas.training.optim import LossFn


def evaluate(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, *, loss: LossFn, batch_size: int
) -> tuple[float, float]:
    """`(mean loss, accuracy)` over all of `x`; one device sync.

    The loss is the mean over the whole split, as if it were one batch: `batch_size` only
    bounds memory and does not change the figure. The model's train/eval mode is restored.
    """
    loss_sum, correct = evaluate_on_device(model, x, y, loss=loss, batch_size=batch_size)
    rows = max(len(y), 1)
    total_loss, total_correct = torch.stack([loss_sum, correct.to(loss_sum.dtype)]).tolist()
    return total_loss / rows, total_correct / rows


@torch.no_grad()
def evaluate_on_device(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, *, loss: LossFn, batch_size: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Summed per-row loss and the count of correct predictions, left on the device.

    The training loop reads these together with its own sums, so an epoch syncs once.
    """
    was_training = model.training
    model.eval()
    loss_sum = torch.zeros((), dtype=torch.float64, device=x.device)
    correct = torch.zeros((), dtype=torch.int64, device=x.device)
    for start in range(0, len(x), batch_size):
        xb, yb = x[start : start + batch_size], y[start : start + batch_size]
        logits = model(xb)
        loss_sum += loss(logits, yb).double() * len(yb)
        correct += (logits.argmax(dim=1) == yb).sum()
    model.train(was_training)
    return loss_sum, correct
