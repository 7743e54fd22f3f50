"""The deployment record (contract §7 deployment object) and how it is named in the registry.

A record is plain data; it is stored as JSON in a registered-model tag, so the MLflow
registry is the only durable copy (no JSON file of our own).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from typing import Any, Literal

from mlcanvas.jobs.ids import check_job_id

Kind = Literal["nn", "rf"]
RUNNING = "running"
STOPPED = "stopped"
LOCAL_TARGET = "local"


def check_deployment_id(deployment_id: str | None) -> str:
    """The id unchanged, or the contract's 404 (`Unknown deployment_id: ...`) before any lookup."""
    return check_job_id(deployment_id, what="deployment_id")


def endpoint_path_for(deployment_id: str) -> str:
    return f"/api/deploy/{deployment_id}/infer"


def alias_for(deployment_id: str) -> str:
    """Registry alias of the deployment's model version (one alias per deployment)."""
    return f"d-{deployment_id}"


def utc_now_iso() -> str:
    return datetime.now(UTC).isoformat()


@dataclass(frozen=True)
class Deployment:
    """One deployment; `request_count`/`last_used_at` count successful inferences only."""

    deployment_id: str
    job_id: str
    kind: Kind
    name: str | None
    status: str
    target: str
    endpoint_path: str
    created_at: str
    last_used_at: str | None
    request_count: int
    model_name: str
    model_version: str

    @property
    def alias(self) -> str:
        return alias_for(self.deployment_id)

    @property
    def model_uri(self) -> str:
        """What MLflow loads for this deployment, e.g. `models:/mlcanvas-nn@d-<id>`."""
        return f"models:/{self.model_name}@{self.alias}"

    @property
    def is_running(self) -> bool:
        return self.status == RUNNING

    def with_changes(self, **changes: Any) -> Deployment:
        return replace(self, **changes)

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Deployment:
        """Parse a stored record; unknown keys (written by a newer version) are ignored."""
        raw = json.loads(text)
        known = {name: raw.get(name) for name in cls.__dataclass_fields__}
        known["request_count"] = int(known["request_count"] or 0)
        known["model_version"] = str(known["model_version"])
        return cls(**known)

    def to_wire(self) -> dict[str, Any]:
        """The contract's deployment object plus `kind`, `model_uri` and the model version."""
        return {**asdict(self), "model_uri": self.model_uri}
