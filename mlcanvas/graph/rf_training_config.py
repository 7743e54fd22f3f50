"""The resolved, normalised RF training block (contract §6) that RF training and flows consume."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from mlcanvas.rf.hyperparameters import MAX_N_ESTIMATORS, MAX_RANDOM_STATE

# A checkpoint interval above the largest forest would never fire more than once.
MAX_LOG_EVERY_TREES = MAX_N_ESTIMATORS


class RFTrainingConfig(BaseModel):
    """What the RF `training.json` holds: every key present, values checked."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    dataset: str = Field(default="iris", description="RF dataset id, e.g. `iris`.")
    test_size: float = Field(default=0.2, gt=0, lt=1, description="Held-out share of rows.")
    random_state: int = Field(
        default=42, ge=0, le=MAX_RANDOM_STATE, description="Seed of the split (and the forest)."
    )
    stratify: bool = Field(default=True, description="Keep class ratios in the split.")
    log_every_trees: int = Field(
        default=10, gt=0, le=MAX_LOG_EVERY_TREES, description="Trees between progress events."
    )
