"""The resolved, normalised NN training block (contract §2) that training and flows consume."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Optimizer = Literal["adam", "sgd"]
Loss = Literal["cross_entropy", "mse"]

# Upper bounds that keep a typo (epochs=1e9) from becoming a job that never ends.
MAX_EPOCHS = 10_000
MAX_BATCH_SIZE = 1_000_000
MAX_LEARNING_RATE = 10.0


class TrainingConfig(BaseModel):
    """What `training.json` holds: every key present, names canonical, values checked."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    dataset: str = Field(default="mnist", description="Dataset id, e.g. `mnist` or `digits`.")
    epochs: int = Field(default=20, gt=0, le=MAX_EPOCHS, description="Passes over the train split.")
    batch_size: int = Field(default=64, gt=0, le=MAX_BATCH_SIZE, description="Rows per step.")
    optimizer: Optimizer = Field(default="adam", description="`adam` or plain `sgd`.")
    learning_rate: float = Field(
        default=0.001, gt=0, le=MAX_LEARNING_RATE, description="Step size."
    )
    loss: Loss = Field(default="cross_entropy", description="`cross_entropy` or `mse`.")
    seed: int = Field(default=42, description="Seeds init, shuffling and dropout.")
