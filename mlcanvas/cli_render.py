"""Rich tables for the CLI: a graph's layers, its errors, recent jobs, a job's final metrics.

Errors are shown the way the canvas client shows them (contract §1): node, field, message, and
expected/got as JSON cut at 180 characters.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from rich.table import Table

from mlcanvas.errors import ErrorDetail

if TYPE_CHECKING:  # importing mlcanvas.graph costs seconds; only `validate` needs it
    from mlcanvas.graph.report import ValidationReport

JSON_CUT = 180
REPEATED_METRICS = frozenset({"final_loss", "final_accuracy"})
NONE = "—"


def short_json(value: Any) -> str:
    """A value as compact JSON, cut like the canvas client cuts it."""
    if value is None:
        return NONE
    text = json.dumps(value, default=str) if not isinstance(value, str) else value
    return text if len(text) <= JSON_CUT else f"{text[: JSON_CUT - 1]}…"


def _shape(shape: list[int] | None) -> str:
    return NONE if shape is None else str(list(shape))


def layers_table(report: ValidationReport, node_types: dict[str, str], *, kind: str) -> Table:
    """One row per node in execution order, with shapes and trainable parameters."""
    title = "Neural network" if kind == "nn" else "Random forest"
    table = Table(title=f"{title}: valid", title_justify="left")
    table.add_column("node")
    table.add_column("type")
    table.add_column("input shape")
    table.add_column("output shape")
    table.add_column("params", justify="right")
    order = report.execution_order or list(node_types)
    for node_id in order:
        shapes = report.shapes.get(node_id)
        params = report.param_counts.get(node_id)
        table.add_row(
            node_id,
            node_types.get(node_id, "?"),
            _shape(shapes.input if shapes else None),
            _shape(shapes.output if shapes else None),
            NONE if params is None else f"{params:,}",
        )
    total = f"{report.total_params:,}" if kind == "nn" else NONE
    table.add_section()
    table.add_row(f"{len(order)} nodes", "", "", "", total, style="bold")
    return table


def errors_table(errors: Sequence[ErrorDetail], *, title: str = "Graph is invalid") -> Table:
    table = Table(title=f"{title}: {len(errors)} error(s)", title_justify="left")
    table.add_column("node")
    table.add_column("field", overflow="fold")
    table.add_column("message", style="red", overflow="fold")
    table.add_column("expected")
    table.add_column("got")
    for error in errors:
        table.add_row(
            error.node_id or NONE,
            error.field or NONE,
            error.message,
            short_json(error.expected),
            short_json(error.got),
        )
    return table


def schema_error_lines(exc: ValidationError) -> list[str]:
    """`nodes[0].type: Input should be 'Input', ...`, one line per schema problem."""
    lines = []
    for error in exc.errors():
        where = ""
        for part in error.get("loc", ()):
            where += f"[{part}]" if isinstance(part, int) else (f".{part}" if where else str(part))
        lines.append(f"{where or 'graph'}: {error.get('msg', 'invalid')}")
    return lines


def jobs_table(jobs: Sequence[dict[str, Any]]) -> Table:
    table = Table(title=f"Recent jobs ({len(jobs)})", title_justify="left")
    table.add_column("job id", no_wrap=True, min_width=32)
    table.add_column("kind", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("name", overflow="fold")
    table.add_column("dataset", overflow="fold")
    table.add_column("created (UTC)", overflow="fold")
    for job in jobs:
        table.add_row(
            str(job.get("job_id", NONE)),
            str(job.get("kind") or NONE),
            _status_text(job.get("status")),
            str(job.get("name") or NONE),
            str(job.get("dataset") or NONE),
            str(job.get("created_at") or NONE).replace("T", " ")[:16],
        )
    return table


def _status_text(status: Any) -> str:
    colour = {"completed": "green", "failed": "red", "stopped": "yellow", "running": "cyan"}
    text = str(status or NONE)
    return f"[{colour[text]}]{text}[/]" if text in colour else text


def metrics_table(message: dict[str, Any]) -> Table:
    """The `final_*` numbers of a `training_done` or `rf_done` message (without `final_loss`
    and `final_accuracy`, which repeat the test figures)."""
    table = Table(title="Final metrics", title_justify="left", show_header=False)
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key, value in message.items():
        if key in REPEATED_METRICS:
            continue
        if key.startswith("final_") and isinstance(value, int | float):
            table.add_row(key.removeprefix("final_").replace("_", " "), f"{value:.4f}")
    return table
