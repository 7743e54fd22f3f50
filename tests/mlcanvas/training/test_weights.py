from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from torch import nn

from mlcanvas.training import summarize_weights


def test_keys_are_state_dict_names(make_model) -> None:
    summary = summarize_weights(make_model())

    assert list(summary) == ["layers.1.weight", "layers.1.bias", "layers.4.weight", "layers.4.bias"]


def test_statistics_match_numpy_with_population_std(make_model) -> None:
    model = make_model(hidden=16)
    values = model.layers[1].weight.detach().double().numpy().ravel()

    stats = summarize_weights(model)["layers.1.weight"]

    assert stats["mean"] == pytest.approx(values.mean())
    assert stats["std"] == pytest.approx(values.std())  # numpy's default is the population std
    assert stats["min"] == pytest.approx(values.min())
    assert stats["max"] == pytest.approx(values.max())
    expected_counts, _ = np.histogram(values, bins=20, range=(values.min(), values.max()))
    assert stats["histogram"] == expected_counts.tolist()
    assert sum(stats["histogram"]) == values.size


def test_constant_parameter_puts_everything_in_bin_zero() -> None:
    layer = nn.Linear(3, 2)
    nn.init.constant_(layer.weight, 0.5)

    stats = summarize_weights(layer)["weight"]

    assert stats["histogram"] == [6] + [0] * 19
    assert (stats["min"], stats["max"], stats["std"]) == (0.5, 0.5, 0.0)


def test_output_is_plain_json(make_model) -> None:
    summary = summarize_weights(make_model())

    stats = summary["layers.4.bias"]
    assert all(type(stats[key]) is float for key in ("mean", "std", "min", "max"))
    assert all(type(count) is int for count in stats["histogram"])
    assert json.loads(json.dumps(summary)) == summary


def test_model_without_parameters_has_an_empty_summary() -> None:
    assert summarize_weights(nn.ReLU()) == {}


def test_diverged_weights_still_summarise_with_every_value_counted() -> None:
    layer = nn.Linear(2, 2)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([[float("nan"), 1.0], [float("inf"), -2.0]]))

    stats = summarize_weights(layer)["weight"]

    assert sum(stats["histogram"]) == 4
