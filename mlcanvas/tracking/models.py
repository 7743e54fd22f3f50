"""Logging trained models to MLflow with a signature and explicit pip requirements.

Requirement inference costs seconds per model, so requirements are always given.
"""

from __future__ import annotations

from importlib.metadata import version
from typing import Any

import numpy as np
from mlflow.models import ModelSignature
from mlflow.types import Schema, TensorSpec

from mlcanvas.settings import Settings
from mlcanvas.tracking.runs import mlflow_client


def _pins(*dists: str) -> list[str]:
    return [f"{d}=={version(d).split('+')[0]}" for d in dists]


def log_torch_model(
    settings: Settings,
    run_id: str,
    module: Any,
    *,
    input_shape: list[int],
    num_classes: int,
) -> str:
    """Log the module (pickle flavour; loading needs `mlcanvas` importable); returns its URI."""
    import mlflow.pytorch

    signature = ModelSignature(
        inputs=Schema([TensorSpec(np.dtype(np.float32), (-1, *input_shape))]),
        outputs=Schema([TensorSpec(np.dtype(np.float32), (-1, num_classes))]),
    )
    mlflow_client(settings)
    with mlflow.start_run(run_id=run_id):
        mlflow.pytorch.log_model(
            module.cpu().eval(),
            name="model",
            signature=signature,
            serialization_format="pickle",
            pip_requirements=_pins("torch", "numpy"),
        )
    return f"runs:/{run_id}/model"


def log_sklearn_model(
    settings: Settings, run_id: str, model: Any, *, feature_count: int, num_classes: int
) -> str:
    """Log a fitted forest (pickle, since skops needs trusted types at load)."""
    import mlflow.sklearn

    signature = ModelSignature(
        inputs=Schema([TensorSpec(np.dtype(np.float64), (-1, feature_count))]),
        outputs=Schema([TensorSpec(np.dtype(np.int64), (-1,))]),
    )
    mlflow_client(settings)
    with mlflow.start_run(run_id=run_id):
        mlflow.sklearn.log_model(
            model,
            name="model",
            signature=signature,
            serialization_format="pickle",
            pip_requirements=_pins("scikit-learn", "numpy"),
        )
    return f"runs:/{run_id}/model"
