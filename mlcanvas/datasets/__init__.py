"""Dataset registry and loaders: NN image sets as tensors, RF tables as arrays (contract §10).

Submodules load on first use (PEP 562): graph checks and the dataset listings need only the
specs in `registry`, and should not pay for importing torch, scikit-learn and pandas.
"""

from importlib import import_module
from typing import Any

_EXPORTS = {
    "FeatureTable": "feature_table",
    "download_kaggle_dataset": "kaggle_source",
    "has_kaggle_credentials": "kaggle_source",
    "clear_nn_dataset_memory": "nn_datasets",
    "load_nn_dataset": "nn_datasets",
    "NN_DATASETS": "registry",
    "RF_DATASETS": "registry",
    "NNDatasetSpec": "registry",
    "RFDatasetSpec": "registry",
    "get_nn_spec": "registry",
    "get_rf_spec": "registry",
    "list_nn_datasets": "registry",
    "list_rf_datasets": "registry",
    "load_rf_table": "rf_datasets",
    "split_table": "rf_datasets",
    "TensorSplit": "tensors",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'mlcanvas.datasets' has no attribute {name!r}")
    return getattr(import_module(f"mlcanvas.datasets.{_EXPORTS[name]}"), name)
