"""Grow one random forest tree by tree, yielding real progress (contract §6).

The forest is the one a single `fit` with the same seed builds (see `growth`); a checkpoint every
`log_every_trees` trees scores the forest so far from running sums of the trees' votes, so each
tree is evaluated once (see `running_votes`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from joblib import effective_n_jobs
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import confusion_matrix

from mlcanvas.errors import InvalidInputError
from mlcanvas.rf.growth import HEARTBEAT_SECONDS, GrowInOneFit, GrowInSteps
from mlcanvas.rf.hyperparameters import RFHyperparameters
from mlcanvas.rf.running_votes import RunningVotes

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RFProgress:
    """One checkpoint: the forest so far, scored on both splits."""

    trees_built: int
    total_trees: int
    train_accuracy: float
    test_accuracy: float
    oob_score: float | None  # None without bootstrap
    elapsed_ms: int  # wall time since fitting began

    def to_message(self) -> dict[str, Any]:
        """The `rf_progress` websocket message."""
        return {
            "type": "rf_progress",
            "stage": "training",
            "trees_built": self.trees_built,
            "total_trees": self.total_trees,
            "train_accuracy": self.train_accuracy,
            "test_accuracy": self.test_accuracy,
            "oob_score": self.oob_score,
            "elapsed_ms": self.elapsed_ms,
        }


@dataclass(frozen=True)
class RFResult:
    """The fitted forest (all trees, or those grown before a stop) and its final scores."""

    model: RandomForestClassifier
    stopped: bool
    trees_built: int
    final_train_accuracy: float
    final_test_accuracy: float
    confusion_matrix: list[list[int]]  # C×C on the test split, rows = true, class order
    classes: list[str]
    feature_importances: list[float]
    feature_names: list[str]

    def to_message(self, model_path: str | None = None) -> dict[str, Any]:
        """The `rf_done` websocket message; `status` and `trees_built` are additions."""
        return {
            "type": "rf_done",
            "final_train_accuracy": self.final_train_accuracy,
            "final_test_accuracy": self.final_test_accuracy,
            "confusion_matrix": self.confusion_matrix,
            "classes": self.classes,
            "feature_importances": self.feature_importances,
            "feature_names": self.feature_names,
            "model_path": model_path,
            "status": "stopped" if self.stopped else "completed",
            "trees_built": self.trees_built,
        }


def checkpoint_sizes(n_estimators: int, log_every_trees: int) -> list[int]:
    """step, 2·step, …, n_estimators with step = max(1, min(n_estimators, log_every_trees))."""
    step = max(1, min(n_estimators, log_every_trees))
    sizes = list(range(step, n_estimators, step))
    return [*sizes, n_estimators]


def _check_data(
    X_train: np.ndarray,
    y_train: np.ndarray,
    X_test: np.ndarray,
    y_test: np.ndarray,
    class_count: int,
) -> None:
    if X_train.ndim != 2 or X_test.ndim != 2 or X_train.shape[1] != X_test.shape[1]:
        raise InvalidInputError(
            "Train and test features must be 2-D with the same column count",
            got=[list(X_train.shape), list(X_test.shape)],
        )
    if len(X_train) == 0 or len(y_train) != len(X_train) or len(y_test) != len(X_test):
        raise InvalidInputError(
            "Features and labels must be non-empty and have one label per row",
            got=[len(X_train), len(y_train), len(X_test), len(y_test)],
        )
    labels = np.concatenate([y_train, y_test])
    if labels.size and (labels.min() < 0 or labels.max() >= class_count):
        raise InvalidInputError(
            "Labels must be class indices in [0, len(class_names))",
            expected=class_count,
            got=[int(labels.min()), int(labels.max())],
        )


def train_forest(
    X_train: np.ndarray,
    y_train: np.ndarray,
    X_test: np.ndarray,
    y_test: np.ndarray,
    *,
    hyperparameters: RFHyperparameters,
    log_every_trees: int,
    class_names: Sequence[str],
    should_stop: Callable[[], bool] | None = None,
    feature_names: Sequence[str] | None = None,
    n_jobs: int | None = -1,
) -> Iterator[RFProgress | RFResult]:
    """Yield an RFProgress per checkpoint, then one RFResult.

    Labels are indices into `class_names`. `should_stop` is polled while the forest grows (after
    each checkpoint, and every ~0.1 s with several workers): a stop before any tree exists ends
    the iterator with no result; later, the result holds every tree built so far with
    `stopped=True`. `feature_names` default to `feature_<i>`.
    """
    X_train, X_test = np.asarray(X_train), np.asarray(X_test)
    y_train, y_test = np.asarray(y_train), np.asarray(y_test)
    _check_data(X_train, y_train, X_test, y_test, len(class_names))
    names = list(feature_names or (f"feature_{i}" for i in range(X_train.shape[1])))
    if should_stop is not None and should_stop():
        logger.info("Forest stopped before its first tree; no result")
        return

    forest = RandomForestClassifier(**hyperparameters.to_sklearn_kwargs(), n_jobs=n_jobs)
    votes = RunningVotes(
        X_train,
        y_train,
        X_test,
        y_test,
        classes=np.unique(y_train),
        has_oob=hyperparameters.bootstrap,
    )
    sizes = checkpoint_sizes(hyperparameters.n_estimators, log_every_trees)
    growth: GrowInOneFit | GrowInSteps
    if effective_n_jobs(n_jobs) > 1:
        growth = GrowInOneFit(forest, votes.X_train, y_train, votes.score_tree)
    else:
        growth = GrowInSteps(forest, votes.X_train, y_train, votes.score_tree, sizes)
    checkpoints = iter(sizes)
    next_checkpoint = next(checkpoints)
    stopped = False
    started = last_poll = time.perf_counter()

    def progress() -> RFProgress:
        return RFProgress(
            trees_built=votes.trees_seen,
            total_trees=hyperparameters.n_estimators,
            train_accuracy=votes.train_accuracy(),
            test_accuracy=votes.test_accuracy(),
            oob_score=votes.oob_score(),
            elapsed_ms=int((time.perf_counter() - started) * 1000),
        )

    for tree_votes in growth:
        at_checkpoint = False
        if tree_votes is not None:
            votes.add(tree_votes)
            if votes.trees_seen == next_checkpoint:
                at_checkpoint = True
                next_checkpoint = next(checkpoints, 0)
                yield progress()
        now = time.perf_counter()
        if (
            stopped
            or should_stop is None
            or not (at_checkpoint or now - last_poll >= HEARTBEAT_SECONDS)
        ):
            continue
        last_poll = now
        if should_stop():
            stopped = True
            growth.stop()

    if votes.trees_seen == 0:
        logger.info("Forest stopped before its first tree; no result")
        return
    if stopped and votes.trees_seen not in sizes:  # trees finished after the last checkpoint
        yield progress()
    logger.info("Forest %s with %d trees", "stopped" if stopped else "completed", votes.trees_seen)
    matrix = confusion_matrix(y_test, votes.test_predictions(), labels=range(len(class_names)))
    yield RFResult(
        model=forest,
        stopped=stopped,
        trees_built=votes.trees_seen,
        final_train_accuracy=votes.train_accuracy(),
        final_test_accuracy=votes.test_accuracy(),
        confusion_matrix=matrix.astype(int).tolist(),
        classes=list(class_names),
        feature_importances=[float(v) for v in forest.feature_importances_],
        feature_names=names,
    )
