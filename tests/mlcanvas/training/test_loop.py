from __future__ import annotations

import sys

import pytest
import torch
import torch.nn.functional as F
import torch.utils.data

from mlcanvas.errors import InvalidInputError
from mlcanvas.graph.training_config import TrainingConfig
from mlcanvas.training import EpochEvent, evaluate, make_loss, train_model

CPU = torch.device("cpu")


def _train(model, data, **kwargs) -> list[EpochEvent]:
    knobs = {k: kwargs.pop(k) for k in list(kwargs) if k not in TrainingConfig.model_fields}
    config = TrainingConfig(**{"batch_size": 4, "epochs": 2, "seed": 3, **kwargs})
    return list(train_model(model, data, config, device=CPU, **knobs))


def _stop_after(batches: int):
    """A `should_stop` that lets `batches` batches run, and counts how often it was asked."""
    calls = []

    def should_stop() -> bool:
        calls.append(None)
        return len(calls) > batches

    should_stop.calls = calls  # type: ignore[attr-defined]
    return should_stop


def test_metrics_follow_the_contract_definitions(make_model, tiny_split) -> None:
    # A learning rate so small the weights cannot move, so each batch's loss is computable.
    model = make_model()
    events = _train(model, tiny_split, epochs=1, optimizer="sgd", learning_rate=1e-30, seed=5)
    with torch.no_grad():
        order = torch.randperm(42, generator=torch.Generator().manual_seed(5 + 1))
        batches = order.split(4)  # ten batches of 4 and one of 2
        batch_means = [
            F.cross_entropy(model(tiny_split.x_train[b]), tiny_split.y_train[b]) for b in batches
        ]
        train_correct = (model(tiny_split.x_train).argmax(1) == tiny_split.y_train).sum().item()
        test_logits = model(tiny_split.x_test)
    (event,) = events

    assert event.train_loss == pytest.approx(torch.stack(batch_means).mean().item(), rel=1e-6)
    assert event.train_accuracy == pytest.approx(train_correct / 42)
    assert event.test_loss == pytest.approx(F.cross_entropy(test_logits, tiny_split.y_test).item())
    test_correct = (test_logits.argmax(1) == tiny_split.y_test).sum().item()
    assert event.test_accuracy == pytest.approx(test_correct / 10)


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
@pytest.mark.parametrize("loss", ["cross_entropy", "mse"])
def test_training_learns_the_separable_classes(make_model, tiny_split, optimizer, loss) -> None:
    events = _train(
        make_model(), tiny_split, epochs=8, optimizer=optimizer, loss=loss, learning_rate=0.05
    )

    assert [e.epoch for e in events] == list(range(1, 9))
    assert events[-1].train_loss < events[0].train_loss
    assert events[-1].test_accuracy >= 0.9
    assert not any(e.stopped for e in events)


def test_each_epoch_reports_weight_summaries(make_model, tiny_split) -> None:
    events = _train(make_model(), tiny_split)
    no_weights = _train(make_model(), tiny_split, include_weights=False)

    assert set(events[0].weights) == {
        "layers.1.weight",
        "layers.1.bias",
        "layers.4.weight",
        "layers.4.bias",
    }
    assert events[0].weights != events[1].weights
    assert [e.weights for e in no_weights] == [None, None]


def test_same_seed_gives_identical_losses_and_weights(make_model, tiny_split) -> None:
    first_model, second_model = make_model(dropout=0.3), make_model(dropout=0.3)
    first = _train(first_model, tiny_split, epochs=3)
    second = _train(second_model, tiny_split, epochs=3)
    other_seed = _train(make_model(dropout=0.3), tiny_split, epochs=3, seed=4)

    assert [(e.train_loss, e.test_loss) for e in first] == [
        (e.train_loss, e.test_loss) for e in second
    ]
    for a, b in zip(first_model.parameters(), second_model.parameters(), strict=True):
        assert torch.equal(a, b)
    assert [e.train_loss for e in other_seed] != [e.train_loss for e in first]


