"""NN training block: normalisation, aliases, and every bad key reported with its field."""

from __future__ import annotations

from typing import Any

import pytest

from mlcanvas.errors import GraphValidationError
from mlcanvas.graph import TrainingConfig, TrainingSpec, normalise_loss, resolve_training


def _resolve(raw: dict[str, Any]) -> TrainingConfig:
    return resolve_training(TrainingSpec.model_validate(raw))


def _errors(raw: dict[str, Any]) -> dict[str, dict[str, Any]]:
    with pytest.raises(GraphValidationError) as caught:
        _resolve(raw)
    return {error["field"]: error for error in caught.value.extra["errors"]}


def test_no_training_block_gives_the_defaults() -> None:
    assert resolve_training(None) == TrainingConfig()


def test_aliases_case_and_spacing_are_normalised() -> None:
    config = _resolve(
        {
            "dataset": "  Digits ",
            "epochs": 3.0,
            "batchSize": 16,
            "optimizer": " SGD",
            "learningRate": 1,
            "loss": "Mean-Squared Error",
        }
    )
    assert config == TrainingConfig(
        dataset="digits",
        epochs=3,
        batch_size=16,
        optimizer="sgd",
        learning_rate=1.0,
        loss="mse",
    )
    assert isinstance(config.epochs, int)


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("cross_entropy", "cross_entropy"),
        ("CrossEntropy", "cross_entropy"),
        ("cross-entropy", "cross_entropy"),
        ("CE", "cross_entropy"),
        ("mse", "mse"),
        ("MSE_loss", "mse"),
        ("mean squared error", "mse"),
        ("hinge", None),
        (3, None),
    ],
)
def test_loss_aliases(raw: Any, canonical: str | None) -> None:
    assert normalise_loss(raw) == canonical


def test_every_bad_key_is_reported_at_once_with_field_expected_and_got() -> None:
    errors = _errors(
        {
            "dataset": "",
            "epochs": 0,
            "batch_size": 2.5,
            "optimizer": "rmsprop",
            "learning_rate": -1,
            "loss": "hinge",
        }
    )
    assert list(errors) == [
        "training.dataset",
        "training.epochs",
        "training.batch_size",
        "training.optimizer",
        "training.learning_rate",
        "training.loss",
    ]
    assert errors["training.epochs"] == {
        "message": "training.epochs must be an integer in [1, 10000]",
        "node_id": None,
        "field": "training.epochs",
        "expected": "int in [1, 10000]",
        "got": 0,
    }
    assert errors["training.batch_size"]["got"] == 2.5
    assert errors["training.optimizer"]["expected"] == ["adam", "sgd"]
    assert "cross_entropy" in errors["training.loss"]["expected"]
    assert errors["training.learning_rate"]["expected"] == "number in (0, 10]"


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("epochs", True),
        ("epochs", "5"),
        ("epochs", None),
        ("epochs", 10_001),
        ("batch_size", False),
        ("batch_size", 10**7),
        ("learning_rate", True),
        ("learning_rate", 0),
        ("learning_rate", 1e6),
        ("learning_rate", float("nan")),
        ("learning_rate", "0.1"),
        ("optimizer", None),
        ("dataset", 5),
        ("loss", ""),
    ],
)
def test_booleans_strings_and_absurd_values_are_rejected(key: str, value: Any) -> None:
    errors = _errors({key: value})
    assert list(errors) == [f"training.{key}"]


def test_first_error_message_is_the_exception_message() -> None:
    with pytest.raises(GraphValidationError) as caught:
        _resolve({"optimizer": "adamw"})
    assert caught.value.message == "training.optimizer must be one of adam, sgd"
    assert caught.value.errors[0].got == "adamw"
