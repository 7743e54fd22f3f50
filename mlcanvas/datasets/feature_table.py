"""A tabular dataset ready for scikit-learn: what the random-forest flow consumes."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class FeatureTable:
    """X float64 `[N, F]`; y int64 indices into `class_names`, which are sorted label strings."""

    dataset_id: str
    X: np.ndarray
    y: np.ndarray
    feature_names: tuple[str, ...]
    class_names: tuple[str, ...]

    @property
    def feature_count(self) -> int:
        return len(self.feature_names)

    @property
    def num_classes(self) -> int:
        return len(self.class_names)
