"""Steps 1-5 of contract §3, shared by NN and RF graphs: index, empty, counts, cycles, path.

The two kinds differ only in type names, which a `Vocabulary` supplies, so both report the
same errors in the same order with their own names ("Input" or "RFInput", ...).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from mlcanvas.errors import ErrorDetail
from mlcanvas.graph.elements import Edge


class GraphNode(Protocol):
    """What the structural and node checks read from a parsed node."""

    @property
    def id(self) -> str: ...

    @property
    def type(self) -> str: ...

    @property
    def config(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Vocabulary:
    """Type names used in the structural messages of one graph kind."""

    input_type: str
    output_type: str
    intermediate_label: str


NN_VOCABULARY = Vocabulary("Input", "Output", "Intermediate nodes")
RF_VOCABULARY = Vocabulary("RFInput", "RFOutput", "Intermediate RF nodes")


@dataclass
class Structure:
    """The indexed graph and its structural errors; `is_path` means the order is the walk."""

    nodes: dict[str, GraphNode]
    errors: list[ErrorDetail] = field(default_factory=list)
    execution_order: list[str] = field(default_factory=list)
    is_path: bool = False

    @property
    def is_empty(self) -> bool:
        return not self.nodes


def check_structure(
    nodes: Sequence[GraphNode], edges: Sequence[Edge], vocabulary: Vocabulary
) -> Structure:
    """Run §3 steps 1-5; stops after step 2 when there are no nodes."""
    by_id, links, errors = _index(nodes, edges)
    structure = Structure(nodes=by_id, errors=errors)
    if not by_id:
        errors.append(
            ErrorDetail(message="Graph has no nodes", expected="at least one node", got=0)
        )
        return structure
    inputs = [nid for nid, node in by_id.items() if node.type == vocabulary.input_type]
    outputs = [nid for nid, node in by_id.items() if node.type == vocabulary.output_type]
    for type_name, found in ((vocabulary.input_type, inputs), (vocabulary.output_type, outputs)):
        if len(found) != 1:
            errors.append(
                ErrorDetail(
                    message=f"Graph must contain exactly one {type_name} node",
                    expected=1,
                    got=len(found),
                )
            )
    successors = _successors(by_id, links)
    topological, has_cycle = _kahn_order(by_id, links, successors)
    if has_cycle:
        errors.append(
            ErrorDetail(
                message="Graph contains a cycle", expected="acyclic DAG", got="cycle detected"
            )
        )
    structure.execution_order = topological
    if len(inputs) == 1 and len(outputs) == 1:
        walk = _check_path(by_id, links, successors, inputs[0], outputs[0], vocabulary, errors)
        if walk is not None:
            structure.execution_order = walk
            structure.is_path = True
    return structure


def _index(
    nodes: Sequence[GraphNode], edges: Sequence[Edge]
) -> tuple[dict[str, GraphNode], list[Edge], list[ErrorDetail]]:
    by_id: dict[str, GraphNode] = {}
    errors: list[ErrorDetail] = []
    for node in nodes:
        if node.id in by_id:
            errors.append(
                ErrorDetail(
                    message="Duplicate node ID",
                    node_id=node.id,
                    expected="unique node id",
                    got=node.id,
                )
            )
            continue
        by_id[node.id] = node
    links: list[Edge] = []
    edge_ids: set[str] = set()
    for edge in edges:
        if edge.id in edge_ids:
            errors.append(
                ErrorDetail(message="Duplicate edge ID", expected="unique edge id", got=edge.id)
            )
        edge_ids.add(edge.id)
        if edge.source not in by_id or edge.target not in by_id:
            errors.append(
                ErrorDetail(
                    message="Edge references unknown node",
                    node_id=edge.target,
                    expected="existing source and target node IDs",
                    got={"source": edge.source, "target": edge.target},
                )
            )
            continue
        links.append(edge)
    return by_id, links, errors


def _successors(nodes: Mapping[str, GraphNode], links: Sequence[Edge]) -> dict[str, list[str]]:
    """Targets per source, sorted, one entry per edge (parallel edges count twice)."""
    successors: dict[str, list[str]] = {nid: [] for nid in nodes}
    for edge in links:
        successors[edge.source].append(edge.target)
    return {nid: sorted(targets) for nid, targets in successors.items()}


def _in_degrees(nodes: Mapping[str, GraphNode], links: Sequence[Edge]) -> dict[str, int]:
    degrees = dict.fromkeys(nodes, 0)
    for edge in links:
        degrees[edge.target] += 1
    return degrees


def _kahn_order(
    nodes: Mapping[str, GraphNode], links: Sequence[Edge], successors: Mapping[str, list[str]]
) -> tuple[list[str], bool]:
    """Topological order with sorted ready ids; nodes left over mean a cycle (or self-loop)."""
    remaining = _in_degrees(nodes, links)
    ready = deque(sorted(nid for nid, degree in remaining.items() if degree == 0))
    order: list[str] = []
    while ready:
        nid = ready.popleft()
        order.append(nid)
        for target in successors[nid]:
            remaining[target] -= 1
            if remaining[target] == 0:
                ready.append(target)
    return order, len(order) < len(nodes)


def _check_path(
    nodes: Mapping[str, GraphNode],
    links: Sequence[Edge],
    successors: Mapping[str, list[str]],
    input_id: str,
    output_id: str,
    vocabulary: Vocabulary,
    errors: list[ErrorDetail],
) -> list[str] | None:
    """Degree checks, then the walk from the input; the walk when it is the whole graph."""
    in_degrees = _in_degrees(nodes, links)
    rules = [
        (input_id, 0, 1, f"{vocabulary.input_type} node must have in-degree 0 and out-degree 1"),
        (output_id, 1, 0, f"{vocabulary.output_type} node must have in-degree 1 and out-degree 0"),
    ]
    middle = f"{vocabulary.intermediate_label} must have in-degree 1 and out-degree 1"
    rules += [(nid, 1, 1, middle) for nid in nodes if nid not in (input_id, output_id)]
    for nid, want_in, want_out, message in rules:
        got = {"in_degree": in_degrees[nid], "out_degree": len(successors[nid])}
        if got != {"in_degree": want_in, "out_degree": want_out}:
            errors.append(
                ErrorDetail(
                    message=message,
                    node_id=nid,
                    expected={"in_degree": want_in, "out_degree": want_out},
                    got=got,
                )
            )
    walk = [input_id]
    while walk[-1] != output_id and len(successors[walk[-1]]) == 1:
        following = successors[walk[-1]][0]
        if following in walk:
            break
        walk.append(following)
    path_name = f"{vocabulary.input_type}->{vocabulary.output_type}"
    if walk[-1] != output_id:
        errors.append(
            ErrorDetail(
                message=f"Could not build a single {path_name} path",
                node_id=output_id,
                expected="connected sequential path",
                got=walk,
            )
        )
        return None
    if len(walk) != len(nodes):
        errors.append(
            ErrorDetail(
                message=f"All nodes must be on the single {path_name} path",
                expected=sorted(nodes),
                got=sorted(walk),
            )
        )
        return None
    return walk
