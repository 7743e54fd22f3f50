"""The NN training loop: yields one `EpochEvent` per epoch; knows nothing of MLflow or Prefect.

Read it top to bottom: set up once (device tensors, optimizer, loss), then per epoch shuffle
by a seeded permutation, step through index batches, evaluate, summarise, yield. Metrics
stay on the device until the epoch ends, so a GPU run syncs once for them per epoch.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator

import torch
from torch import nn

from mlcanvas.datasets.tensors import TensorSplit
from mlcanvas.errors import InvalidInputError
from mlcanvas.graph.training_config import TrainingConfig
from mlcanvas.training.device import pick_device, seed_everything
from mlcanvas.training.evaluate import evaluate, evaluate_on_device
from mlcanvas.training.events import EpochEvent
from mlcanvas.training.optim import make_loss, make_optimizer
from mlcanvas.training.weights import summarize_weights

__all__ = ["EVAL_BATCH_SIZE", "EpochEvent", "evaluate", "train_model"]

logger = logging.getLogger(__name__)

EVAL_BATCH_SIZE = 4096
"""Rows per evaluation forward pass (at least the training batch); only bounds memory."""


def train_model(
    model: nn.Module,
    data: TensorSplit,
    config: TrainingConfig,
    *,
    device: torch.device | None = None,
    should_stop: Callable[[], bool] | None = None,
    eval_every: int = 1,
    max_train_batches: int = 0,
    max_test_batches: int = 0,
    batch_size_multiplier: int = 1,
    include_weights: bool = True,
) -> Iterator[EpochEvent]:
    """Train `model` in place on `data`, yielding an `EpochEvent` after every epoch.

    `should_stop` is called before every batch (keep it cheap). Once it answers True the
    loop ends: a partly run epoch still yields one event, evaluated and marked `stopped`,
    and the model keeps the weights it has. The knobs mirror contract §9: evaluate every
    `eval_every` epochs and on the last (other epochs repeat the previous test metrics),
    cap train/test batches per epoch (0 = no cap), and multiply the batch size.
    Same seed, same device, same losses: the loop reseeds torch with `config.seed` (dropout)
    and shuffles with a generator seeded by `config.seed + epoch`.
    """
    _check_knobs(eval_every, max_train_batches, max_test_batches, batch_size_multiplier)
    device = device or pick_device()
    seed_everything(config.seed)
    model.to(device)
    data = data.to(device)
    batch_size = config.batch_size * batch_size_multiplier
    eval_batch_size = max(batch_size, EVAL_BATCH_SIZE)
    test_rows = max_test_batches * batch_size or len(data.y_test)
    x_test, y_test = data.x_test[:test_rows], data.y_test[:test_rows]
    optimizer = make_optimizer(config.optimizer, model.parameters(), config.learning_rate)
    loss_fn = make_loss(config.loss, _count_outputs(model, data.x_train))
    test_loss = test_accuracy = 0.0

    for epoch in range(1, config.epochs + 1):
        started = time.perf_counter()
        # A CPU generator, so CPU and GPU runs of one seed see the same batches.
        generator = torch.Generator().manual_seed(config.seed + epoch)
        order = torch.randperm(len(data.y_train), generator=generator).to(device)
        starts = range(0, len(order), batch_size)[: max_train_batches or None]

        model.train()
        batch_losses: list[torch.Tensor] = []
        batch_predictions: list[torch.Tensor] = []
        is_stopped = False
        for start in starts:
            if should_stop is not None and should_stop():
                is_stopped = True
                break
            batch = order[start : start + batch_size]
            logits = model(data.x_train[batch])
            loss = loss_fn(logits, data.y_train[batch])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            # Kept on the device and read once at the end of the epoch: no per-batch sync.
            batch_losses.append(loss.detach())
            batch_predictions.append(logits.detach().argmax(dim=1))
        if not batch_losses:
            return  # stopped before this epoch's first batch: nothing new to report

        predictions = torch.cat(batch_predictions)
        seen_labels = data.y_train[order[: len(predictions)]]
        sums = [torch.stack(batch_losses).mean(), (predictions == seen_labels).sum()]
        is_evaluated = is_stopped or epoch == config.epochs or epoch % eval_every == 0
        if is_evaluated:
            sums += evaluate_on_device(
                model, x_test, y_test, loss=loss_fn, batch_size=eval_batch_size
            )
        train_loss, train_correct, *test_sums = torch.stack([s.double() for s in sums]).tolist()
        if is_evaluated:
            test_loss, test_accuracy = (value / max(len(y_test), 1) for value in test_sums)

        event = EpochEvent(
            epoch=epoch,
            train_loss=train_loss,
            train_accuracy=train_correct / len(predictions),
            test_loss=test_loss,
            test_accuracy=test_accuracy,
            weights=summarize_weights(model) if include_weights else None,
            stopped=is_stopped,
            seconds=time.perf_counter() - started,
        )
        logger.debug(
            "epoch %d in %.2fs: train_loss=%.4f test_loss=%.4f test_accuracy=%.4f stopped=%s",
            epoch,
            event.seconds,
            train_loss,
            test_loss,
            test_accuracy,
            is_stopped,
        )
        yield event
        if is_stopped:
            return


@torch.no_grad()
def _count_outputs(model: nn.Module, x: torch.Tensor) -> int:
    """Width of the model's output (its class count), from one row in eval mode."""
    model.eval()
    return model(x[:1]).shape[-1]


def _check_knobs(
    eval_every: int, max_train_batches: int, max_test_batches: int, batch_size_multiplier: int
) -> None:
    checks = {
        "eval_every": (eval_every, 1),
        "max_train_batches": (max_train_batches, 0),
        "max_test_batches": (max_test_batches, 0),
        "batch_size_multiplier": (batch_size_multiplier, 1),
    }
    for name, (value, lowest) in checks.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < lowest:
            raise InvalidInputError(
                f"{name} must be an integer >= {lowest}",
                field=name,
                expected=f">= {lowest}",
                got=value,
            )
