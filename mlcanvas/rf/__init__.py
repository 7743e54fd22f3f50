"""Random-forest core: hyper-parameters, training with progress, artifact, source, inference."""

from mlcanvas.rf.artifact import (
    build_rf_artifact,
    load_rf_artifact,
    save_rf_artifact,
    sha256_of_file,
)
from mlcanvas.rf.codegen import generate_rf_source
from mlcanvas.rf.hyperparameters import (
    RFHyperparameters,
    check_hyperparameters,
    resolve_hyperparameters,
)
from mlcanvas.rf.infer import MAX_RF_INFER_ROWS, predict_rows
from mlcanvas.rf.train import RFProgress, RFResult, checkpoint_sizes, train_forest

__all__ = [
    "MAX_RF_INFER_ROWS",
    "RFHyperparameters",
    "RFProgress",
    "RFResult",
    "build_rf_artifact",
    "check_hyperparameters",
    "checkpoint_sizes",
    "generate_rf_source",
    "load_rf_artifact",
    "predict_rows",
    "resolve_hyperparameters",
    "save_rf_artifact",
    "sha256_of_file",
    "train_forest",
]
