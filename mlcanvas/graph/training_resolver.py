"""Raw NN training block -> `TrainingConfig` (contract §2): normalise names, check every key."""

from __future__ import annotations

from typing import Any

from mlcanvas.errors import GraphValidationError
from mlcanvas.graph.scalars import as_snake_name
from mlcanvas.graph.schema import TrainingSpec
from mlcanvas.graph.training_checks import TrainingChecker
from mlcanvas.graph.training_config import (
    MAX_BATCH_SIZE,
    MAX_EPOCHS,
    MAX_LEARNING_RATE,
    Loss,
    Optimizer,
    TrainingConfig,
)

OPTIMIZERS: dict[str, Optimizer] = {"adam": "adam", "sgd": "sgd"}

LOSS_ALIASES: dict[str, Loss] = {
    "cross_entropy": "cross_entropy",
    "crossentropy": "cross_entropy",
    "ce": "cross_entropy",
    "mse": "mse",
    "mse_loss": "mse",
    "mean_squared_error": "mse",
}


def normalise_loss(value: Any) -> Loss | None:
    """`cross_entropy` or `mse` for any accepted spelling; None when unknown."""
    name = as_snake_name(value)
    return None if name is None else LOSS_ALIASES.get(name)


def resolve_training(spec: TrainingSpec | None) -> TrainingConfig:
    """Defaults filled and names canonical; the dataset's existence is not checked here.

    Raises GraphValidationError listing every bad key (`field="training.<key>"`).
    """
    check = TrainingChecker((spec or TrainingSpec()).model_dump())
    check.identifier("dataset")
    check.integer("epochs", 1, MAX_EPOCHS)
    check.integer("batch_size", 1, MAX_BATCH_SIZE)
    check.choice("optimizer", OPTIMIZERS)
    check.number("learning_rate", 0, MAX_LEARNING_RATE, high_inclusive=True)
    check.choice("loss", LOSS_ALIASES, snake=True)
    if check.errors:
        raise GraphValidationError(check.errors)
    return TrainingConfig(**check.values)
