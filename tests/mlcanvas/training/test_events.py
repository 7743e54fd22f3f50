from __future__ import annotations

import dataclasses

import pytest

from mlcanvas.training import EpochEvent


def test_message_is_the_contract_epoch_update_with_test_values_as_loss() -> None:
    weights = {"layers.1.weight": {"mean": 0.0, "std": 1.0, "min": -1.0, "max": 1.0}}
    event = EpochEvent(
        epoch=3,
        train_loss=0.5,
        train_accuracy=0.8,
        test_loss=0.6,
        test_accuracy=0.75,
        weights=weights,
        stopped=False,
        seconds=1.5,
    )

    assert event.to_message() == {
        "type": "epoch_update",
        "epoch": 3,
        "loss": 0.6,
        "accuracy": 0.75,
        "train_loss": 0.5,
        "train_accuracy": 0.8,
        "test_loss": 0.6,
        "test_accuracy": 0.75,
        "weights": weights,
    }


def test_event_is_frozen() -> None:
    event = EpochEvent(1, 0.1, 0.2, 0.3, 0.4, None, True, 0.0)

    with pytest.raises(dataclasses.FrozenInstanceError):
        event.epoch = 2  # type: ignore[misc]
    assert event.to_message()["weights"] is None
