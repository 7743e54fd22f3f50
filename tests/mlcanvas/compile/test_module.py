from __future__ import annotations

import pytest
import torch
from torch import nn

from mlcanvas.compile.module import GeneratedModel, build_module
from mlcanvas.graph.layers import LayerSpec


def test_mnist_plan_keys_follow_the_flat_module_index(mnist_layers: list[LayerSpec]) -> None:
    model = build_module(mnist_layers)

    assert isinstance(model, GeneratedModel)
    assert list(model.state_dict()) == [
        "layers.1.weight",
        "layers.1.bias",
        "layers.3.weight",
        "layers.3.bias",
    ]
    assert [type(m) for m in model.layers] == [nn.Flatten, nn.Linear, nn.ReLU, nn.Linear]


def test_mnist_plan_maps_a_batch_of_images_to_logits(mnist_layers: list[LayerSpec]) -> None:
    model = build_module(mnist_layers)

    assert model(torch.zeros(4, 1, 28, 28)).shape == (4, 10)
    assert model(torch.zeros(1, 1, 28, 28)).shape == (1, 10)  # Flatten keeps the batch dim


def test_each_module_is_registered_once(mixed_layers: list[LayerSpec]) -> None:
    model = build_module(mixed_layers)

    all_names = [name for name, _ in model.named_modules(remove_duplicate=False)]
    assert len(all_names) == len(set(all_names)) == len(list(model.modules()))
    assert all(key.startswith("layers.") for key in model.state_dict())


def test_activations_dropout_and_none_take_the_contract_indices(
    mixed_layers: list[LayerSpec],
) -> None:
    layers = build_module(mixed_layers).layers

    assert [type(m) for m in layers] == [
        nn.Flatten,
        nn.Linear,  # d_none: no activation module
        nn.Linear,
        nn.LeakyReLU,
        nn.Dropout,
        nn.Linear,
        nn.Sigmoid,
        nn.Linear,
        nn.Tanh,
        nn.Linear,
        nn.GELU,
        nn.Linear,
        nn.Softmax,
    ]
    assert layers[0].start_dim == 1
    assert layers[3].negative_slope == 0.01
    assert layers[4].p == 0.25
    assert layers[12].dim == 1
    assert (layers[1].in_features, layers[1].out_features) == (64, 32)
    assert (layers[11].in_features, layers[11].out_features) == (12, 10)


def test_softmax_output_gives_probabilities_per_row(mixed_layers: list[LayerSpec]) -> None:
    model = build_module(mixed_layers).eval()

    out = model(torch.rand(3, 1, 8, 8))

    assert out.shape == (3, 10)
    torch.testing.assert_close(out.sum(dim=1), torch.ones(3))


def test_a_fixed_seed_gives_identical_weights(mnist_layers: list[LayerSpec]) -> None:
    torch.manual_seed(7)
    first = build_module(mnist_layers).state_dict()
    torch.manual_seed(7)
    second = build_module(mnist_layers).state_dict()

    assert all(torch.equal(first[key], second[key]) for key in first)


def test_dense_without_rank_one_input_is_a_bug_not_a_module() -> None:
    bad = [LayerSpec("d", "Dense", (1, 8, 8), (4,), units=4, activation="relu")]

    with pytest.raises(ValueError, match="rank-1"):
        build_module(bad)
