"""MLflow runs for jobs: one run per job, params once, one batched metrics call per epoch.

All calls take an explicit run id (MlflowClient), so they work from any thread or process.
"""

from __future__ import annotations

import logging
import time
from functools import lru_cache
from pathlib import Path
from typing import Any

import mlflow
from mlflow.entities import Metric, Param, RunTag
from mlflow.tracking import MlflowClient

from mlcanvas.errors import DependencyUnavailableError
from mlcanvas.settings import Settings

log = logging.getLogger(__name__)

EXPERIMENTS = {"nn": "mlcanvas-nn", "rf": "mlcanvas-rf"}
TAG_JOB_ID = "mlcanvas.job_id"
TAG_FLOW_RUN_ID = "prefect.flow_run_id"
TAG_KIND = "mlcanvas.kind"


@lru_cache(maxsize=2)
def _configured(tracking_uri: str, mlruns_dir: str) -> MlflowClient:
    return MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)


def mlflow_client(settings: Settings) -> MlflowClient:
    """The process-wide client; store set-up (~0.7 s on sqlite) happens once per process.

    The fluent API (`log_model`) reads MLflow's global URIs, so they are pointed at this
    store on every call (free when unchanged), not only when the client is first built.
    """
    settings.mlruns_dir.mkdir(parents=True, exist_ok=True)
    mlflow.set_tracking_uri(settings.tracking_uri)
    mlflow.set_registry_uri(settings.tracking_uri)
    return _configured(settings.tracking_uri, str(settings.mlruns_dir))


def experiment_id(settings: Settings, kind: str) -> str:
    """Experiment per job family, with artifacts under mlruns/ whatever the working dir."""
    client = mlflow_client(settings)
    name = EXPERIMENTS[kind]
    found = client.get_experiment_by_name(name)
    if found is not None:
        return found.experiment_id
    location = (settings.mlruns_dir / "artifacts" / name).as_uri()
    try:
        return client.create_experiment(name, artifact_location=location)
    except mlflow.exceptions.MlflowException:
        # Another process created it between our read and write.
        found = client.get_experiment_by_name(name)
        if found is None:
            raise
        return found.experiment_id


def start_job_run(
    settings: Settings,
    *,
    kind: str,
    job_id: str,
    flow_run_id: str,
    run_name: str,
    params: dict[str, Any],
    tags: dict[str, str] | None = None,
) -> str:
    """Create the job's MLflow run, tagged so the job, the flow run and the run find each other."""
    client = mlflow_client(settings)
    all_tags = {
        TAG_JOB_ID: job_id,
        TAG_FLOW_RUN_ID: flow_run_id,
        TAG_KIND: kind,
        "mlflow.runName": run_name,
        **(tags or {}),
    }
    try:
        run = client.create_run(experiment_id(settings, kind), run_name=run_name, tags=all_tags)
    except mlflow.exceptions.MlflowException as exc:
        raise DependencyUnavailableError(f"MLflow store unavailable: {exc}") from exc
    run_id = run.info.run_id
    client.log_batch(
        run_id,
        params=[Param(k, str(v)[:6000]) for k, v in sorted(params.items())],
        synchronous=True,
    )
    return run_id


def log_step_metrics(settings: Settings, run_id: str, step: int, metrics: dict[str, float]) -> None:
    """One batched write per epoch/checkpoint (a call per metric costs ~4 ms each on sqlite)."""
    now = int(time.time() * 1000)
    batch = [Metric(k, float(v), now, step) for k, v in metrics.items() if v is not None]
    mlflow_client(settings).log_batch(run_id, metrics=batch, synchronous=True)


def set_tags(settings: Settings, run_id: str, tags: dict[str, str]) -> None:
    mlflow_client(settings).log_batch(
        run_id, tags=[RunTag(k, v) for k, v in tags.items()], synchronous=True
    )


def log_bundle(settings: Settings, run_id: str, bundle_dir: Path) -> None:
    """The job bundle as run artifacts under `bundle/`, so the MLflow UI shows the source."""
    mlflow_client(settings).log_artifacts(run_id, str(bundle_dir), artifact_path="bundle")


def end_job_run(settings: Settings, run_id: str, status: str) -> None:
    """status: FINISHED, FAILED or KILLED."""
    mlflow_client(settings).set_terminated(run_id, status=status)


def find_job_run(settings: Settings, job_id: str, kind: str) -> str | None:
    runs = mlflow_client(settings).search_runs(
        [experiment_id(settings, kind)],
        filter_string=f"tags.`{TAG_JOB_ID}` = '{job_id}'",
        max_results=1,
    )
    return runs[0].info.run_id if runs else None
