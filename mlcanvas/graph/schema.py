"""The NN graph as the canvas sends it (contract §2): one model per node type, tagged by `type`.

An unknown `type` fails the discriminated union, which the API answers with 422.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from mlcanvas.graph.elements import Edge, GraphDocument, NodeBase

# A training value as sent: any JSON scalar. Wrong kinds of scalar are reported by
# `resolve_training` with the key's field; only lists and objects are schema failures.
RawScalar = bool | int | float | str | None


class InputNode(NodeBase):
    """The network input; `config.shape` (required) is a non-empty list of ints > 0, `[C,H,W]`."""

    type: Literal["Input"]


class FlattenNode(NodeBase):
    """Collapses any input to `[product]`; no config."""

    type: Literal["Flatten"]


class DenseNode(NodeBase):
    """Linear layer: `config.units` (int > 0, required), `config.activation` (relu if absent)."""

    type: Literal["Dense"]


class DropoutNode(NodeBase):
    """Zeroes activations while training: `config.rate` in [0, 1), default 0.5."""

    type: Literal["Dropout"]


class OutputNode(NodeBase):
    """Final linear layer: `config.num_classes` (int > 0, required), `config.activation` (none)."""

    type: Literal["Output"]


NNNode = Annotated[
    InputNode | FlattenNode | DenseNode | DropoutNode | OutputNode,
    Field(discriminator="type"),
]

NN_NODE_TYPES: tuple[str, ...] = ("Input", "Flatten", "Dense", "Dropout", "Output")


class TrainingSpec(BaseModel):
    """The NN training block as sent: snake_case wins over camelCase, extra keys are ignored,
    values stay raw. `model_dump()` is what `graph.json` stores."""

    model_config = ConfigDict(extra="ignore")

    dataset: RawScalar = Field(default="mnist", description="Dataset id: `mnist` or `digits`.")
    epochs: RawScalar = Field(default=20, description="Passes over the train split; int > 0.")
    batch_size: RawScalar = Field(
        default=64,
        validation_alias=AliasChoices("batch_size", "batchSize"),
        description="Rows per step; int > 0.",
    )
    optimizer: RawScalar = Field(default="adam", description="`adam` or `sgd`.")
    learning_rate: RawScalar = Field(
        default=0.001,
        validation_alias=AliasChoices("learning_rate", "learningRate"),
        description="Step size; > 0.",
    )
    loss: RawScalar = Field(default="cross_entropy", description="`cross_entropy` or `mse`.")


class NNGraph(GraphDocument):
    """A neural-network graph: nodes and edges are required, `training` is optional."""

    nodes: list[NNNode] = Field(description="Input, Flatten, Dense, Dropout and Output nodes.")
    edges: list[Edge] = Field(description="Directed edges between node ids.")
    training: TrainingSpec | None = Field(default=None, description="Raw training block.")
