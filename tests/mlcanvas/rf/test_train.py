from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

import numpy as np
import pytest
from sklearn.ensemble import RandomForestClassifier

from mlcanvas.errors import InvalidInputError
from mlcanvas.rf import RFHyperparameters, RFProgress, RFResult, checkpoint_sizes, train_forest

if TYPE_CHECKING:
    from conftest import IrisSplit

IRIS_CLASSES = ["setosa", "versicolor", "virginica"]


def _train(
    iris: IrisSplit,
    hyperparameters: RFHyperparameters,
    log_every: int = 10,
    n_jobs: int = 1,
    **kwargs: object,
) -> list[RFProgress | RFResult]:
    return list(
        train_forest(
            iris.X_train,
            iris.y_train,
            iris.X_test,
            iris.y_test,
            hyperparameters=hyperparameters,
            log_every_trees=log_every,
            class_names=IRIS_CLASSES,
            n_jobs=n_jobs,
            **kwargs,  # type: ignore[arg-type]
        )
    )


@pytest.mark.parametrize(
    ("n_estimators", "log_every", "expected"),
    [(25, 10, [10, 20, 25]), (5, 10, [5]), (3, 0, [1, 2, 3]), (20, 10, [10, 20]), (1, 1, [1])],
)
def test_checkpoint_sizes_follow_the_step_rule(
    n_estimators: int, log_every: int, expected: list[int]
) -> None:
    assert checkpoint_sizes(n_estimators, log_every) == expected


def test_progress_per_checkpoint_in_order_then_one_result(iris: IrisSplit) -> None:
    hyperparameters = RFHyperparameters(n_estimators=25, random_state=1)
    *progress, result = _train(iris, hyperparameters)

    assert all(isinstance(p, RFProgress) for p in progress)
    assert [p.trees_built for p in progress] == [10, 20, 25]
    assert {p.total_trees for p in progress} == {25}
    elapsed = [p.elapsed_ms for p in progress]
    assert all(isinstance(ms, int) for ms in elapsed) and elapsed == sorted(elapsed)
    assert all(0.0 <= p.train_accuracy <= 1.0 and 0.0 <= p.test_accuracy <= 1.0 for p in progress)
    assert isinstance(result, RFResult)
    assert not result.stopped
    assert result.trees_built == len(result.model.estimators_) == 25


def test_final_scores_match_the_forest_and_a_plain_fit(iris: IrisSplit) -> None:
    hyperparameters = RFHyperparameters(n_estimators=25, min_samples_leaf=2, random_state=1)
    *progress, result = _train(iris, hyperparameters)
    assert isinstance(result, RFResult)

    plain = RandomForestClassifier(**hyperparameters.to_sklearn_kwargs(), oob_score=True)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Some inputs do not have OOB scores")
        plain.fit(iris.X_train, iris.y_train)
    np.testing.assert_array_equal(result.model.predict(iris.X_test), plain.predict(iris.X_test))
    assert result.final_train_accuracy == pytest.approx(plain.score(iris.X_train, iris.y_train))
    assert result.final_test_accuracy == pytest.approx(plain.score(iris.X_test, iris.y_test))
    assert progress[-1].oob_score == pytest.approx(plain.oob_score_)
    assert progress[-1].test_accuracy == result.final_test_accuracy


def test_without_bootstrap_there_is_no_oob_score(iris: IrisSplit) -> None:
    progress = _train(iris, RFHyperparameters(n_estimators=4, bootstrap=False), log_every=2)[:-1]
    assert [p.oob_score for p in progress] == [None, None]  # type: ignore[union-attr]


def test_messages_carry_the_contract_fields(iris: IrisSplit) -> None:
    first, *_, result = _train(iris, RFHyperparameters(n_estimators=10, random_state=0), 5)
    assert isinstance(first, RFProgress) and isinstance(result, RFResult)
    progress = first.to_message()
    assert progress["type"] == "rf_progress" and progress["stage"] == "training"
    assert {"trees_built", "total_trees", "train_accuracy", "test_accuracy", "oob_score"} <= set(
        progress
    )
    assert isinstance(progress["elapsed_ms"], int)
    assert isinstance(progress["oob_score"], float)

    done = result.to_message(model_path="/tmp/model.pkl")
    assert done["type"] == "rf_done" and done["status"] == "completed"
    assert done["classes"] == IRIS_CLASSES
    assert done["model_path"] == "/tmp/model.pkl"
    assert len(done["feature_importances"]) == len(done["feature_names"]) == 4
    assert done["feature_names"] == ["feature_0", "feature_1", "feature_2", "feature_3"]
    matrix = done["confusion_matrix"]
    assert len(matrix) == 3 and all(len(row) == 3 for row in matrix)
    assert all(type(cell) is int for row in matrix for cell in row)
    assert sum(map(sum, matrix)) == len(iris.y_test)


