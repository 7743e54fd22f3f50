"""Dataset registry and loaders: NN image sets as tensors, RF tables as arrays (contract §10).

Submodules load on first use (PEP 562): graph checks and the dataset listings need only the
specs in `registry`, and should not pay for importing torch, scikit-learn and pandas.
"""

from mlcanvas.lazy_exports import lazy_getattr

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


__getattr__ = lazy_getattr(__name__, _EXPORTS)
