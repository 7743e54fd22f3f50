"""Load an RF dataset by id as a FeatureTable, choosing the source, and split it.

Order: the cached Kaggle CSV; else a Kaggle download; else, for `iris` and `breast_cancer`
only, scikit-learn's bundled copy under the Kaggle names. `wine` has no offline copy, so it
re-raises the download error, which says what to set or where to put the CSV.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from sklearn.model_selection import train_test_split

from mlcanvas.datasets.feature_table import FeatureTable
from mlcanvas.datasets.kaggle_source import download_kaggle_dataset
from mlcanvas.datasets.registry import RFDatasetSpec, get_rf_spec
from mlcanvas.datasets.rf_csv import find_cached_csv, read_feature_table
from mlcanvas.datasets.rf_sklearn import load_sklearn_table
from mlcanvas.errors import DatasetError, DatasetUnavailableError
from mlcanvas.settings import get_settings

logger = logging.getLogger(__name__)


def load_rf_table(dataset_id: str, *, cache_dir: Path | None = None) -> FeatureTable:
    """The whole table for `dataset_id`; `cache_dir` defaults to the settings' cache root.

    Raises DatasetError (unknown id, bad CSV naming the column) or DatasetUnavailableError.
    Blocking (parsing, downloads): call it off the event loop.
    """
    spec = get_rf_spec(dataset_id)
    if spec.source == "sklearn":
        logger.info("RF dataset %s: scikit-learn's bundled copy", spec.id)
        return load_sklearn_table(spec)
    root = Path(cache_dir) if cache_dir is not None else get_settings().dataset_cache_dir
    folder = root.expanduser().resolve() / spec.id
    cached = find_cached_csv(folder, spec.csv_filename)
    if cached is not None:
        logger.info("RF dataset %s: cached CSV %s", spec.id, cached)
        return read_feature_table(cached, spec)
    return _download_or_fall_back(spec, folder)


def _download_or_fall_back(spec: RFDatasetSpec, folder: Path) -> FeatureTable:
    if spec.kaggle_dataset is None:
        raise DatasetError(f"RF dataset {spec.id} has no download source", dataset=spec.id)
    expected = (spec.csv_filename,) if spec.csv_filename else ()
    try:
        download_kaggle_dataset(spec.kaggle_dataset, folder, expected_files=expected)
    except DatasetUnavailableError as exc:
        if not spec.has_sklearn_fallback:
            raise
        logger.warning(
            "RF dataset %s: Kaggle unavailable (%s); using scikit-learn's copy with Kaggle names",
            spec.id,
            exc.message,
        )
        return load_sklearn_table(spec)
    downloaded = find_cached_csv(folder, spec.csv_filename)
    if downloaded is None:
        raise DatasetError(
            f"Kaggle dataset {spec.kaggle_dataset} contained no CSV file", dataset=spec.id
        )
    logger.info("RF dataset %s: downloaded CSV %s", spec.id, downloaded)
    return read_feature_table(downloaded, spec)


def split_table(
    table: FeatureTable, *, test_size: float, random_state: int, stratify: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(X_train, X_test, y_train, y_test), stratified on the labels when asked (contract §10)."""
    return train_test_split(
        table.X,
        table.y,
        test_size=test_size,
        random_state=random_state,
        stratify=table.y if stratify else None,
    )
