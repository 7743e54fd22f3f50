from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from mlcanvas.errors import GraphValidationError
from mlcanvas.training import make_loss, make_optimizer


def test_cross_entropy_is_the_mean_negative_log_softmax_of_the_true_class() -> None:
    logits = torch.tensor([[2.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    labels = torch.tensor([0, 1])
    row0 = -math.log(math.exp(2) / (math.exp(2) + 2))
    row1 = -math.log(1 / (2 + math.exp(1)))

    loss = make_loss("cross_entropy", 3)(logits, labels)

    assert loss.item() == pytest.approx((row0 + row1) / 2, rel=1e-6)


def test_mse_compares_logits_with_one_hot_targets() -> None:
    logits = torch.tensor([[1.0, 0.0, 0.5], [0.0, 2.0, 0.0]])
    labels = torch.tensor([0, 2])
    # Row 0 vs [1,0,0]: 0 + 0 + 0.25; row 1 vs [0,0,1]: 0 + 4 + 1; mean over 6 entries.
    expected = (0.25 + 4 + 1) / 6

    loss = make_loss("mse", 3)(logits, labels)

    assert loss.item() == pytest.approx(expected)


def test_sgd_is_plain_gradient_descent() -> None:
    weight = nn.Parameter(torch.tensor([1.0, -2.0]))
    optimizer = make_optimizer("sgd", [weight], 0.1)

    (weight**2).sum().backward()  # gradient 2w
    optimizer.step()

    assert weight.detach().tolist() == pytest.approx([0.8, -1.6])
    assert optimizer.param_groups[0]["momentum"] == 0


def test_adam_first_step_moves_each_weight_by_about_the_learning_rate() -> None:
    weight = nn.Parameter(torch.tensor([1.0, -2.0]))
    optimizer = make_optimizer("adam", [weight], 0.01)

    (weight**2).sum().backward()
    optimizer.step()

    assert isinstance(optimizer, torch.optim.Adam)
    assert weight.detach().tolist() == pytest.approx([0.99, -1.99], abs=1e-6)


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (
            lambda: make_optimizer("rmsprop", [nn.Parameter(torch.zeros(1))], 0.1),
            "training.optimizer",
        ),
        (lambda: make_loss("hinge", 3), "training.loss"),
    ],
)
def test_unknown_names_are_graph_errors_naming_the_field(call, field: str) -> None:
    with pytest.raises(GraphValidationError) as caught:
        call()

    assert caught.value.errors[0].field == field
