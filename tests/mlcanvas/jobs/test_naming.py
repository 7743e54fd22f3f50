"""Readable run names from the graph, for the Prefect UI and MLflow."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from mlcanvas.jobs.naming import describe_graph, mlflow_run_name

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


def _example(name: str) -> dict[str, Any]:
    return json.loads((EXAMPLES / name).read_text())


def test_an_nn_graph_is_named_after_its_dataset_and_weighted_layers() -> None:
    assert describe_graph("nn", _example("digits_mlp.json")) == "digits-mlp-2"
    assert describe_graph("nn", _example("mnist_mlp.json")) == "mnist-mlp-2"


def test_an_rf_graph_is_named_after_its_dataset_and_trees() -> None:
    assert describe_graph("rf", _example("iris_forest.json")) == "iris-forest-30"


def test_the_dataset_is_normalised_as_the_contract_does() -> None:
    graph = copy.deepcopy(_example("digits_mlp.json"))
    graph["training"]["dataset"] = "  Digits "

    assert describe_graph("nn", graph) == "digits-mlp-2"


@pytest.mark.parametrize(
    ("kind", "graph", "name"),
    [
        ("nn", {}, "mnist-mlp-0"),
        ("nn", {"nodes": None, "training": None}, "mnist-mlp-0"),
        ("nn", {"nodes": [{"type": "Output"}], "training": {"dataset": None}}, "mnist-mlp-1"),
        ("rf", {}, "iris-forest-100"),
        ("rf", {"nodes": [{"type": "RandomForestClassifier", "config": None}]}, "iris-forest-100"),
    ],
)
def test_missing_parts_fall_back_to_the_contract_defaults(
    kind: str, graph: dict[str, Any], name: str
) -> None:
    assert describe_graph(kind, graph) == name


def test_the_mlflow_run_name_adds_the_job_id_prefix() -> None:
    job_id = "0123456789abcdef0123456789abcdef"

    assert mlflow_run_name("rf", _example("iris_forest.json"), job_id) == "iris-forest-30-01234567"
