"""Iris, split once, and one small forest trained on it: the real data every RF test uses."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.model_selection import train_test_split

from mlcanvas.rf import RFHyperparameters, RFResult, train_forest

IRIS_CLASSES = ["setosa", "versicolor", "virginica"]


@dataclass(frozen=True)
class IrisSplit:
    X_train: np.ndarray
    X_test: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray
    feature_names: list[str]
    class_names: list[str]


@pytest.fixture(scope="session")
def iris() -> IrisSplit:
    data = load_iris()
    X_train, X_test, y_train, y_test = train_test_split(
        data.data, data.target, test_size=0.2, random_state=42, stratify=data.target
    )
    return IrisSplit(X_train, X_test, y_train, y_test, list(data.feature_names), IRIS_CLASSES)


@pytest.fixture(scope="session")
def iris_hyperparameters() -> RFHyperparameters:
    return RFHyperparameters(n_estimators=12, random_state=7)


@pytest.fixture(scope="session")
def iris_forest(iris: IrisSplit, iris_hyperparameters: RFHyperparameters) -> RFResult:
    messages = list(
        train_forest(
            iris.X_train,
            iris.y_train,
            iris.X_test,
            iris.y_test,
            hyperparameters=iris_hyperparameters,
            log_every_trees=5,
            class_names=IRIS_CLASSES,
            feature_names=iris.feature_names,
            n_jobs=1,
        )
    )
    result = messages[-1]
    assert isinstance(result, RFResult)
    return result
