"""Forest accuracy at every checkpoint for the price of the new trees only.

A forest predicts argmax of the mean of its trees' `predict_proba`; the argmax of the sum is the
same, so keeping the running sum per split lets each checkpoint evaluate just the trees added
since the last one. Out-of-bag votes reuse the same train predictions, masked by each tree's
in-bag rows, which reproduces `oob_score_` without sklearn's full recompute over every tree at
every checkpoint.

Scoring one tree (`score_tree`) is thread-safe and runs on the worker that built the tree;
folding its votes in (`add`) is cheap and happens on the caller's thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
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


@dataclass(frozen=True)
class TreeVotes:
    """One fitted tree's class probabilities on both splits, and its out-of-bag rows."""

    train: np.ndarray
    test: np.ndarray
    out_of_bag: np.ndarray | None  # None without bootstrap


class RunningVotes:
    """Summed class probabilities of the trees seen so far, on train and test (and out-of-bag)."""

    def __init__(
        self,
        X_train: np.ndarray,
        y_train: np.ndarray,
        X_test: np.ndarray,
        y_test: np.ndarray,
        *,
        classes: np.ndarray,
        has_oob: bool,
    ) -> None:
        self.X_train = as_tree_input(X_train)  # fitting on it too skips a copy
        self._X_test = as_tree_input(X_test)
        self._y_train = np.asarray(y_train)
        self._y_test = np.asarray(y_test)
        self._classes = np.asarray(classes)
        self._has_oob = has_oob
        self.trees_seen = 0
        shape = (len(self._classes),)
        self._train_sum = np.zeros((len(self.X_train), *shape))
        self._test_sum = np.zeros((len(self._X_test), *shape))
        self._oob_sum = np.zeros((len(self.X_train), *shape))
        self._oob_count = np.zeros(len(self.X_train), dtype=np.int64)

    def score_tree(self, tree: DecisionTreeClassifier) -> TreeVotes:
        """A fitted tree's votes; safe to call from any thread."""
        out_of_bag = out_of_bag_mask(tree, len(self.X_train)) if self._has_oob else None
        return TreeVotes(
            train=tree.predict_proba(self.X_train, check_input=False),
            test=tree.predict_proba(self._X_test, check_input=False),
            out_of_bag=out_of_bag,
        )

    def add(self, votes: TreeVotes) -> None:
        """Fold one tree's votes into the forest's."""
        self._train_sum += votes.train
        self._test_sum += votes.test
        if votes.out_of_bag is not None:
            self._oob_sum[votes.out_of_bag] += votes.train[votes.out_of_bag]
            self._oob_count[votes.out_of_bag] += 1
        self.trees_seen += 1

    def _predicted_labels(self, summed: np.ndarray) -> np.ndarray:
        return self._classes.take(np.argmax(summed, axis=1))

    def train_predictions(self) -> np.ndarray:
        return self._predicted_labels(self._train_sum)

    def test_predictions(self) -> np.ndarray:
        return self._predicted_labels(self._test_sum)

    def train_accuracy(self) -> float:
        return _accuracy(self._y_train, self.train_predictions())

    def test_accuracy(self) -> float:
        return _accuracy(self._y_test, self.test_predictions())

    def oob_score(self) -> float | None:
        """sklearn's `oob_score_`: rows never out-of-bag count as a vote for the first class."""
        if not self._has_oob:
            return None
        decision = self._oob_sum / np.maximum(self._oob_count, 1)[:, None]
        return _accuracy(self._y_train, self._predicted_labels(decision))


def _accuracy(y_true: np.ndarray, y_pred: Any) -> float:
    if len(y_true) == 0:
        return 0.0
    return float(np.mean(np.asarray(y_true) == np.asarray(y_pred)))
