"""The RF `model.py` (contract §8): a standalone, byte-deterministic wrapper around the forest.

It imports only numpy, scikit-learn and joblib, so the export runs anywhere those are
installed; `load` reads the `model.pkl` dict our artifact writer produces.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from mlcanvas.rf.hyperparameters import RFHyperparameters

_TEMPLATE = '''\
"""Random forest exported by MLCanvas{dataset_note}.

Usage:
    model = GeneratedRandomForestModel.load("model.pkl")
    model.predict([[...{feature_count} feature values...]])

`load` unpickles with joblib: only load files you trust.
"""

from __future__ import annotations

from typing import Any

import joblib
import numpy as np
from sklearn.ensemble import RandomForestClassifier

DATASET = {dataset}
FEATURE_NAMES = {feature_names}
CLASS_NAMES = {class_names}
EXPECTED_FEATURE_COUNT = {feature_count}
HYPERPARAMETER_NAMES = (
{hyperparameter_names}
)


class GeneratedRandomForestModel:
    """RandomForestClassifier with the canvas hyperparameters and a feature-count check."""

    def __init__(self, model: RandomForestClassifier | None = None) -> None:
        self.model = model if model is not None else self.build_estimator()
        self.feature_names = list(FEATURE_NAMES)
        self.class_names = list(CLASS_NAMES)

    @staticmethod
    def build_estimator() -> RandomForestClassifier:
        return RandomForestClassifier(
{hyperparameters}
        )

    def _features(self, X: Any) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        if X.ndim == 1:
            X = X.reshape(1, -1)
        if X.ndim != 2 or X.shape[1] != EXPECTED_FEATURE_COUNT:
            raise ValueError(
                f"Input feature count mismatch: expected {{EXPECTED_FEATURE_COUNT}} features, "
                f"got shape {{list(X.shape)}}"
            )
        return X

    def fit(self, X: Any, y: Any) -> GeneratedRandomForestModel:
        self.model.fit(self._features(X), np.asarray(y))
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Class indices into CLASS_NAMES."""
        return self.model.predict(self._features(X))

    def predict_labels(self, X: Any) -> list[str]:
        return [self.class_names[int(index)] for index in self.predict(X)]

    def predict_proba(self, X: Any) -> np.ndarray:
        """One column per class the forest saw in training (see `self.model.classes_`)."""
        return self.model.predict_proba(self._features(X))

    def save(self, path: str) -> None:
        joblib.dump(
            {{
                "model": self.model,
                "dataset": DATASET,
                "feature_names": self.feature_names,
                "class_names": self.class_names,
                "expected_feature_count": EXPECTED_FEATURE_COUNT,
                "hyperparameters": {{
                    name: self.model.get_params()[name] for name in HYPERPARAMETER_NAMES
                }},
            }},
            path,
        )

    @classmethod
    def load(cls, path: str) -> GeneratedRandomForestModel:
        """Read a `model.pkl` dict (or a bare fitted forest)."""
        data = joblib.load(path)
        model = data["model"] if isinstance(data, dict) else data
        if not isinstance(model, RandomForestClassifier):
            raise TypeError(f"{{path}} holds {{type(model).__name__}}, not a random forest")
        if model.n_features_in_ != EXPECTED_FEATURE_COUNT:
            raise ValueError(
                f"{{path}} was fitted on {{model.n_features_in_}} features, "
                f"expected {{EXPECTED_FEATURE_COUNT}}"
            )
        instance = cls(model=model)
        if isinstance(data, dict):
            instance.feature_names = list(data.get("feature_names", FEATURE_NAMES))
            instance.class_names = list(data.get("class_names", CLASS_NAMES))
        return instance
'''


def _literal(value: Any) -> str:
    """A Python literal in ruff-format style: strings double-quoted (JSON escapes are valid)."""
    return json.dumps(value) if isinstance(value, str) else repr(value)


def _render_list(values: Sequence[str]) -> str:
    """One item per line, so long feature lists stay readable and diffs stay small."""
    if not values:
        return "[]"
    items = "".join(f"    {_literal(str(value))},\n" for value in values)
    return f"[\n{items}]"


def generate_rf_source(
    hyperparameters: RFHyperparameters,
    *,
    feature_names: Sequence[str],
    class_names: Sequence[str],
    dataset: str | None = None,
) -> str:
    """`model.py` text: same inputs, same bytes (no timestamps, fixed hyperparameter order)."""
    kwargs = hyperparameters.to_sklearn_kwargs()
    arguments = "".join(f"            {key}={_literal(value)},\n" for key, value in kwargs.items())
    names = "".join(f"    {_literal(key)},\n" for key in kwargs)
    return _TEMPLATE.format(
        dataset_note=f" (dataset: {dataset})" if dataset else "",
        dataset=_literal(dataset),
        feature_names=_render_list(feature_names),
        class_names=_render_list(class_names),
        feature_count=len(feature_names),
        hyperparameter_names=names.rstrip("\n"),
        hyperparameters=arguments.rstrip("\n"),
    )
