from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from mlcanvas.training import evaluate, make_loss


def test_loss_is_the_mean_over_rows_whatever_the_eval_batch(make_model, tiny_split) -> None:
    model = make_model()
    x, y = tiny_split.x_test, tiny_split.y_test
    with torch.no_grad():
        logits = model(x)
    expected_loss = F.cross_entropy(logits, y).item()
    expected_accuracy = (logits.argmax(dim=1) == y).sum().item() / len(y)
    loss = make_loss("cross_entropy", 3)

    whole = evaluate(model, x, y, loss=loss, batch_size=1000)
    chunked = evaluate(model, x, y, loss=loss, batch_size=3)  # 3 + 3 + 3 + 1 rows

    assert whole == pytest.approx((expected_loss, expected_accuracy))
    assert chunked == pytest.approx(whole)


def test_runs_in_eval_mode_and_restores_the_mode(make_model, tiny_split) -> None:
    model = make_model(dropout=0.9)
    loss = make_loss("cross_entropy", 3)
    x, y = tiny_split.x_test, tiny_split.y_test

    first = evaluate(model, x, y, loss=loss, batch_size=4)
    second = evaluate(model, x, y, loss=loss, batch_size=4)

    assert first == second  # dropout off, so no randomness
    assert model.training
