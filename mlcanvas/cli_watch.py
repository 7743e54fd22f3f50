"""Live training progress in the terminal, from a job's messages (websocket or event log).

NN jobs advance per epoch with loss/accuracy columns, RF jobs per tree checkpoint with
accuracy. A line per step is printed too, so logs and non-terminal output keep the history.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)

from mlcanvas.client.job_messages import TERMINAL_TYPES


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[metrics]}"),
        TimeElapsedColumn(),
        console=console,
    )


def _epoch_metrics(message: dict[str, Any]) -> str:
    return (
        f"loss {_number(message.get('loss'))}  acc {_number(message.get('accuracy'))}  "
        f"[dim]train loss {_number(message.get('train_loss'))}  "
        f"acc {_number(message.get('train_accuracy'))}[/]"
    )


def _tree_metrics(message: dict[str, Any]) -> str:
    return (
        f"test acc {_number(message.get('test_accuracy'))}  "
        f"[dim]train acc {_number(message.get('train_accuracy'))}[/]"
    )


def _number(value: Any) -> str:
    return f"{value:.4f}" if isinstance(value, int | float) else "—"


def render_training(
    messages: Iterable[dict[str, Any]],
    *,
    kind: str,
    console: Console,
    total: int | None = None,
) -> dict[str, Any] | None:
    """Draw progress for each message; return the terminal message (`training_done`, `error`,
    `rf_done`, `rf_error`), or None when the stream ended without one (e.g. an RF job stopped
    before its first checkpoint)."""
    label = "epochs" if kind == "nn" else "trees"
    with _progress(console) as progress:
        task = progress.add_task(label, total=total, metrics="waiting for the first step")
        for message in messages:
            kind_of = message.get("type")
            if kind_of == "epoch_update":
                epoch = int(message.get("epoch") or 0)
                metrics = _epoch_metrics(message)
                progress.update(task, completed=epoch, metrics=metrics)
                progress.console.print(f"epoch {epoch}{_of(total)}  {metrics}")
            elif kind_of == "rf_progress":
                built, trees = message.get("trees_built"), message.get("total_trees")
                metrics = _tree_metrics(message)
                progress.update(task, completed=built, total=trees, metrics=metrics)
                progress.console.print(f"trees {built}{_of(trees)}  {metrics}")
            elif kind_of == "training_backend":
                progress.update(task, metrics=f"training ({message.get('backend', 'local')})")
            elif kind_of in TERMINAL_TYPES:
                return message
    return None


def _of(total: Any) -> str:
    return f"/{total}" if isinstance(total, int) else ""
