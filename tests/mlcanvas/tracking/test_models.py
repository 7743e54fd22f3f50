"""Trained models logged to MLflow with a signature and pinned requirements, loadable back."""

from __future__ import annotations

from pathlib import Path
from uuid import uuid4

import mlflow.models
import mlflow.pytorch
import mlflow.sklearn
import numpy as np
import pytest
import torch
from mlflow.tracking import MlflowClient
from sklearn.datasets import load_iris
from sklearn.ensemble import RandomForestClassifier

from mlcanvas.settings import Settings
from mlcanvas.tracking.models import log_sklearn_model, log_torch_model
from mlcanvas.tracking.runs import mlflow_client, start_job_run


def _run(store: Settings, kind: str) -> str:
    job_id = uuid4().hex
    return start_job_run(
        store, kind=kind, job_id=job_id, flow_run_id=job_id, run_name=job_id, params={}
    )


def _requirements(client: MlflowClient, run_id: str, tmp_path: Path) -> list[str]:
    local = client.download_artifacts(run_id, "model/requirements.txt", str(tmp_path))
    return Path(local).read_text().split()


def test_a_torch_module_round_trips_with_its_signature(
    store: Settings, client: MlflowClient, tmp_path: Path
) -> None:
    torch.manual_seed(0)
    module = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4, 3))
    run_id = _run(store, "nn")

    uri = log_torch_model(store, run_id, module, input_shape=[1, 2, 2], num_classes=3)

    assert uri == f"runs:/{run_id}/model"
    loaded = mlflow.pytorch.load_model(uri)
    batch = torch.randn(5, 1, 2, 2)
    with torch.no_grad():
        assert torch.equal(loaded(batch), module(batch))
    signature = mlflow.models.get_model_info(uri).signature
    assert signature.inputs.inputs[0].shape == (-1, 1, 2, 2)
    assert signature.outputs.inputs[0].shape == (-1, 3)
    pins = _requirements(client, run_id, tmp_path)
    assert any(p.startswith("torch==") for p in pins) and not any("+" in p for p in pins)


def test_a_forest_round_trips_with_its_signature(
    store: Settings, client: MlflowClient, tmp_path: Path
) -> None:
    data = load_iris()
    forest = RandomForestClassifier(n_estimators=3, random_state=0).fit(data.data, data.target)
    run_id = _run(store, "rf")

    uri = log_sklearn_model(store, run_id, forest, feature_count=4, num_classes=3)

    loaded = mlflow.sklearn.load_model(uri)
    np.testing.assert_array_equal(loaded.predict(data.data), forest.predict(data.data))
    assert mlflow.models.get_model_info(uri).signature.inputs.inputs[0].shape == (-1, 4)
    assert any(p.startswith("scikit-learn==") for p in _requirements(client, run_id, tmp_path))


def test_a_model_goes_to_the_given_store_after_another_store_was_used(
    store: Settings, client: MlflowClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")  # fail fast if it goes there
    run_id = _run(store, "nn")
    elsewhere = Settings(
        data_dir=tmp_path / "data",
        mlruns_dir=tmp_path / "mlruns",
        mlflow_tracking_uri="http://127.0.0.1:9/",  # nothing listens
        _env_file=None,
    )
    mlflow_client(elsewhere)  # another part of the process points MLflow's globals away

    uri = log_torch_model(store, run_id, torch.nn.Linear(2, 2), input_shape=[2], num_classes=2)

    assert isinstance(mlflow.pytorch.load_model(uri), torch.nn.Linear)
