"""One real MLflow sqlite store for the tracking tests (store set-up costs seconds)."""

from __future__ import annotations

import pytest
from mlflow.tracking import MlflowClient

from mlcanvas.settings import Settings
from mlcanvas.tracking.runs import mlflow_client


@pytest.fixture(scope="session")
def store(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    root = tmp_path_factory.mktemp("tracking")
    return Settings(
        data_dir=root / "data",
        mlruns_dir=root / "mlruns",
        mlflow_tracking_uri=None,
        _env_file=None,
    )


@pytest.fixture
def client(store: Settings) -> MlflowClient:
    return mlflow_client(store)
