"""Random-forest core: hyper-parameters, training with progress, artifact, source, inference.

Submodules load on first use (PEP 562): graph validation needs only `hyperparameters`, and
should not pay for importing scikit-learn (~4 s here).
"""

from mlcanvas.lazy_exports import lazy_getattr

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


__getattr__ = lazy_getattr(__name__, _EXPORTS)
