"""Random-forest core: hyper-parameters, training with progress, artifact, source, inference.

Submodules load on first use (PEP 562): graph validation needs only `hyperparameters`, and
should not pay for importing scikit-learn (~4 s here).
"""

from importlib import import_module
from typing import Any

_EXPORTS = {
    "build_rf_artifact": "artifact",
    "load_rf_artifact": "artifact",
    "save_rf_artifact": "artifact",
    "sha256_of_file": "artifact",
    "generate_rf_source": "codegen",
    "RFHyperparameters": "hyperparameters",
    "check_hyperparameters": "hyperparameters",
    "resolve_hyperparameters": "hyperparameters",
    "MAX_RF_INFER_ROWS": "infer",
    "predict_rows": "infer",
    "RFProgress": "train",
    "RFResult": "train",
    "checkpoint_sizes": "train",
    "train_forest": "train",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'mlcanvas.rf' has no attribute {name!r}")
    return getattr(import_module(f"mlcanvas.rf.{_EXPORTS[name]}"), name)
