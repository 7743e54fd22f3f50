"""Dataset registry and loaders: NN image sets as tensors, RF tables as arrays (contract §10)."""

from mlcanvas.datasets.feature_table import FeatureTable
from mlcanvas.datasets.kaggle_source import download_kaggle_dataset, has_kaggle_credentials
from mlcanvas.datasets.nn_datasets import clear_nn_dataset_memory, load_nn_dataset
from mlcanvas.datasets.registry import (
    NN_DATASETS,
    RF_DATASETS,
    NNDatasetSpec,
    RFDatasetSpec,
    get_nn_spec,
    get_rf_spec,
    list_nn_datasets,
    list_rf_datasets,
)
from mlcanvas.datasets.rf_datasets import load_rf_table, split_table
from mlcanvas.datasets.tensors import TensorSplit

__all__ = [
    "NN_DATASETS",
    "RF_DATASETS",
    "FeatureTable",
    "NNDatasetSpec",
    "RFDatasetSpec",
    "TensorSplit",
    "clear_nn_dataset_memory",
    "download_kaggle_dataset",
    "get_nn_spec",
    "get_rf_spec",
    "has_kaggle_credentials",
    "list_nn_datasets",
    "list_rf_datasets",
    "load_nn_dataset",
    "load_rf_table",
    "split_table",
]
