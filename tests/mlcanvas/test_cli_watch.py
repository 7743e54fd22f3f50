"""Progress rendering from job messages, as the websocket or the event log delivers them."""

from __future__ import annotations

import io

from rich.console import Console

from mlcanvas.cli_watch import render_training


def _console() -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, width=160, color_system=None), out


def _epoch(epoch: int, loss: float) -> dict:
    return {
        "type": "epoch_update",
        "epoch": epoch,
        "loss": loss,
        "accuracy": 0.5 + epoch / 10,
        "train_loss": loss,
        "train_accuracy": 0.6,
        "test_loss": loss,
        "test_accuracy": 0.5 + epoch / 10,
        "weights": None,
    }


def test_nn_stream_returns_training_done_and_prints_each_epoch() -> None:
    console, out = _console()
    done = {"type": "training_done", "final_loss": 0.2, "final_accuracy": 0.9, "model_path": None}
    messages = [
        {"type": "ws_connected", "job_id": "a" * 32, "status": "queued"},
        {"type": "training_backend", "backend": "local"},
        _epoch(1, 0.9),
        _epoch(2, 0.4),
        done,
        _epoch(3, 0.1),  # never read: the stream ends at the terminal message
    ]

    terminal = render_training(iter(messages), kind="nn", console=console, total=2)

    assert terminal == done
    text = out.getvalue()
    assert "epoch 1/2" in text
    assert "epoch 2/2" in text
    assert "loss 0.4000" in text
    assert "epoch 3" not in text


def test_rf_stream_follows_tree_checkpoints() -> None:
    console, out = _console()
    progress = {
        "type": "rf_progress",
        "stage": "training",
        "trees_built": 10,
        "total_trees": 30,
        "train_accuracy": 1.0,
        "test_accuracy": 0.9667,
        "oob_score": None,
        "elapsed_ms": 12,
    }
    failed = {"type": "rf_error", "message": "boom"}

    terminal = render_training(iter([progress, failed]), kind="rf", console=console)

    assert terminal == failed
    assert "trees 10/30" in out.getvalue()
    assert "test acc 0.9667" in out.getvalue()


def test_stream_without_terminal_message_returns_none() -> None:
    console, _out = _console()

    assert render_training(iter([_epoch(1, 0.5)]), kind="nn", console=console) is None
