"""Two ways to grow a forest tree by tree while someone watches, both giving the trees a single
`fit` with the same seed gives.

`GrowInOneFit` (several workers): one ordinary `fit` on a thread, with joblib's thread backend
extended so each worker scores the trees it just built. No checkpoint ever waits for the slowest
tree of a batch, so progress costs only the scoring (see `bench/rf.py`).

`GrowInSteps` (one worker, where joblib runs `fit` inline and no backend is involved):
`warm_start` refits to step, 2·step, …, n trees and scores the new ones after each step.

Both yield `TreeVotes` one tree at a time; `stop()` ends growth early, keeping every tree already
built. A stopped forest holds exactly those trees.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
from joblib import parallel_config
from joblib.parallel import ThreadingBackend
from sklearn.ensemble import RandomForestClassifier
from sklearn.tree import DecisionTreeClassifier

from mlcanvas.rf.running_votes import TreeVotes

ScoreTree = Callable[[DecisionTreeClassifier], TreeVotes]

HEARTBEAT_SECONDS = 0.1
"""How long `GrowInOneFit` waits for a tree before yielding None, so its caller can poll a stop."""


class _ScoringThreads(ThreadingBackend):
    """joblib's thread backend; each batch of trees is scored on the worker that built it, and
    batches that start after a stop build nothing (their slots come back as None)."""

    def __init__(self, on_tree: Callable[[DecisionTreeClassifier], None], halt: threading.Event):
        super().__init__()
        self._on_tree = on_tree
        self._halt = halt

    def submit(self, func: Any, callback: Any = None) -> Any:
        def build_and_score() -> list[DecisionTreeClassifier | None]:
            if self._halt.is_set():
                return [None] * len(func)
            trees = func()
            for tree in trees:
                self._on_tree(tree)
            return trees

        return super().submit(build_and_score, callback)


class GrowInOneFit:
    """One `fit` on a background thread, trees scored by joblib's workers as they finish."""

    def __init__(
        self, forest: RandomForestClassifier, X: np.ndarray, y: np.ndarray, score: ScoreTree
    ) -> None:
        self._forest, self._X, self._y, self._score = forest, X, y, score
        self._halt = threading.Event()
        self._scored: queue.SimpleQueue[TreeVotes | BaseException | None] = queue.SimpleQueue()

    def stop(self) -> None:
        self._halt.set()

    def __iter__(self) -> Iterator[TreeVotes | None]:
        """Scored trees as they finish; None after each quiet `HEARTBEAT_SECONDS`."""
        fitter = threading.Thread(target=self._fit, name="forest-fit", daemon=True)
        fitter.start()
        try:
            while True:
                try:
                    item = self._scored.get(timeout=HEARTBEAT_SECONDS)
                except queue.Empty:
                    yield None
                    continue
                if item is None:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            self._halt.set()
            fitter.join()

    def _fit(self) -> None:
        backend = _ScoringThreads(lambda tree: self._scored.put(self._score(tree)), self._halt)
        try:
            with parallel_config(backend=backend):
                self._forest.fit(self._X, self._y)
            built = [tree for tree in self._forest.estimators_ if tree is not None]
            self._forest.estimators_ = built
            self._forest.set_params(n_estimators=len(built))
            self._scored.put(None)
        except BaseException as exc:  # handed to the consumer, raised there
            self._scored.put(exc)


class GrowInSteps:
    """`warm_start` refits to each size in turn, scoring the new trees after each."""

    def __init__(
        self,
        forest: RandomForestClassifier,
        X: np.ndarray,
        y: np.ndarray,
        score: ScoreTree,
        sizes: Sequence[int],
    ) -> None:
        self._forest, self._X, self._y, self._score = forest, X, y, score
        self._sizes = sizes
        self._halted = False

    def stop(self) -> None:
        self._halted = True

    def __iter__(self) -> Iterator[TreeVotes]:
        self._forest.set_params(warm_start=True)
        try:
            for size in self._sizes:
                if self._halted:
                    return
                seen = len(getattr(self._forest, "estimators_", ()))
                self._forest.set_params(n_estimators=size)
                self._forest.fit(self._X, self._y)
                for tree in self._forest.estimators_[seen:]:
                    yield self._score(tree)
        finally:
            self._forest.set_params(
                warm_start=False, n_estimators=len(getattr(self._forest, "estimators_", ()))
            )
