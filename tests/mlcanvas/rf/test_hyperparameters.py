from __future__ import annotations

from typing import Any

import pytest

from mlcanvas.errors import GraphValidationError
from mlcanvas.rf import RFHyperparameters, check_hyperparameters, resolve_hyperparameters

NODE = "forest_1"


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("n_estimators", 0),
        ("n_estimators", -3),
        ("n_estimators", True),
        ("n_estimators", 10.5),
        ("n_estimators", "100"),
        ("n_estimators", None),
        ("n_estimators", 5001),
        ("max_depth", 0),
        ("max_depth", 1001),
        ("max_depth", False),
        ("max_depth", 2.5),
        ("criterion", "mse"),
        ("criterion", 3),
        ("max_features", "auto"),
        ("max_features", 0),
        ("max_features", 5),
        ("max_features", 0.0),
        ("max_features", 1.5),
        ("max_features", True),
        ("max_features", [1]),
        ("min_samples_split", 1),
        ("min_samples_split", 2.5),
        ("min_samples_split", True),
        ("min_samples_leaf", 0),
        ("min_samples_leaf", None),
        ("bootstrap", 1),
        ("bootstrap", "true"),
        ("bootstrap", None),
        ("random_state", -1),
        ("random_state", 2**32),
        ("random_state", True),
        ("random_state", 1.5),
    ],
)
def test_each_bad_value_names_node_and_field(key: str, value: Any) -> None:
    errors = check_hyperparameters(NODE, {key: value}, 4)
    assert len(errors) == 1
    error = errors[0]
    assert error.node_id == NODE
    assert error.field == f"config.{key}"
    assert error.message.startswith(f"RandomForestClassifier.{key} ")
    assert error.got == value
    assert error.expected is not None


def test_absurd_forest_size_states_the_limit() -> None:
    [error] = check_hyperparameters(NODE, {"n_estimators": 10**7}, 4)
    assert "5000" in error.message


def test_every_problem_is_reported_at_once() -> None:
    config = {"n_estimators": 0, "criterion": "x", "bootstrap": "no", "max_depth": -1}
    errors = check_hyperparameters(NODE, config, None)
    assert [e.field for e in errors] == [
        "config.n_estimators",
        "config.max_depth",
        "config.criterion",
        "config.bootstrap",
    ]


def test_feature_count_bounds_integer_max_features_only_when_known() -> None:
    assert check_hyperparameters(NODE, {"max_features": 4}, 4) == []
    assert check_hyperparameters(NODE, {"max_features": 50}, None) == []
    [error] = check_hyperparameters(NODE, {"max_features": 50}, 4)
    assert "[1, 4]" in error.message


def test_valid_config_and_unknown_keys_give_no_errors() -> None:
    config = {
        "n_estimators": 12,
        "max_depth": None,
        "criterion": "Log_Loss",
        "max_features": None,
        "min_samples_split": 2,
        "min_samples_leaf": 1,
        "bootstrap": False,
        "random_state": None,
        "name": "forest",
        "colour": [1, 2],
    }
    assert check_hyperparameters(NODE, config, 4) == []


def test_config_that_is_not_an_object_is_one_error() -> None:
    [error] = check_hyperparameters(NODE, ["n_estimators"], 4)  # type: ignore[arg-type]
    assert error.field == "config"


def test_resolve_fills_defaults_and_normalises() -> None:
    resolved = resolve_hyperparameters(
        NODE,
        {"n_estimators": 12.0, "criterion": " ENTROPY ", "max_features": "LOG2", "x": 1},
        feature_count=4,
        default_random_state=42,
    )
    assert resolved == RFHyperparameters(
        n_estimators=12, criterion="entropy", max_features="log2", random_state=42
    )
    assert list(resolved.to_sklearn_kwargs()) == [
        "n_estimators",
        "max_depth",
        "criterion",
        "max_features",
        "min_samples_split",
        "min_samples_leaf",
        "bootstrap",
        "random_state",
    ]


def test_resolve_keeps_int_and_float_max_features_apart() -> None:
    as_count = resolve_hyperparameters(
        NODE, {"max_features": 1}, feature_count=4, default_random_state=0
    )
    as_fraction = resolve_hyperparameters(
        NODE, {"max_features": 1.0}, feature_count=4, default_random_state=0
    )
    assert type(as_count.max_features) is int
    assert type(as_fraction.max_features) is float


def test_null_random_state_uses_the_training_seed_and_an_explicit_one_wins() -> None:
    kwargs: dict[str, Any] = {"feature_count": 4, "default_random_state": 99}
    assert resolve_hyperparameters(NODE, {"random_state": None}, **kwargs).random_state == 99
    assert resolve_hyperparameters(NODE, {"random_state": 3}, **kwargs).random_state == 3


def test_resolve_raises_with_every_error() -> None:
    with pytest.raises(GraphValidationError) as caught:
        resolve_hyperparameters(
            NODE,
            {"n_estimators": True, "min_samples_leaf": 0},
            feature_count=4,
            default_random_state=0,
        )
    fields = [error["field"] for error in caught.value.to_detail()["errors"]]
    assert fields == ["config.n_estimators", "config.min_samples_leaf"]
    assert (
        caught.value.message
        == "RandomForestClassifier.n_estimators must be an integer in [1, 5000]"
    )


def test_bad_training_seed_is_a_training_field_error() -> None:
    with pytest.raises(GraphValidationError) as caught:
        resolve_hyperparameters(NODE, {}, feature_count=4, default_random_state=-5)
    assert caught.value.errors[0].field == "training.random_state"
