"""Step 6 of contract §3: shapes along `execution_order`, stopping at the first failure.

Shape-independent config problems are still reported for every node the walk did not
reach, so one validate lists everything to fix (the walk's own stop error keeps the §3 form:
`expected:"compatible shape/config"`, `got:{input_shape, config, type}`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from mlcanvas.errors import ErrorDetail
from mlcanvas.graph.config_checks import Problem
from mlcanvas.graph.report import NodeShapes
from mlcanvas.graph.structure import GraphNode

Shape = list[int]


def _no_input_problem(input_shape: Shape | None) -> Problem | None:
    return None


def _no_config_problems(config: Mapping[str, Any]) -> list[Problem]:
    return []


def _no_params(input_shape: Shape | None, output_shape: Shape) -> int:
    return 0


@dataclass(frozen=True)
class NodeRule:
    """How one node type checks its input and config and computes its output shape.

    `output_shape` is called only when both checks found nothing.
    """

    output_shape: Callable[[Shape | None, Mapping[str, Any]], Shape]
    check_input: Callable[[Shape | None], Problem | None] = _no_input_problem
    check_config: Callable[[Mapping[str, Any]], list[Problem]] = _no_config_problems
    param_count: Callable[[Shape | None, Shape], int] = _no_params


def known_input(input_shape: Shape | None) -> Shape:
    """The input shape of a node after the first; the walk starts at the input node, so a
    missing one is a bug in the rules, not bad input."""
    if input_shape is None:
        raise ValueError("only the input node has no input shape")
    return input_shape


def rank_one_input(message: str) -> Callable[[Shape | None], Problem | None]:
    """An input check that wants a rank-1 input, failing with `message`."""

    def check(input_shape: Shape | None) -> Problem | None:
        return None if input_shape is not None and len(input_shape) == 1 else Problem(message)

    return check


@dataclass
class NodeCheck:
    """Shapes for every node (null where unknown), node errors and parameters per node."""

    shapes: dict[str, NodeShapes]
    errors: list[ErrorDetail] = field(default_factory=list)
    param_counts: dict[str, int] = field(default_factory=dict)


def check_nodes(
    nodes: Mapping[str, GraphNode], walk: list[str] | None, rules: Mapping[str, NodeRule]
) -> NodeCheck:
    """Infer shapes along `walk` (None: the structure is broken, only configs are checked)."""
    result = NodeCheck(shapes={nid: NodeShapes() for nid in nodes})
    reached: set[str] = set()
    current: Shape | None = None
    for nid in walk or []:
        node, rule = nodes[nid], rules[nodes[nid].type]
        reached.add(nid)
        problems = [p for p in [rule.check_input(current)] if p] + rule.check_config(node.config)
        if problems:
            result.shapes[nid] = NodeShapes(input=current)
            result.errors.append(_stop_error(node, current, problems[0]))
            result.errors.extend(_config_error(node, p) for p in problems[1:])
            break
        output = rule.output_shape(current, node.config)
        result.shapes[nid] = NodeShapes(input=current, output=output)
        result.param_counts[nid] = rule.param_count(current, output)
        current = output
    for nid, node in nodes.items():
        if nid not in reached:
            result.errors.extend(
                _config_error(node, p) for p in rules[node.type].check_config(node.config)
            )
    return result


def _stop_error(node: GraphNode, input_shape: Shape | None, problem: Problem) -> ErrorDetail:
    if problem.keeps_expected:
        return _config_error(node, problem)
    return ErrorDetail(
        message=problem.message,
        node_id=node.id,
        field=problem.field,
        expected="compatible shape/config",
        got={"input_shape": input_shape, "config": dict(node.config), "type": node.type},
    )


def _config_error(node: GraphNode, problem: Problem) -> ErrorDetail:
    return ErrorDetail(
        message=problem.message,
        node_id=node.id,
        field=problem.field,
        expected=problem.expected,
        got=problem.got,
    )
