"""Raw RF training block -> `RFTrainingConfig` (contract §6): check every key, list all problems."""

from __future__ import annotations

from mlcanvas.errors import GraphValidationError
from mlcanvas.graph.rf_schema import RFTrainingSpec
from mlcanvas.graph.rf_training_config import MAX_LOG_EVERY_TREES, RFTrainingConfig
from mlcanvas.graph.training_checks import TrainingChecker
from mlcanvas.rf.hyperparameters import MAX_RANDOM_STATE


def resolve_rf_training(spec: RFTrainingSpec | None) -> RFTrainingConfig:
    """Defaults filled, dataset id trimmed and lowercased (its existence is checked elsewhere).

    Raises GraphValidationError listing every bad key (`field="training.<key>"`).
    """
    check = TrainingChecker((spec or RFTrainingSpec()).model_dump())
    check.identifier("dataset")
    check.number("test_size", 0, 1, high_inclusive=False)
    check.integer("random_state", 0, MAX_RANDOM_STATE)
    check.flag("stratify")
    check.integer("log_every_trees", 1, MAX_LOG_EVERY_TREES)
    if check.errors:
        raise GraphValidationError(check.errors)
    return RFTrainingConfig(**check.values)