def test_stop_mid_epoch_yields_a_partial_stopped_event_and_keeps_trained_weights(
    make_model, tiny_split
) -> None:
    model = make_model()
    before = [p.detach().clone() for p in model.parameters()]
    should_stop = _stop_after(3)

    events = _train(model, tiny_split, epochs=5, should_stop=should_stop)

    (event,) = events
    assert event.epoch == 1 and event.stopped
    assert len(should_stop.calls) == 4  # asked before each of the 3 batches, then stopped
    assert event.train_accuracy * 12 == pytest.approx(round(event.train_accuracy * 12))
    assert event.test_loss > 0  # the partial epoch is evaluated
    assert any(not torch.equal(b, p) for b, p in zip(before, model.parameters(), strict=True))


def test_stop_in_a_later_epoch_keeps_the_earlier_events(make_model, tiny_split) -> None:
    events = _train(make_model(), tiny_split, epochs=5, should_stop=_stop_after(11 + 2))

    assert [(e.epoch, e.stopped) for e in events] == [(1, False), (2, True)]


def test_stop_before_an_epoch_starts_yields_nothing_more(make_model, tiny_split) -> None:
    model = make_model()
    before = [p.detach().clone() for p in model.parameters()]

    events = _train(model, tiny_split, should_stop=lambda: True)

    assert events == []
    assert all(torch.equal(b, p) for b, p in zip(before, model.parameters(), strict=True))


def test_eval_every_repeats_the_previous_test_metrics(make_model, tiny_split) -> None:
    events = _train(make_model(), tiny_split, epochs=5, eval_every=3)

    tests = [(e.test_loss, e.test_accuracy) for e in events]
    assert tests[0] == tests[1] == (0.0, 0.0)
    assert tests[3] == tests[2] != (0.0, 0.0)
    assert tests[4] != tests[3]  # the last epoch is always evaluated


def test_batch_caps_and_multiplier(make_model, tiny_split) -> None:
    model = make_model()
    capped = _stop_after(10**6)
    events = _train(
        model, tiny_split, epochs=1, should_stop=capped, max_train_batches=2, max_test_batches=1
    )
    multiplied = _stop_after(10**6)
    _train(make_model(), tiny_split, epochs=1, should_stop=multiplied, batch_size_multiplier=2)
    x, y = tiny_split.x_test[:4], tiny_split.y_test[:4]

    assert len(capped.calls) == 2
    assert events[0].train_accuracy * 8 == pytest.approx(round(events[0].train_accuracy * 8))
    assert (events[0].test_loss, events[0].test_accuracy) == pytest.approx(
        evaluate(model, x, y, loss=make_loss("cross_entropy", 3), batch_size=4)
    )
    assert len(multiplied.calls) == 6  # 42 rows in batches of 8


@pytest.mark.parametrize(
    ("knob", "value"),
    [
        ("eval_every", 0),
        ("max_train_batches", -1),
        ("max_test_batches", -1),
        ("batch_size_multiplier", 0),
    ],
)
def test_bad_knobs_are_invalid_input_naming_the_knob(make_model, tiny_split, knob, value) -> None:
    with pytest.raises(InvalidInputError) as caught:
        _train(make_model(), tiny_split, **{knob: value})

    assert caught.value.extra["field"] == knob


def test_no_dataloader_and_no_per_batch_sync(make_model, tiny_split, monkeypatch) -> None:
    def refuse(*args, **kwargs):
        raise AssertionError("the loop must batch by indexing, not through a DataLoader")

    reads = []
    for name in ("item", "tolist"):
        original = getattr(torch.Tensor, name)

        def counted(self, _original=original):
            if sys._getframe(1).f_globals["__name__"].startswith("mlcanvas."):
                reads.append(self.shape)  # ours; torch's own (e.g. Adam's CPU step count) aside
            return _original(self)

        monkeypatch.setattr(torch.Tensor, name, counted)
    monkeypatch.setattr(torch.utils.data.DataLoader, "__init__", refuse)

    events = _train(make_model(), tiny_split, epochs=3, batch_size=2)  # 21 batches an epoch

    assert len(events) == 3
    assert len(reads) == 3 * 2  # per epoch: one read of the metrics, one of the weights
