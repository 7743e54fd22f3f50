"""Readable names for flow runs (Prefect UI) and MLflow runs, derived from the graph."""

from __future__ import annotations

from typing import Any

_DEFAULT_DATASET = {"nn": "mnist", "rf": "iris"}


def describe_graph(kind: str, graph: dict[str, Any]) -> str:
    """e.g. `digits-mlp-3` (NN, three weighted layers) or `iris-forest-100` (RF, trees)."""
    training = graph.get("training") or {}
    dataset = str(training.get("dataset") or _DEFAULT_DATASET[kind]).strip().lower()
    nodes = graph.get("nodes") or []
    if kind == "rf":
        forest = next((n for n in nodes if n.get("type") == "RandomForestClassifier"), {})
        trees = (forest.get("config") or {}).get("n_estimators", 100)
        return f"{dataset}-forest-{trees}"
    weighted = sum(1 for n in nodes if n.get("type") in ("Dense", "Output"))
    return f"{dataset}-mlp-{weighted}"


def mlflow_run_name(kind: str, graph: dict[str, Any], job_id: str) -> str:
    return f"{describe_graph(kind, graph)}-{job_id[:8]}"
