"""Graph schemas and validation for NN and random-forest canvases (contract §2, §3, §6).

Parse with `NNGraph` / `RFGraph` (a pydantic error there is a 422), validate with
`validate_graph` / `validate_rf_graph` (a report, never an exception), then compile from
`plan_layers` and resolve the training block with `resolve_training` / `resolve_rf_training`.
"""

from mlcanvas.graph.activations import ACCEPTED_ACTIVATION_NAMES, normalise_activation
from mlcanvas.graph.dataset_contract import check_dataset_contract, check_rf_dataset_contract
from mlcanvas.graph.elements import Edge, NodeBase
from mlcanvas.graph.graph_kind import graph_kind
from mlcanvas.graph.layers import Activation, LayerSpec, LayerType
from mlcanvas.graph.plan import SOFTMAX_SUPPRESSED_WARNING, plan_layers
from mlcanvas.graph.report import NodeShapes, ValidationReport
from mlcanvas.graph.rf_schema import (
    RF_NODE_TYPES,
    RandomForestClassifierNode,
    RFFlattenNode,
    RFGraph,
    RFInputNode,
    RFNode,
    RFOutputNode,
    RFTrainingSpec,
)
from mlcanvas.graph.rf_training_config import RFTrainingConfig
from mlcanvas.graph.rf_training_resolver import resolve_rf_training
from mlcanvas.graph.rf_validate import validate_rf_graph
from mlcanvas.graph.schema import (
    NN_NODE_TYPES,
    DenseNode,
    DropoutNode,
    FlattenNode,
    InputNode,
    NNGraph,
    NNNode,
    OutputNode,
    TrainingSpec,
)
from mlcanvas.graph.training_config import TrainingConfig
from mlcanvas.graph.training_resolver import normalise_loss, resolve_training
from mlcanvas.graph.validate import validate_graph

__all__ = [
    "ACCEPTED_ACTIVATION_NAMES",
    "NN_NODE_TYPES",
    "RF_NODE_TYPES",
    "SOFTMAX_SUPPRESSED_WARNING",
    "Activation",
    "DenseNode",
    "DropoutNode",
    "Edge",
    "FlattenNode",
    "InputNode",
    "LayerSpec",
    "LayerType",
    "NNGraph",
    "NNNode",
    "NodeBase",
    "NodeShapes",
    "OutputNode",
    "RFFlattenNode",
    "RFGraph",
    "RFInputNode",
    "RFNode",
    "RFOutputNode",
    "RFTrainingConfig",
    "RFTrainingSpec",
    "RandomForestClassifierNode",
    "TrainingConfig",
    "TrainingSpec",
    "ValidationReport",
    "check_dataset_contract",
    "check_rf_dataset_contract",
    "graph_kind",
    "normalise_activation",
    "normalise_loss",
    "plan_layers",
    "resolve_rf_training",
    "resolve_training",
    "validate_graph",
    "validate_rf_graph",
]
