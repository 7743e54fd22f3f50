from __future__ import annotations

import numpy as np
from sklearn.datasets import load_breast_cancer, load_wine

from mlcanvas.datasets.registry import get_rf_spec
from mlcanvas.datasets.rf_sklearn import load_sklearn_table


def test_wine_sklearn_names_are_sklearns() -> None:
    table = load_sklearn_table(get_rf_spec("wine_sklearn"))
    bunch = load_wine()
    assert table.X.shape == (178, 13) and table.X.dtype == np.float64
    assert list(table.feature_names) == list(bunch.feature_names)
    assert list(table.class_names) == [str(name) for name in bunch.target_names]
    assert table.y.dtype == np.int64 and np.array_equal(table.y, bunch.target)


def test_breast_cancer_kaggle_names_match_sklearns_columns() -> None:
    kaggle_names = get_rf_spec("breast_cancer").feature_names
    sklearn_names = load_breast_cancer().feature_names
    for kaggle, sklearn in zip(kaggle_names, sklearn_names, strict=True):
        measure, stat = kaggle.rsplit("_", 1)
        words = measure.replace("_", " ")
        expected = {"mean": f"mean {words}", "se": f"{words} error", "worst": f"worst {words}"}
        assert sklearn == expected[stat]
