"""From a posted NN graph to everything a job needs, with the contract's error order.

Shared by the API (validate/compile/train replies, the bundle) and the flow (which re-checks:
a flow run can be created from the Prefect UI with any parameters).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mlcanvas.compile.codegen import generate_source
from mlcanvas.compile.summary import summarize_layers
from mlcanvas.datasets.registry import get_nn_spec, list_nn_datasets
from mlcanvas.errors import DatasetError, ErrorDetail, GraphValidationError
from mlcanvas.graph import (
    NNGraph,
    TrainingConfig,
    check_dataset_contract,
    plan_layers,
    resolve_training,
    validate_graph,
)
from mlcanvas.graph.layers import LayerSpec


@dataclass(frozen=True)
class PreparedNN:
    graph_json: dict[str, Any]
    training: TrainingConfig
    layers: list[LayerSpec]
    warnings: list[str]
    summary: dict[str, Any]
    python_source: str

    @property
    def input_shape(self) -> list[int]:
        return list(self.layers[0].output_shape)

    @property
    def num_classes(self) -> int:
        return int(self.layers[-1].output_shape[0])


def compile_nn(graph: NNGraph) -> PreparedNN:
    """Validate, resolve training and build the plan; GraphValidationError lists every problem."""
    report = validate_graph(graph)
    errors = [] if report.valid else report.error_details()
    try:
        training = resolve_training(graph.training)
    except GraphValidationError as exc:
        errors += exc.errors
        training = None
    if errors or training is None:
        raise GraphValidationError(errors)
    layers, warnings = plan_layers(graph, report, loss=training.loss)
    summary = {
        **summarize_layers(layers),
        "resolved_training": training.model_dump(),
    }
    source = generate_source(layers, input_shape=list(layers[0].output_shape))
    return PreparedNN(graph.to_graph_json(), training, layers, warnings, summary, source)


def prepare_nn_training(graph: NNGraph) -> PreparedNN:
    """compile_nn plus the dataset checks, in the contract's order: dataset, graph, contract."""
    dataset_id = resolve_dataset_id(graph)
    try:
        spec = get_nn_spec(dataset_id)
    except DatasetError as exc:
        known = [d["id"] for d in list_nn_datasets()]
        detail = ErrorDetail(exc.message, field="training.dataset", expected=known, got=dataset_id)
        raise GraphValidationError([detail]) from exc
    prepared = compile_nn(graph)
    problems = check_dataset_contract(
        name=spec.name,
        input_shape=list(spec.input_shape),
        num_classes=spec.num_classes,
        graph_input_shape=prepared.input_shape,
        graph_num_classes=prepared.num_classes,
    )
    if problems:
        raise GraphValidationError(problems)
    return prepared


def resolve_dataset_id(graph: NNGraph) -> str:
    raw = graph.training.dataset if graph.training is not None else None
    return str(raw if raw is not None else TrainingConfig().dataset).strip().lower()
