"""Load an NN dataset by id as train/test tensors (contract §10), cached per process.

A warm process (the executor running several jobs) keeps the last few splits in memory, so
only its first job pays for parsing. Callers must treat the returned tensors as read-only:
they are shared between callers.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from mlcanvas.datasets import mnist_cache
from mlcanvas.datasets.kaggle_source import download_kaggle_dataset
from mlcanvas.datasets.registry import MNIST_CSV_FILES, MNIST_KAGGLE_DATASET, get_nn_spec
from mlcanvas.datasets.tensors import TensorSplit
from mlcanvas.errors import DatasetError
from mlcanvas.settings import get_settings

logger = logging.getLogger(__name__)

MNIST_FOLDERS_KEPT = 3  # one MNIST split is ~220 MB as float32
DIGITS_TEST_SIZE = 0.2
DIGITS_SEED = 42


def load_nn_dataset(dataset_id: str, *, cache_dir: Path | None = None) -> TensorSplit:
    """Train/test tensors for `dataset_id`; `cache_dir` defaults to the settings' cache root.

    Raises DatasetError for an unknown id, DatasetUnavailableError when MNIST is neither
    cached nor downloadable. Blocking (parsing, downloads): call it off the event loop.
    """
    spec = get_nn_spec(dataset_id)
    if spec.source == "sklearn":
        return _load_digits()
    root = Path(cache_dir) if cache_dir is not None else get_settings().dataset_cache_dir
    return _load_mnist(root.expanduser().resolve() / spec.id)


def clear_nn_dataset_memory() -> None:
    """Forget the in-process splits (the on-disk caches stay)."""
    _load_digits.cache_clear()
    _load_mnist.cache_clear()


@lru_cache(maxsize=1)
def _load_digits() -> TensorSplit:
    """scikit-learn's bundled 8x8 digits /16, stratified 80/20 with seed 42 (1,437/360)."""
    bunch = load_digits()
    images = (bunch.data / 16.0).astype(np.float32).reshape(-1, 1, 8, 8)
    labels = bunch.target.astype(np.int64)
    x_train, x_test, y_train, y_test = train_test_split(
        images, labels, test_size=DIGITS_TEST_SIZE, random_state=DIGITS_SEED, stratify=labels
    )
    logger.info("Loaded digits from scikit-learn: %d train, %d test", len(y_train), len(y_test))
    return TensorSplit(
        torch.from_numpy(x_train),
        torch.from_numpy(y_train),
        torch.from_numpy(x_test),
        torch.from_numpy(y_test),
    )


@lru_cache(maxsize=MNIST_FOLDERS_KEPT)
def _load_mnist(folder: Path) -> TensorSplit:
    """From the tensor caches, else the CSVs, else a Kaggle download of the CSVs."""
    if not all(mnist_cache.has_split(folder, split) for split in mnist_cache.SPLITS):
        download_kaggle_dataset(MNIST_KAGGLE_DATASET, folder, expected_files=MNIST_CSV_FILES)
        missing = [s for s in mnist_cache.SPLITS if not mnist_cache.has_split(folder, s)]
        if missing:
            names = ", ".join(mnist_cache.csv_path(folder, s).name for s in missing)
            raise DatasetError(
                f"Kaggle dataset {MNIST_KAGGLE_DATASET} did not contain {names}", dataset="mnist"
            )
    x_train, y_train = mnist_cache.load_split(folder, "train")
    x_test, y_test = mnist_cache.load_split(folder, "test")
    logger.info("Loaded MNIST from %s: %d train, %d test", folder, len(y_train), len(y_test))
    return TensorSplit(x_train, y_train, x_test, y_test)
