"""Forest accuracy at every checkpoint for the price of the new trees only.

A forest predicts argmax of the mean of its trees' `predict_proba`; the argmax of the sum is the
same, so keeping the running sum per split lets each checkpoint evaluate just the trees added
since the last one. Out-of-bag votes reuse the same train predictions, masked by each tree's
in-bag rows, which reproduces `oob_score_` without sklearn's full recompute over every tree at
every checkpoint.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
from sklearn.ensemble import RandomForestClassifier
from sklearn.tree import DecisionTreeClassifier


def as_tree_input(X: np.ndarray) -> np.ndarray:
    """The float32, C-ordered matrix sklearn trees read without copying or checking."""
    return np.ascontiguousarray(X, dtype=np.float32)


def out_of_bag_mask(tree: DecisionTreeClassifier, n_samples: int) -> np.ndarray:
    """Rows a bootstrapped tree never saw; its in-bag draw replayed from the tree's seed.

    Mirrors sklearn's draw for `max_samples=None` without sample weights (what we fit); the
    public `estimators_samples_` redraws every tree on each access, too slow per checkpoint.
    Tests pin this against `estimators_samples_` and `oob_score_`.
    """
    in_bag = np.random.RandomState(tree.random_state).randint(0, n_samples, n_samples)
    mask = np.ones(n_samples, dtype=bool)
    mask[in_bag] = False
    return mask


def _tree_probabilities(
    tree: DecisionTreeClassifier, splits: Sequence[np.ndarray]
) -> list[np.ndarray]:
    return [tree.predict_proba(X, check_input=False) for X in splits]


class RunningVotes:
    """Summed class probabilities of the trees seen so far, on train and test (and out-of-bag)."""

    def __init__(
        self,
        X_train: np.ndarray,
        y_train: np.ndarray,
        X_test: np.ndarray,
        y_test: np.ndarray,
        *,
        has_oob: bool,
        executor: ThreadPoolExecutor,
    ) -> None:
        self._X_train = as_tree_input(X_train)
        self._X_test = as_tree_input(X_test)
        self._y_train = np.asarray(y_train)
        self._y_test = np.asarray(y_test)
        self._has_oob = has_oob
        self._executor = executor
        self._trees_seen = 0
        self._train_sum: np.ndarray | None = None
        self._test_sum: np.ndarray | None = None
        self._oob_sum: np.ndarray | None = None
        self._oob_count = np.zeros(len(self._X_train), dtype=np.int64)
        self._classes: np.ndarray | None = None

    @property
    def X_train(self) -> np.ndarray:
        """The train matrix already in tree layout; fitting on it skips a copy per checkpoint."""
        return self._X_train

    def add_new_trees(self, forest: RandomForestClassifier) -> None:
        """Fold in the trees grown since the last call."""
        new_trees = forest.estimators_[self._trees_seen :]
        if not new_trees:
            return
        if self._classes is None:
            self._classes = np.asarray(forest.classes_)
            n_classes = len(self._classes)
            self._train_sum = np.zeros((len(self._X_train), n_classes))
            self._test_sum = np.zeros((len(self._X_test), n_classes))
            self._oob_sum = np.zeros((len(self._X_train), n_classes))
        splits = (self._X_train, self._X_test)
        results = self._executor.map(lambda tree: _tree_probabilities(tree, splits), new_trees)
        for index, (train_proba, test_proba) in enumerate(results):
            self._train_sum += train_proba
            self._test_sum += test_proba
            if self._has_oob:
                out_of_bag = out_of_bag_mask(new_trees[index], len(self._X_train))
                self._oob_sum[out_of_bag] += train_proba[out_of_bag]
                self._oob_count[out_of_bag] += 1
        self._trees_seen = len(forest.estimators_)

    def _predicted_labels(self, summed: np.ndarray) -> np.ndarray:
        assert self._classes is not None
        return self._classes.take(np.argmax(summed, axis=1))

    def train_predictions(self) -> np.ndarray:
        assert self._train_sum is not None
        return self._predicted_labels(self._train_sum)

    def test_predictions(self) -> np.ndarray:
        assert self._test_sum is not None
        return self._predicted_labels(self._test_sum)

    def train_accuracy(self) -> float:
        return _accuracy(self._y_train, self.train_predictions())

    def test_accuracy(self) -> float:
        return _accuracy(self._y_test, self.test_predictions())

    def oob_score(self) -> float | None:
        """sklearn's `oob_score_`: rows never out-of-bag count as a vote for the first class."""
        if not self._has_oob or self._oob_sum is None:
            return None
        decision = self._oob_sum / np.maximum(self._oob_count, 1)[:, None]
        return _accuracy(self._y_train, self._predicted_labels(decision))


def _accuracy(y_true: np.ndarray, y_pred: Any) -> float:
    if len(y_true) == 0:
        return 0.0
    return float(np.mean(np.asarray(y_true) == np.asarray(y_pred)))
