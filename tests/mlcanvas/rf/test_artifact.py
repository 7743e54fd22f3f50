from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import joblib
import pytest

from mlcanvas.errors import InvalidInputError, NotFoundError
from mlcanvas.rf import (
    RFHyperparameters,
    RFResult,
    load_rf_artifact,
    save_rf_artifact,
    sha256_of_file,
)

if TYPE_CHECKING:
    from conftest import IrisSplit


def _save(
    path: Path, result: RFResult, iris: IrisSplit, hyper: RFHyperparameters | dict[str, Any]
) -> str:
    return save_rf_artifact(
        path,
        model=result.model,
        dataset="iris",
        feature_names=iris.feature_names,
        class_names=iris.class_names,
        hyperparameters=hyper,
    )


class _CreatesDirectoryWhenUnpickled:
    """Stands in for a hostile pickle: unpickling it has a visible side effect."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, ...]:
        return (os.mkdir, (str(self.marker),))


def test_round_trip_with_the_recorded_digest(
    tmp_path: Path, iris: IrisSplit, iris_forest: RFResult, iris_hyperparameters: RFHyperparameters
) -> None:
    path = tmp_path / "rf" / "jobs" / "abc" / "model.pkl"
    digest = _save(path, iris_forest, iris, iris_hyperparameters)

    assert digest == sha256_of_file(path)
    assert [p.name for p in path.parent.iterdir()] == ["model.pkl"]  # no temp file left
    artifact = load_rf_artifact(path, expected_sha256=digest)
    assert list(artifact) == [
        "model",
        "dataset",
        "feature_names",
        "class_names",
        "expected_feature_count",
        "hyperparameters",
    ]
    assert artifact["dataset"] == "iris"
    assert artifact["expected_feature_count"] == 4
    assert artifact["class_names"] == iris.class_names
    assert artifact["hyperparameters"] == iris_hyperparameters.model_dump()
    assert (artifact["model"].predict(iris.X_test) == iris_forest.model.predict(iris.X_test)).all()


def test_a_file_with_another_digest_is_never_unpickled(
    tmp_path: Path, iris: IrisSplit, iris_forest: RFResult, iris_hyperparameters: RFHyperparameters
) -> None:
    path = tmp_path / "model.pkl"
    digest = _save(path, iris_forest, iris, iris_hyperparameters.model_dump())  # a dict works too
    marker = tmp_path / "unpickled"
    joblib.dump({"model": _CreatesDirectoryWhenUnpickled(marker)}, path)  # swapped behind us

    with pytest.raises(NotFoundError, match="digest"):
        load_rf_artifact(path, expected_sha256=digest)
    assert not marker.exists()


def test_missing_file_and_malformed_digest(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError):
        load_rf_artifact(tmp_path / "model.pkl", expected_sha256="0" * 64)
    with pytest.raises(InvalidInputError):
        load_rf_artifact(tmp_path / "model.pkl", expected_sha256="../etc/passwd")


def test_feature_names_must_fit_the_forest(
    tmp_path: Path, iris_forest: RFResult, iris_hyperparameters: RFHyperparameters
) -> None:
    with pytest.raises(ValueError, match="feature names"):
        save_rf_artifact(
            tmp_path / "model.pkl",
            model=iris_forest.model,
            dataset="iris",
            feature_names=["a", "b"],
            class_names=["x", "y", "z"],
            hyperparameters=iris_hyperparameters,
        )
    assert list(tmp_path.iterdir()) == []
