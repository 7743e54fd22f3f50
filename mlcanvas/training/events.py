"""What the training loop yields once per epoch, and its `epoch_update` wire form (§5)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class EpochEvent:
    """One finished (or, when `stopped`, partial) epoch.

    Losses are means of per-batch mean losses; accuracies are correct/total in 0..1. Test
    values repeat the previous evaluation on epochs that skip it (0.0 before the first).
    `seconds` is the epoch's wall time, evaluation and weight summary included.
    """

    epoch: int
    train_loss: float
    train_accuracy: float
    test_loss: float
    test_accuracy: float
    weights: dict[str, dict] | None
    stopped: bool
    seconds: float

    def to_message(self) -> dict[str, Any]:
        """The contract's `epoch_update`; `loss`/`accuracy` are the test values."""
        return {
            "type": "epoch_update",
            "epoch": self.epoch,
            "loss": self.test_loss,
            "accuracy": self.test_accuracy,
            "train_loss": self.train_loss,
            "train_accuracy": self.train_accuracy,
            "test_loss": self.test_loss,
            "test_accuracy": self.test_accuracy,
            "weights": self.weights,
        }
