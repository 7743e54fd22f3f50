from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pytest

from mlcanvas.errors import InferenceInputError
from mlcanvas.rf import (
    MAX_RF_INFER_ROWS,
    RFHyperparameters,
    RFResult,
    build_rf_artifact,
    predict_rows,
    train_forest,
)

if TYPE_CHECKING:
    from conftest import IrisSplit

SETOSA_ROW = [5.1, 3.5, 1.4, 0.2]


@pytest.fixture(scope="module")
def artifact(
    iris: IrisSplit, iris_forest: RFResult, iris_hyperparameters: RFHyperparameters
) -> dict[str, Any]:
    return build_rf_artifact(
        model=iris_forest.model,
        dataset="iris",
        feature_names=iris.feature_names,
        class_names=iris.class_names,
        hyperparameters=iris_hyperparameters,
    )


def test_one_row_predicts_a_class_name(artifact: dict[str, Any]) -> None:
    result = predict_rows(artifact, SETOSA_ROW, return_probabilities=True)
    assert result["input_shape"] == [1, 4]
    assert result["prediction_indices"] == [0]
    assert result["predictions"] == ["setosa"]
    assert result["classes"] == ["setosa", "versicolor", "virginica"]
    [probabilities] = result["probabilities"]
    assert len(probabilities) == 3 and sum(probabilities) == pytest.approx(1.0)


def test_a_matrix_matches_the_forest_and_probabilities_are_optional(
    artifact: dict[str, Any], iris: IrisSplit
) -> None:
    result = predict_rows(artifact, iris.X_test.tolist(), return_probabilities=False)
    assert result["input_shape"] == [len(iris.X_test), 4]
    assert result["prediction_indices"] == artifact["model"].predict(iris.X_test).tolist()
    assert result["probabilities"] is None


def test_probabilities_keep_a_column_for_a_class_never_trained_on(iris: IrisSplit) -> None:
    rows = iris.y_train != 1
    *_, result = train_forest(
        iris.X_train[rows],
        iris.y_train[rows],
        iris.X_test,
        iris.y_test,
        hyperparameters=RFHyperparameters(n_estimators=3, random_state=0),
        log_every_trees=3,
        class_names=iris.class_names,
        n_jobs=1,
    )
    assert isinstance(result, RFResult)
    artifact = build_rf_artifact(
        model=result.model,
        dataset="iris",
        feature_names=iris.feature_names,
        class_names=iris.class_names,
        hyperparameters=RFHyperparameters(n_estimators=3, random_state=0),
    )
    out = predict_rows(artifact, iris.X_test, return_probabilities=True)
    probabilities = np.array(out["probabilities"])
    assert probabilities.shape == (len(iris.X_test), 3)
    assert (probabilities[:, 1] == 0).all()
    assert set(out["predictions"]) <= {"setosa", "virginica"}


@pytest.mark.parametrize("inputs", [5.0, [[[1.0, 2.0, 3.0, 4.0]]], None])
def test_wrong_rank_is_rejected(artifact: dict[str, Any], inputs: Any) -> None:
    with pytest.raises(InferenceInputError) as caught:
        predict_rows(artifact, inputs, return_probabilities=True)
    assert caught.value.message == "inputs must be a 1D feature vector or a 2D feature matrix"


@pytest.mark.parametrize(
    "inputs",
    [
        [[1.0, 2.0, 3.0, 4.0], [1.0, 2.0]],
        ["a", "b", "c", "d"],
        {"x": 1},
        [1.0, float("nan"), 3.0, 4.0],
        [1.0, float("inf"), 3.0, 4.0],
    ],
)
def test_unusable_payloads_are_invalid(artifact: dict[str, Any], inputs: Any) -> None:
    with pytest.raises(InferenceInputError) as caught:
        predict_rows(artifact, inputs, return_probabilities=True)
    assert caught.value.message.startswith("Invalid inputs payload: ")


@pytest.mark.parametrize(("inputs", "got"), [([1.0, 2.0, 3.0], 3), ([[1.0] * 5], 5), ([], 0)])
def test_feature_count_mismatch_names_both_counts(
    artifact: dict[str, Any], inputs: Any, got: int
) -> None:
    with pytest.raises(InferenceInputError) as caught:
        predict_rows(artifact, inputs, return_probabilities=True)
    assert caught.value.to_detail() == {
        "message": "Input feature count mismatch",
        "expected_feature_count": 4,
        "got_feature_count": got,
    }


def test_batches_are_capped(artifact: dict[str, Any]) -> None:
    predict_rows(artifact, [SETOSA_ROW] * MAX_RF_INFER_ROWS, return_probabilities=False)
    with pytest.raises(InferenceInputError) as caught:
        predict_rows(artifact, [SETOSA_ROW] * (MAX_RF_INFER_ROWS + 1), return_probabilities=False)
    assert caught.value.extra["max_rows"] == MAX_RF_INFER_ROWS
    with pytest.raises(InferenceInputError, match="rows per request"):
        predict_rows(artifact, np.zeros((MAX_RF_INFER_ROWS + 1, 4)), return_probabilities=False)
