"""Validate an NN graph (contract §3): structure, then shapes and every node's config."""

from __future__ import annotations

from mlcanvas.graph.nn_rules import NN_RULES
from mlcanvas.graph.report import ValidationReport
from mlcanvas.graph.schema import NNGraph
from mlcanvas.graph.shapes import check_nodes
from mlcanvas.graph.structure import NN_VOCABULARY, check_structure


def validate_graph(graph: NNGraph) -> ValidationReport:
    """Every problem of the graph at once; never raises for a bad graph (validate answers 200).

    The training block is not resolved here: compile and train do that (contract §2).
    """
    structure = check_structure(graph.nodes, graph.edges, NN_VOCABULARY)
    if structure.is_empty:
        return ValidationReport.from_parts(errors=structure.errors, shapes={}, execution_order=[])
    is_walkable = structure.is_path and not structure.errors
    checked = check_nodes(
        structure.nodes, structure.execution_order if is_walkable else None, NN_RULES
    )
    return ValidationReport.from_parts(
        errors=structure.errors + checked.errors,
        shapes=checked.shapes,
        execution_order=structure.execution_order,
        param_counts=checked.param_counts,
    )
