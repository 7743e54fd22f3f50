"""The random-forest graph as the canvas sends it (contract §6): same envelope as NN, RF types."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from mlcanvas.graph.elements import Edge, GraphDocument, NodeBase
from mlcanvas.graph.schema import RawScalar


class RFInputNode(NodeBase):
    """The feature vector; `config.shape` is a non-empty list of ints > 0 (the client sends [F])."""

    type: Literal["RFInput"]


class RFFlattenNode(NodeBase):
    """Collapses the input to `[product]`; at most one per graph."""

    type: Literal["RFFlatten"]


class RandomForestClassifierNode(NodeBase):
    """The forest; its config holds the hyper-parameters (`mlcanvas.rf.hyperparameters`)."""

    type: Literal["RandomForestClassifier"]


class RFOutputNode(NodeBase):
    """Class scores; `config.num_classes` is an int > 0 and must match the dataset."""

    type: Literal["RFOutput"]


RFNode = Annotated[
    RFInputNode | RFFlattenNode | RandomForestClassifierNode | RFOutputNode,
    Field(discriminator="type"),
]

RF_NODE_TYPES: tuple[str, ...] = ("RFInput", "RFFlatten", "RandomForestClassifier", "RFOutput")


class RFTrainingSpec(BaseModel):
    """The RF training block as sent: snake_case wins over camelCase, extra keys are ignored."""

    model_config = ConfigDict(extra="ignore")

    dataset: RawScalar = Field(default="iris", description="RF dataset id, e.g. `iris`.")
    test_size: RawScalar = Field(
        default=0.2,
        validation_alias=AliasChoices("test_size", "testSize"),
        description="Share of rows held out for testing; in (0, 1).",
    )
    random_state: RawScalar = Field(
        default=42,
        validation_alias=AliasChoices("random_state", "randomState"),
        description="Seed of the split (and of the forest when its own is null).",
    )
    stratify: RawScalar = Field(default=True, description="Keep class ratios in the split.")
    log_every_trees: RawScalar = Field(
        default=10,
        validation_alias=AliasChoices("log_every_trees", "logEveryTrees"),
        description="Trees between progress checkpoints; int > 0.",
    )


class RFGraph(GraphDocument):
    """A random-forest graph: nodes and edges are required, `training` is optional."""

    nodes: list[RFNode] = Field(description="RFInput, RFFlatten, forest and RFOutput nodes.")
    edges: list[Edge] = Field(description="Directed edges between node ids.")
    training: RFTrainingSpec | None = Field(default=None, description="Raw RF training block.")
