"""From a posted RF graph to everything an RF job needs (contract §6), errors in order:
unsupported dataset, graph (incl. hyper-parameters), dataset contract (features, classes)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from mlcanvas.datasets.registry import RFDatasetSpec, get_rf_spec, list_rf_datasets
from mlcanvas.errors import DatasetError, ErrorDetail, GraphValidationError
from mlcanvas.graph import (
    RFGraph,
    RFTrainingConfig,
    check_rf_dataset_contract,
    resolve_rf_training,
    validate_rf_graph,
)
from mlcanvas.rf import RFHyperparameters, resolve_hyperparameters
from mlcanvas.rf.codegen import generate_rf_source

FOREST = "RandomForestClassifier"


@dataclass(frozen=True)
class PreparedRF:
    graph_json: dict[str, Any]
    training: RFTrainingConfig
    hyperparameters: RFHyperparameters
    summary: dict[str, Any]
    python_source: str
    input_shape: list[int]
    num_classes: int

    @property
    def feature_count(self) -> int:
        return math.prod(self.input_shape)


def compile_rf(graph: RFGraph, spec: RFDatasetSpec | None = None) -> PreparedRF:
    """Validate and resolve; GraphValidationError lists every problem. `spec` names features."""
    report = validate_rf_graph(graph)
    errors = [] if report.valid else report.error_details()
    try:
        training = resolve_rf_training(graph.training)
    except GraphValidationError as exc:
        errors += exc.errors
        training = None
    if errors or training is None:
        raise GraphValidationError(errors)
    nodes = {node.id: node for node in graph.nodes}
    forest = next(node for node in graph.nodes if node.type == FOREST)
    input_shape = list(report.shapes[report.execution_order[0]].output or [])
    num_classes = int((report.shapes[report.execution_order[-1]].output or [0])[0])
    features = math.prod(input_shape)
    hyper = resolve_hyperparameters(
        forest.id,
        dict(forest.config),
        feature_count=features,
        default_random_state=training.random_state,
    )
    feature_names = list(spec.feature_names) if spec else [f"feature_{i}" for i in range(features)]
    class_names = list(spec.class_names) if spec else [str(i) for i in range(num_classes)]
    layers = [
        {
            "node_id": node_id,
            "type": nodes[node_id].type,
            "input_shape": report.shapes[node_id].input,
            "output_shape": report.shapes[node_id].output,
            "config": dict(nodes[node_id].config),
        }
        for node_id in report.execution_order
    ]
    summary = {
        "model_family": "random_forest",
        "layers": layers,
        "resolved_training": training.model_dump(),
        "resolved_hyperparameters": hyper.model_dump(),
        "dataset": training.dataset,
        "expected_feature_count": features,
        "num_classes": num_classes,
        "input_shape": input_shape,
    }
    source = generate_rf_source(hyper, feature_names=feature_names, class_names=class_names)
    return PreparedRF(
        graph.to_graph_json(),
        training,
        hyper,
        summary,
        source,
        input_shape,
        num_classes,
    )


def rf_dataset_spec(graph: RFGraph) -> RFDatasetSpec:
    raw = graph.training.dataset if graph.training is not None else None
    dataset_id = str(raw if raw is not None else RFTrainingConfig().dataset).strip().lower()
    try:
        return get_rf_spec(dataset_id)
    except DatasetError as exc:
        known = [d["id"] for d in list_rf_datasets()]
        detail = ErrorDetail(exc.message, field="training.dataset", expected=known, got=dataset_id)
        raise GraphValidationError([detail]) from exc


def prepare_rf_training(graph: RFGraph) -> tuple[PreparedRF, RFDatasetSpec]:
    spec = rf_dataset_spec(graph)
    prepared = compile_rf(graph, spec)
    problems = check_rf_dataset_contract(
        name=spec.name,
        feature_count=spec.feature_count,
        num_classes=spec.num_classes,
        graph_input_shape=prepared.input_shape,
        graph_num_classes=prepared.num_classes,
    )
    if problems:
        raise GraphValidationError(problems)
    return prepared, spec
