"""Validate a random-forest graph (contract §6): §3 structure with RF names, the v1 topology,
shapes, and the forest's hyper-parameters (contract §12 item 2: validate is as strict as train).
"""

from __future__ import annotations

from mlcanvas.errors import ErrorDetail
from mlcanvas.graph.report import NodeShapes, ValidationReport
from mlcanvas.graph.rf_rules import RF_RULES
from mlcanvas.graph.rf_schema import RFGraph
from mlcanvas.graph.shapes import check_nodes
from mlcanvas.graph.structure import RF_VOCABULARY, GraphNode, check_structure
from mlcanvas.rf.hyperparameters import check_hyperparameters

FOREST_TYPE = "RandomForestClassifier"
SUPPORTED_RF_PATHS: list[list[str]] = [
    ["RFInput", FOREST_TYPE, "RFOutput"],
    ["RFInput", "RFFlatten", FOREST_TYPE, "RFOutput"],
]


def validate_rf_graph(graph: RFGraph) -> ValidationReport:
    """Every problem of the graph at once; never raises for a bad graph (validate answers 200)."""
    structure = check_structure(graph.nodes, graph.edges, RF_VOCABULARY)
    if structure.is_empty:
        return ValidationReport.from_parts(errors=structure.errors, shapes={}, execution_order=[])
    errors = structure.errors + _rf_structure_errors(structure.nodes)
    if structure.is_path:
        errors += _topology_errors([structure.nodes[nid].type for nid in structure.execution_order])
    is_walkable = structure.is_path and not errors
    checked = check_nodes(
        structure.nodes, structure.execution_order if is_walkable else None, RF_RULES
    )
    errors += checked.errors
    for nid, node in structure.nodes.items():
        if node.type == FOREST_TYPE:
            errors += check_hyperparameters(nid, node.config, _feature_count(checked.shapes[nid]))
    return ValidationReport.from_parts(
        errors=errors, shapes=checked.shapes, execution_order=structure.execution_order
    )


def _rf_structure_errors(nodes: dict[str, GraphNode]) -> list[ErrorDetail]:
    forests = sum(node.type == FOREST_TYPE for node in nodes.values())
    flattens = sum(node.type == "RFFlatten" for node in nodes.values())
    errors: list[ErrorDetail] = []
    if forests != 1:
        errors.append(
            ErrorDetail(
                message=f"Graph must contain exactly one {FOREST_TYPE} node",
                expected=1,
                got=forests,
            )
        )
    if flattens > 1:
        errors.append(
            ErrorDetail(
                message="Graph can contain at most one RFFlatten node",
                expected="at most 1",
                got=flattens,
            )
        )
    return errors


def _topology_errors(path_types: list[str]) -> list[ErrorDetail]:
    if path_types in SUPPORTED_RF_PATHS:
        return []
    return [
        ErrorDetail(
            message="Unsupported RF topology for v1",
            expected=SUPPORTED_RF_PATHS,
            got=path_types,
        )
    ]


def _feature_count(shapes: NodeShapes) -> int | None:
    """F bounds an integer `max_features`; known only once the walk reached the forest."""
    return shapes.input[0] if shapes.input is not None and len(shapes.input) == 1 else None