def test_stop_after_first_checkpoint_keeps_those_trees(iris: IrisSplit) -> None:
    seen: list[RFProgress | RFResult] = []
    hyperparameters = RFHyperparameters(n_estimators=25, random_state=1)
    for message in train_forest(
        iris.X_train,
        iris.y_train,
        iris.X_test,
        iris.y_test,
        hyperparameters=hyperparameters,
        log_every_trees=10,
        class_names=IRIS_CLASSES,
        should_stop=lambda: len(seen) >= 1,
        n_jobs=1,
    ):
        seen.append(message)

    progress, result = seen
    assert isinstance(progress, RFProgress) and progress.trees_built == 10
    assert isinstance(result, RFResult)
    assert result.stopped and result.trees_built == 10
    assert len(result.model.estimators_) == 10
    assert result.to_message()["status"] == "stopped"
    assert result.final_test_accuracy == progress.test_accuracy


def test_stop_before_any_checkpoint_yields_nothing(iris: IrisSplit) -> None:
    assert _train(iris, RFHyperparameters(n_estimators=25), should_stop=lambda: True) == []


def test_confusion_matrix_covers_classes_missing_from_a_split(iris: IrisSplit) -> None:
    train_rows = iris.y_train != 2  # the forest never sees virginica
    test_rows = iris.y_test != 0  # the test split has no setosa
    *_, result = train_forest(
        iris.X_train[train_rows],
        iris.y_train[train_rows],
        iris.X_test[test_rows],
        iris.y_test[test_rows],
        hyperparameters=RFHyperparameters(n_estimators=5, random_state=0),
        log_every_trees=5,
        class_names=IRIS_CLASSES,
        n_jobs=1,
    )
    assert isinstance(result, RFResult)
    matrix = np.array(result.confusion_matrix)
    assert matrix.shape == (3, 3)
    assert matrix[0].sum() == 0  # no true setosa in test
    assert matrix[:, 2].sum() == 0  # virginica never predicted
    assert matrix[2].sum() == (iris.y_test == 2).sum()


def test_all_cores_give_the_same_forest(iris: IrisSplit) -> None:
    hyperparameters = RFHyperparameters(n_estimators=6, random_state=3)
    *_, serial = _train(iris, hyperparameters, 3)
    *_, parallel = _train(iris, hyperparameters, 3, n_jobs=-1)
    assert isinstance(serial, RFResult) and isinstance(parallel, RFResult)
    assert serial.confusion_matrix == parallel.confusion_matrix
    assert serial.feature_importances == pytest.approx(parallel.feature_importances)


def test_labels_outside_the_classes_are_rejected(iris: IrisSplit) -> None:
    with pytest.raises(InvalidInputError, match="class indices"):
        list(
            train_forest(
                iris.X_train,
                iris.y_train,
                iris.X_test,
                iris.y_test,
                hyperparameters=RFHyperparameters(n_estimators=2),
                log_every_trees=1,
                class_names=["only", "two"],
            )
        )


def test_several_workers_report_the_same_checkpoints_and_scores(iris: IrisSplit) -> None:
    hyperparameters = RFHyperparameters(n_estimators=25, random_state=1)
    *serial_progress, serial = _train(iris, hyperparameters)
    *progress, parallel = _train(iris, hyperparameters, n_jobs=2)
    assert [p.trees_built for p in progress] == [10, 20, 25]  # type: ignore[union-attr]
    assert isinstance(serial, RFResult) and isinstance(parallel, RFResult)
    assert progress[-1].oob_score == pytest.approx(serial_progress[-1].oob_score)  # type: ignore[union-attr]
    assert parallel.final_test_accuracy == serial.final_test_accuracy
    np.testing.assert_array_equal(
        parallel.model.predict(iris.X_test), serial.model.predict(iris.X_test)
    )


def test_stop_with_several_workers_keeps_the_trees_built(iris: IrisSplit) -> None:
    seen: list[RFProgress | RFResult] = []
    for message in train_forest(
        iris.X_train,
        iris.y_train,
        iris.X_test,
        iris.y_test,
        hyperparameters=RFHyperparameters(n_estimators=500, random_state=1),
        log_every_trees=10,
        class_names=IRIS_CLASSES,
        should_stop=lambda: len(seen) >= 1,
        n_jobs=2,
    ):
        seen.append(message)

    *progress, result = seen
    assert isinstance(result, RFResult) and result.stopped
    assert all(isinstance(p, RFProgress) for p in progress)
    assert progress[0].trees_built == 10  # type: ignore[union-attr]
    assert 10 <= result.trees_built == len(result.model.estimators_) < 500
    # the last progress describes the forest kept: trees finished after the stop are reported
    assert progress[-1].trees_built == result.trees_built  # type: ignore[union-attr]
    assert progress[-1].test_accuracy == result.final_test_accuracy  # type: ignore[union-attr]
    assert len(progress) <= 2
    expected = float((result.model.predict(iris.X_test) == iris.y_test).mean())
    assert result.final_test_accuracy == pytest.approx(expected)
