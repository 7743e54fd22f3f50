"""scikit-learn's bundled tables, named as the registry names them.

`wine_sklearn` is scikit-learn's wine as is. `iris` and `breast_cancer` are offline stand-ins
for the Kaggle CSVs, so they carry the Kaggle column and class names: a model trained on
either copy accepts the same inputs and reports the same classes.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from sklearn.datasets import load_breast_cancer, load_iris, load_wine

from mlcanvas.datasets.feature_table import FeatureTable
from mlcanvas.datasets.registry import RFDatasetSpec
from mlcanvas.errors import DatasetError


def _iris() -> tuple[np.ndarray, np.ndarray]:
    # sklearn's 0/1/2 are setosa/versicolor/virginica: already the sorted Kaggle order.
    bunch = load_iris()
    return bunch.data, bunch.target


def _breast_cancer() -> tuple[np.ndarray, np.ndarray]:
    # sklearn: 0=malignant, 1=benign. Kaggle labels M/B, sorted B=0, M=1. Feature order
    # (mean, error, worst) is the Kaggle column order.
    bunch = load_breast_cancer()
    return bunch.data, 1 - bunch.target


def _wine() -> tuple[np.ndarray, np.ndarray]:
    bunch = load_wine()
    return bunch.data, bunch.target


_LOADERS: dict[str, Callable[[], tuple[np.ndarray, np.ndarray]]] = {
    "iris": _iris,
    "breast_cancer": _breast_cancer,
    "wine_sklearn": _wine,
}


def load_sklearn_table(spec: RFDatasetSpec) -> FeatureTable:
    loader = _LOADERS.get(spec.id)
    if loader is None:
        raise DatasetError(f"No scikit-learn copy of RF dataset: {spec.id}", dataset=spec.id)
    data, target = loader()
    return FeatureTable(
        dataset_id=spec.id,
        X=np.asarray(data, dtype=np.float64),
        y=np.asarray(target, dtype=np.int64),
        feature_names=spec.feature_names,
        class_names=spec.class_names,
    )
