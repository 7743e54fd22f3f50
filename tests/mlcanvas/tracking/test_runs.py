"""One MLflow run per job on a real sqlite store: tags, params, metrics, bundle, status."""

from __future__ import annotations

from pathlib import Path
from uuid import uuid4

import pytest
from mlflow.tracking import MlflowClient

from mlcanvas.errors import DependencyUnavailableError
from mlcanvas.settings import Settings
from mlcanvas.tracking.runs import (
    TAG_FLOW_RUN_ID,
    TAG_JOB_ID,
    TAG_KIND,
    end_job_run,
    experiment_id,
    find_job_run,
    log_bundle,
    log_step_metrics,
    mlflow_client,
    set_tags,
    start_job_run,
)


def _start(store: Settings, kind: str = "nn", **params: object) -> tuple[str, str]:
    job_id = uuid4().hex
    run_id = start_job_run(
        store,
        kind=kind,
        job_id=job_id,
        flow_run_id=f"flow-{job_id}",
        run_name=f"digits-mlp-2-{job_id[:8]}",
        params=params,
        tags={"extra": "yes"},
    )
    return job_id, run_id


def test_each_family_has_one_experiment_with_artifacts_under_mlruns(
    store: Settings, client: MlflowClient
) -> None:
    nn, rf = experiment_id(store, "nn"), experiment_id(store, "rf")

    assert nn != rf
    assert experiment_id(store, "nn") == nn  # found, not created again
    experiment = client.get_experiment(nn)
    assert experiment.name == "mlcanvas-nn"
    assert experiment.artifact_location == (store.mlruns_dir / "artifacts" / "mlcanvas-nn").as_uri()


def test_a_job_run_is_tagged_so_job_flow_run_and_run_find_each_other(
    store: Settings, client: MlflowClient
) -> None:
    job_id, run_id = _start(store, "rf", n_estimators=30, note="x" * 7000)

    run = client.get_run(run_id)

    assert run.info.run_name == f"digits-mlp-2-{job_id[:8]}"
    assert run.info.experiment_id == experiment_id(store, "rf")
    assert run.info.status == "RUNNING"
    assert run.data.tags[TAG_JOB_ID] == job_id
    assert run.data.tags[TAG_FLOW_RUN_ID] == f"flow-{job_id}"
    assert run.data.tags[TAG_KIND] == "rf"
    assert run.data.tags["extra"] == "yes"
    assert run.data.params["n_estimators"] == "30"
    assert run.data.params["note"] == "x" * 6000  # long values are cut to MLflow's limit
    assert find_job_run(store, job_id, "rf") == run_id
    assert find_job_run(store, job_id, "nn") is None
    assert find_job_run(store, uuid4().hex, "rf") is None


def test_step_metrics_are_one_batch_per_step_and_skip_missing_values(
    store: Settings, client: MlflowClient
) -> None:
    _, run_id = _start(store)

    log_step_metrics(store, run_id, 1, {"loss": 0.9, "accuracy": None})
    log_step_metrics(store, run_id, 2, {"loss": 0.5, "accuracy": 0.8})

    assert [(m.step, m.value) for m in client.get_metric_history(run_id, "loss")] == [
        (1, 0.9),
        (2, 0.5),
    ]
    assert [(m.step, m.value) for m in client.get_metric_history(run_id, "accuracy")] == [(2, 0.8)]


def test_tags_bundle_and_end_status(store: Settings, client: MlflowClient, tmp_path: Path) -> None:
    _, run_id = _start(store)
    (tmp_path / "model.py").write_text("class GeneratedModel: ...\n")
    (tmp_path / "graph.json").write_text("{}\n")

    set_tags(store, run_id, {"mlcanvas.status": "completed"})
    log_bundle(store, run_id, tmp_path)
    end_job_run(store, run_id, "KILLED")

    run = client.get_run(run_id)
    assert run.data.tags["mlcanvas.status"] == "completed"
    assert run.info.status == "KILLED"
    assert sorted(a.path for a in client.list_artifacts(run_id, "bundle")) == [
        "bundle/graph.json",
        "bundle/model.py",
    ]


def test_the_client_creates_the_mlruns_folder(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path / "data",
        mlruns_dir=tmp_path / "new" / "mlruns",
        mlflow_tracking_uri="http://127.0.0.1:9/",  # no store is built until used
        _env_file=None,
    )

    mlflow_client(settings)

    assert settings.mlruns_dir.is_dir()


def test_an_unreachable_store_is_a_dependency_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "2")
    unreachable = Settings(
        data_dir=tmp_path / "data",
        mlruns_dir=tmp_path / "mlruns",
        mlflow_tracking_uri="http://127.0.0.1:9/",  # the discard port: nothing listens
        _env_file=None,
    )

    with pytest.raises(DependencyUnavailableError, match="MLflow store unavailable"):
        _start(unreachable)
