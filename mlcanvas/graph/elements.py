"""What every graph kind shares: the node envelope, the edge and the graph document.

Node configs stay raw: a bad config value is a validation error (200, `valid:false`), not a
schema failure (422), so the client can show it next to the node (contract §2).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator


class NodeBase(BaseModel):
    """`{id, type, config}`; extra keys (`name`, `position`, ...) are kept for `graph.json`."""

    model_config = ConfigDict(extra="allow")

    id: str = Field(description="Node id, unique within the graph.")
    type: str = Field(description="Node type; each subclass narrows it to one literal tag.")
    config: dict[str, Any] = Field(
        default_factory=dict,
        description="Raw node config; unknown keys are ignored, values are checked by validation.",
    )

    @field_validator("config", mode="before")
    @classmethod
    def _null_config_is_empty(cls, value: Any) -> Any:
        return {} if value is None else value


class Edge(BaseModel):
    """A directed connection; any keys besides id, source and target are dropped."""

    model_config = ConfigDict(extra="ignore")

    id: str = Field(description="Edge id, unique within the graph.")
    source: str = Field(description="Id of the node the edge leaves.")
    target: str = Field(description="Id of the node the edge enters.")


class GraphDocument(BaseModel):
    """Base of the NN and RF graphs: other top-level keys are ignored."""

    model_config = ConfigDict(extra="ignore")

    def to_graph_json(self) -> dict[str, Any]:
        """The graph as `graph.json` stores it: raw configs, node extras kept, training
        with every default in snake_case, and no `training` key when none was sent."""
        data = self.model_dump(mode="json")
        if data.get("training") is None:
            data.pop("training", None)
        return data
