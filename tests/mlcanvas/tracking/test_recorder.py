"""RunRecorder writes a job's MLflow run from its own thread, in order, and surfaces errors."""

from __future__ import annotations

import logging
from uuid import uuid4

import pytest
from mlflow.tracking import MlflowClient

from mlcanvas.settings import Settings
from mlcanvas.tracking.recorder import RunRecorder
from mlcanvas.tracking.runs import TAG_JOB_ID


def _recorder(store: Settings, kind: str = "nn") -> tuple[str, RunRecorder]:
    job_id = uuid4().hex
    recorder = RunRecorder(
        store,
        kind=kind,
        job_id=job_id,
        flow_run_id=f"flow-{job_id}",
        run_name=f"digits-mlp-2-{job_id[:8]}",
        params={"epochs": 5},
    )
    return job_id, recorder


def test_metrics_arrive_in_order_with_their_steps_and_finish_marks_the_run(
    store: Settings, client: MlflowClient
) -> None:
    job_id, recorder = _recorder(store)
    for epoch in range(1, 6):
        recorder.log_metrics(epoch, {"loss": 1.0 / epoch, "accuracy": epoch / 10})

    run_id = recorder.finish("FINISHED")

    run = client.get_run(run_id)
    assert run.info.status == "FINISHED"
    assert run.data.tags[TAG_JOB_ID] == job_id and run.data.params == {"epochs": "5"}
    history = client.get_metric_history(run_id, "loss")
    assert [(m.step, m.value) for m in history] == [(e, 1.0 / e) for e in range(1, 6)]
    assert [m.step for m in client.get_metric_history(run_id, "accuracy")] == [1, 2, 3, 4, 5]
    assert not recorder._thread.is_alive()


def test_call_runs_after_everything_queued_and_waits(store: Settings, client: MlflowClient) -> None:
    _, recorder = _recorder(store)
    for step in range(3):
        recorder.log_metrics(step, {"loss": float(step)})
    seen: list[int] = []

    recorder.call(lambda run_id: seen.append(len(client.get_metric_history(run_id, "loss"))))

    assert seen == [3]
    assert client.get_run(recorder.finish("KILLED")).info.status == "KILLED"


def test_a_failed_start_surfaces_in_the_callers_thread(store: Settings) -> None:
    _, recorder = _recorder(store, kind="unknown-family")
    recorder.log_metrics(1, {"loss": 1.0})  # queued, then skipped

    with pytest.raises(KeyError, match="unknown-family"):
        _ = recorder.run_id
    with pytest.raises(KeyError):
        recorder.finish("FAILED")
    assert not recorder._thread.is_alive()


def test_a_failed_write_is_logged_and_raised_by_the_next_wait(
    store: Settings, client: MlflowClient, caplog: pytest.LogCaptureFixture
) -> None:
    _, recorder = _recorder(store)
    run_id = recorder.run_id
    recorder.log_metrics(1, {"loss": 0.5})
    recorder.log_metrics(2, {"loss": "not a number"})  # type: ignore[dict-item]
    recorder.log_metrics(3, {"loss": 0.1})  # skipped after the failure

    with caplog.at_level(logging.ERROR, logger="mlcanvas.tracking.recorder"):
        with pytest.raises(ValueError, match="not a number"):
            recorder.finish("FINISHED")

    assert "MLflow write failed" in caplog.text
    assert not recorder._thread.is_alive()  # the writer thread still ends
    assert [m.step for m in client.get_metric_history(run_id, "loss")] == [1]
    with pytest.raises(ValueError):
        _ = recorder.run_id
