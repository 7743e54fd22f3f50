"""RF training block: defaults, aliases, and every bad key reported with its field."""

from __future__ import annotations

from typing import Any

import pytest

from mlcanvas.errors import GraphValidationError
from mlcanvas.graph import RFTrainingConfig, RFTrainingSpec, resolve_rf_training


def _errors(raw: dict[str, Any]) -> dict[str, dict[str, Any]]:
    with pytest.raises(GraphValidationError) as caught:
        resolve_rf_training(RFTrainingSpec.model_validate(raw))
    return {error["field"]: error for error in caught.value.extra["errors"]}


def test_defaults() -> None:
    assert resolve_rf_training(None) == RFTrainingConfig(
        dataset="iris", test_size=0.2, random_state=42, stratify=True, log_every_trees=10
    )


def test_camel_case_keys_and_dataset_case_are_normalised() -> None:
    spec = RFTrainingSpec.model_validate(
        {
            "dataset": " Breast_Cancer ",
            "testSize": 0.3,
            "randomState": 7.0,
            "stratify": False,
            "logEveryTrees": 5,
        }
    )
    assert resolve_rf_training(spec) == RFTrainingConfig(
        dataset="breast_cancer", test_size=0.3, random_state=7, stratify=False, log_every_trees=5
    )


def test_every_bad_key_is_reported_at_once() -> None:
    errors = _errors(
        {
            "dataset": "  ",
            "test_size": 1,
            "random_state": -1,
            "stratify": "yes",
            "log_every_trees": 0,
        }
    )
    assert list(errors) == [
        "training.dataset",
        "training.test_size",
        "training.random_state",
        "training.stratify",
        "training.log_every_trees",
    ]
    assert (
        errors["training.test_size"]["message"] == "training.test_size must be a number in (0, 1)"
    )
    assert errors["training.test_size"]["expected"] == "number in (0, 1)"
    assert errors["training.stratify"]["got"] == "yes"


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("test_size", 0),
        ("test_size", True),
        ("random_state", True),
        ("random_state", 1.5),
        ("random_state", 2**32),
        ("random_state", None),
        ("stratify", 1),
        ("log_every_trees", 2.5),
        ("log_every_trees", 10**9),
    ],
)
def test_bad_values_name_their_key(key: str, value: Any) -> None:
    assert list(_errors({key: value})) == [f"training.{key}"]
