"""What `mlcanvas validate` checks: the graph as the API's validate does, plus the training
block as train would resolve it, so a graph that passes here is not refused by train for a
bad `epochs` or `optimizer` (only the dataset contract is left to train).

Imported inside the command: the graph package pulls in scikit-learn (seconds).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from mlcanvas.errors import ErrorDetail, GraphValidationError
from mlcanvas.graph import (
    NNGraph,
    RFGraph,
    ValidationReport,
    graph_kind,
    resolve_rf_training,
    resolve_training,
    validate_graph,
    validate_rf_graph,
)


def parse_graph(payload: dict[str, Any]) -> tuple[Literal["nn", "rf"], NNGraph | RFGraph]:
    """The payload as an NN or RF graph; pydantic's ValidationError if it fits neither schema."""
    kind = graph_kind(payload)
    if kind == "nn":
        return kind, NNGraph.model_validate(payload)
    return kind, RFGraph.model_validate(payload)


def validate_payload(
    payload: dict[str, Any],
) -> tuple[Literal["nn", "rf"], ValidationReport, dict[str, str]]:
    """(kind, report with training errors appended, node id → type).

    A payload that does not fit the schema raises pydantic's ValidationError.
    """
    kind, graph = parse_graph(payload)
    if isinstance(graph, NNGraph):
        report = validate_graph(graph)
        training_errors = _errors_of(lambda: resolve_training(graph.training))
    else:
        report = validate_rf_graph(graph)
        training_errors = _errors_of(lambda: resolve_rf_training(graph.training))
    if training_errors:
        report = ValidationReport.from_parts(
            errors=report.error_details() + training_errors,
            shapes=report.shapes,
            execution_order=report.execution_order,
            param_counts=report.param_counts,
        )
    return kind, report, {node.id: node.type for node in graph.nodes}


def _errors_of(resolve: Callable[[], object]) -> list[ErrorDetail]:
    try:
        resolve()
    except GraphValidationError as exc:
        return exc.errors
    return []
