"""Both growth strategies give a plain fit's trees, score each tree once, and stop cleanly."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pytest
from sklearn.ensemble import RandomForestClassifier
from sklearn.utils._param_validation import InvalidParameterError

from mlcanvas.rf.growth import GrowInOneFit, GrowInSteps
from mlcanvas.rf.running_votes import RunningVotes

if TYPE_CHECKING:
    from conftest import IrisSplit


def _votes(iris: IrisSplit) -> RunningVotes:
    return RunningVotes(
        iris.X_train,
        iris.y_train,
        iris.X_test,
        iris.y_test,
        classes=np.unique(iris.y_train),
        has_oob=True,
    )


def _same_trees(a: RandomForestClassifier, b: RandomForestClassifier) -> bool:
    return len(a.estimators_) == len(b.estimators_) and all(
        np.array_equal(x.tree_.threshold, y.tree_.threshold)
        and np.array_equal(x.tree_.feature, y.tree_.feature)
        for x, y in zip(a.estimators_, b.estimators_, strict=True)
    )


@pytest.mark.parametrize("strategy", ["one_fit", "steps"])
def test_growth_builds_a_plain_fits_trees_and_scores_each_once(
    iris: IrisSplit, strategy: str
) -> None:
    votes = _votes(iris)
    forest = RandomForestClassifier(n_estimators=23, random_state=5, n_jobs=2)
    growth = (
        GrowInOneFit(forest, votes.X_train, iris.y_train, votes.score_tree)
        if strategy == "one_fit"
        else GrowInSteps(forest, votes.X_train, iris.y_train, votes.score_tree, [10, 20, 23])
    )
    for tree_votes in growth:
        if tree_votes is not None:
            votes.add(tree_votes)

    plain = RandomForestClassifier(n_estimators=23, random_state=5, oob_score=True)
    plain.fit(iris.X_train, iris.y_train)
    assert votes.trees_seen == 23
    assert _same_trees(forest, plain)
    assert forest.get_params()["n_estimators"] == 23 and not forest.warm_start
    assert votes.test_accuracy() == pytest.approx(plain.score(iris.X_test, iris.y_test))
    assert votes.oob_score() == pytest.approx(plain.oob_score_)


def test_one_fit_stop_keeps_exactly_the_trees_built(iris: IrisSplit) -> None:
    votes = _votes(iris)
    forest = RandomForestClassifier(n_estimators=400, random_state=1, n_jobs=2)
    growth = GrowInOneFit(forest, votes.X_train, iris.y_train, votes.score_tree)
    for tree_votes in growth:
        if tree_votes is not None:
            votes.add(tree_votes)
            if votes.trees_seen == 5:
                growth.stop()

    assert 5 <= votes.trees_seen < 400
    assert len(forest.estimators_) == forest.get_params()["n_estimators"] == votes.trees_seen
    assert all(tree is not None for tree in forest.estimators_)
    expected = (forest.predict(iris.X_test) == iris.y_test).mean()
    assert votes.test_accuracy() == pytest.approx(expected)


def test_one_fit_raises_the_fits_error_on_the_callers_thread(iris: IrisSplit) -> None:
    votes = _votes(iris)
    forest = RandomForestClassifier(n_estimators=4, max_depth=-3, n_jobs=2)
    with pytest.raises(InvalidParameterError, match="max_depth"):
        list(GrowInOneFit(forest, votes.X_train, iris.y_train, votes.score_tree))


def test_steps_stop_before_the_next_step(iris: IrisSplit) -> None:
    votes = _votes(iris)
    forest = RandomForestClassifier(n_estimators=30, random_state=1, n_jobs=1)
    growth = GrowInSteps(forest, votes.X_train, iris.y_train, votes.score_tree, [10, 20, 30])
    for tree_votes in growth:
        votes.add(tree_votes)
        if votes.trees_seen == 10:
            growth.stop()
    assert votes.trees_seen == len(forest.estimators_) == 10
    assert forest.get_params()["n_estimators"] == 10
