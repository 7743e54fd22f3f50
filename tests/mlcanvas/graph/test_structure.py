"""Contract §3 steps 1-5: index, empty graph, counts, cycles and the single path."""

from __future__ import annotations

from typing import Any

from mlcanvas.graph import NNGraph, RFGraph
from mlcanvas.graph.structure import NN_VOCABULARY, RF_VOCABULARY, Structure, check_structure


def _structure(nodes: list[tuple[str, str]], edges: list[tuple[str, str]]) -> Structure:
    graph = NNGraph.model_validate(
        {
            "nodes": [{"id": nid, "type": node_type} for nid, node_type in nodes],
            "edges": [
                {"id": f"e{i}", "source": source, "target": target}
                for i, (source, target) in enumerate(edges)
            ],
        }
    )
    return check_structure(graph.nodes, graph.edges, NN_VOCABULARY)


def _messages(structure: Structure) -> list[str]:
    return [error.message for error in structure.errors]


LINE = [("a", "Input"), ("b", "Flatten"), ("c", "Output")]


def test_a_line_is_a_path_and_its_walk_is_the_order() -> None:
    structure = _structure(LINE, [("a", "b"), ("b", "c")])
    assert structure.errors == []
    assert structure.is_path
    assert structure.execution_order == ["a", "b", "c"]


def test_duplicate_node_id_first_occurrence_wins() -> None:
    structure = _structure([("a", "Input"), ("a", "Output"), ("c", "Output")], [("a", "c")])
    error = structure.errors[0]
    assert (error.message, error.node_id, error.expected, error.got) == (
        "Duplicate node ID",
        "a",
        "unique node id",
        "a",
    )
    assert structure.nodes["a"].type == "Input"
    assert structure.execution_order == ["a", "c"]


def test_duplicate_edge_id_is_reported_and_the_edge_still_counts() -> None:
    graph = NNGraph.model_validate(
        {
            "nodes": [{"id": nid, "type": node_type} for nid, node_type in LINE],
            "edges": [
                {"id": "e", "source": "a", "target": "b"},
                {"id": "e", "source": "b", "target": "c"},
            ],
        }
    )
    structure = check_structure(graph.nodes, graph.edges, NN_VOCABULARY)
    assert _messages(structure) == ["Duplicate edge ID"]
    assert structure.errors[0].node_id is None
    assert structure.errors[0].expected == "unique edge id"
    assert structure.execution_order == ["a", "b", "c"]


def test_edge_to_unknown_node_is_skipped_and_names_the_target() -> None:
    structure = _structure(LINE, [("a", "b"), ("b", "c"), ("ghost", "c")])
    error = structure.errors[0]
    assert error.message == "Edge references unknown node"
    assert error.node_id == "c"
    assert error.expected == "existing source and target node IDs"
    assert error.got == {"source": "ghost", "target": "c"}
    assert len(structure.errors) == 1


def test_empty_graph_stops_after_its_error() -> None:
    structure = _structure([], [("x", "y")])
    assert _messages(structure) == ["Edge references unknown node", "Graph has no nodes"]
    assert structure.errors[-1].expected == "at least one node"
    assert structure.errors[-1].got == 0
    assert structure.is_empty
    assert structure.execution_order == []


def test_input_and_output_counts() -> None:
    structure = _structure([("a", "Flatten"), ("b", "Output"), ("c", "Output")], [])
    assert [(e.message, e.expected, e.got) for e in structure.errors] == [
        ("Graph must contain exactly one Input node", 1, 0),
        ("Graph must contain exactly one Output node", 1, 2),
    ]
    assert not structure.is_path


def test_kahn_order_is_sorted_when_there_is_no_path() -> None:
    structure = _structure(
        [("z", "Input"), ("y", "Input"), ("m", "Dense"), ("b", "Output")],
        [("z", "m"), ("y", "b")],
    )
    assert structure.execution_order == ["y", "z", "b", "m"]


def test_back_edge_is_a_cycle_and_degree_error() -> None:
    structure = _structure(LINE, [("a", "b"), ("b", "c"), ("c", "b")])
    messages = _messages(structure)
    assert "Graph contains a cycle" in messages
    cycle = structure.errors[messages.index("Graph contains a cycle")]
    assert (cycle.expected, cycle.got) == ("acyclic DAG", "cycle detected")
    assert "Output node must have in-degree 1 and out-degree 0" in messages
    assert structure.execution_order == ["a", "b", "c"]  # the walk still reaches Output


def test_self_loop_is_a_cycle() -> None:
    structure = _structure(LINE, [("a", "b"), ("b", "b"), ("b", "c")])
    assert "Graph contains a cycle" in _messages(structure)


def test_branch_gives_degree_and_path_errors() -> None:
    structure = _structure(
        [("a", "Input"), ("b", "Dense"), ("d", "Dense"), ("c", "Output")],
        [("a", "b"), ("a", "d"), ("b", "c")],
    )
    degree = structure.errors[0]
    assert degree.message == "Input node must have in-degree 0 and out-degree 1"
    assert degree.node_id == "a"
    assert degree.expected == {"in_degree": 0, "out_degree": 1}
    assert degree.got == {"in_degree": 0, "out_degree": 2}
    intermediate = structure.errors[1]
    assert intermediate.message == "Intermediate nodes must have in-degree 1 and out-degree 1"
    assert intermediate.node_id == "d"
    path = structure.errors[2]
    assert path.message == "Could not build a single Input->Output path"
    assert (path.node_id, path.expected, path.got) == ("c", "connected sequential path", ["a"])
    assert structure.execution_order == ["a", "b", "d", "c"]


def test_nodes_off_the_path_are_reported() -> None:
    structure = _structure(LINE + [("x", "Dropout")], [("a", "b"), ("b", "c")])
    assert _messages(structure) == [
        "Intermediate nodes must have in-degree 1 and out-degree 1",
        "All nodes must be on the single Input->Output path",
    ]
    off_path = structure.errors[1]
    assert off_path.expected == ["a", "b", "c", "x"]
    assert off_path.got == ["a", "b", "c"]
    assert not structure.is_path


def test_rf_vocabulary_names_rf_types() -> None:
    payload: dict[str, Any] = {
        "nodes": [
            {"id": "i", "type": "RFInput"},
            {"id": "f", "type": "RandomForestClassifier"},
            {"id": "g", "type": "RandomForestClassifier"},
            {"id": "o", "type": "RFOutput"},
        ],
        "edges": [
            {"id": "1", "source": "i", "target": "f"},
            {"id": "2", "source": "i", "target": "g"},
            {"id": "3", "source": "f", "target": "o"},
        ],
    }
    graph = RFGraph.model_validate(payload)
    structure = check_structure(graph.nodes, graph.edges, RF_VOCABULARY)
    assert _messages(structure) == [
        "RFInput node must have in-degree 0 and out-degree 1",
        "Intermediate RF nodes must have in-degree 1 and out-degree 1",
        "Could not build a single RFInput->RFOutput path",
    ]
