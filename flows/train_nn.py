"""Prefect flow `train-nn`: validate → fetch_dataset → compile → train → evaluate → save.

Orchestration only: every task is a few lines over `mlcanvas`. Epochs are not tasks; they are
job events (for websockets) and MLflow metrics (for comparing runs).
"""

from __future__ import annotations

from typing import Any

import torch
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run as current_run
from prefect.states import Cancelled, Completed, State

from flows.job_context import JobContext, dataset_retry_condition, readable_run_name
from mlcanvas.compile.module import build_module
from mlcanvas.compile.weights_io import save_state_dict
from mlcanvas.datasets.nn_datasets import load_nn_dataset
from mlcanvas.datasets.tensors import TensorSplit
from mlcanvas.graph import NNGraph
from mlcanvas.jobs.bundle import ARTIFACT
from mlcanvas.jobs.nn_prepare import PreparedNN, prepare_nn_training
from mlcanvas.tracking.models import log_torch_model
from mlcanvas.training import (
    EpochEvent,
    evaluate,
    make_loss,
    pick_device,
    seed_everything,
    train_model,
)


@task(cache_policy=NO_CACHE, persist_result=False)
def validate(graph: dict[str, Any]) -> PreparedNN:
    return prepare_nn_training(NNGraph.model_validate(graph))


@task(
    cache_policy=NO_CACHE,
    persist_result=False,
    retries=2,
    retry_delay_seconds=2,
    retry_condition_fn=dataset_retry_condition,
)
def fetch_dataset(dataset_id: str) -> TensorSplit:
    """The only step that may touch the network (Kaggle), hence the only one with retries."""
    return load_nn_dataset(dataset_id)


@task(name="compile", cache_policy=NO_CACHE, persist_result=False)
def compile_model(prepared: PreparedNN) -> torch.nn.Module:
    seed_everything(prepared.training.seed)
    return build_module(prepared.layers)


@task(cache_policy=NO_CACHE, persist_result=False)
def train(
    module: torch.nn.Module, data: TensorSplit, prepared: PreparedNN, job: JobContext
) -> EpochEvent | None:
    """Runs the loop; each epoch becomes a job event and one batched MLflow write."""
    logger = get_run_logger()
    last: EpochEvent | None = None
    device = pick_device()
    logger.info("training on %s for %d epochs", device, prepared.training.epochs)
    with job.stop_watch() as stop:
        for event in train_model(
            module, data, prepared.training, device=device, should_stop=stop.is_set
        ):
            last = event
            job.emit("epoch_update", event.to_message())
            job.recorder.log_metrics(event.epoch, _epoch_metrics(event))
            logger.info(
                "epoch %d: train_loss=%.4f test_accuracy=%.4f%s",
                event.epoch,
                event.train_loss,
                event.test_accuracy,
                " (stopped)" if event.stopped else "",
            )
        job.stop_reason = stop.reason
    return last


@task(name="evaluate", cache_policy=NO_CACHE, persist_result=False)
def evaluate_model(
    module: torch.nn.Module, data: TensorSplit, prepared: PreparedNN, last: EpochEvent | None
) -> dict[str, float]:
    """Final metrics: test split on the final weights; train figures from the last epoch."""
    loss = make_loss(prepared.training.loss, prepared.num_classes)
    test_loss, test_acc = evaluate(module, data.x_test, data.y_test, loss=loss, batch_size=4096)
    if last is not None:
        train_loss, train_acc = last.train_loss, last.train_accuracy
    else:
        train_loss, train_acc = evaluate(
            module, data.x_train, data.y_train, loss=loss, batch_size=4096
        )
    return {
        "final_train_loss": train_loss,
        "final_train_accuracy": train_acc,
        "final_test_loss": test_loss,
        "final_test_accuracy": test_acc,
        "final_loss": test_loss,
        "final_accuracy": test_acc,
    }


@task(cache_policy=NO_CACHE, persist_result=False)
def save(module: torch.nn.Module, job: JobContext, trained: bool) -> str | None:
    """model.pt, only if any batch trained: an untrained model is never deployable."""
    if not trained:
        return None
    path = job.folder / ARTIFACT["nn"]
    save_state_dict(module, path)
    return str(path)


def _epoch_metrics(event: EpochEvent) -> dict[str, float]:
    return {
        "train_loss": event.train_loss,
        "train_accuracy": event.train_accuracy,
        "test_loss": event.test_loss,
        "test_accuracy": event.test_accuracy,
    }


@flow(
    name="train-nn",
    flow_run_name=readable_run_name,
    persist_result=False,
    log_prints=False,
)
def train_nn(graph: dict[str, Any]) -> State:
    """Train the canvas graph on its dataset; the run's id (hex) is the job id."""
    job = JobContext.open(kind="nn", flow_run_id=str(current_run.id), graph=graph)
    with job.guard():
        prepared = validate(graph)
        job.start(
            prepared.graph_json,
            prepared.training.model_dump(),
            summary=prepared.summary,
            python_source=prepared.python_source,
            warnings=prepared.warnings,
            params={
                **prepared.training.model_dump(),
                "total_params": prepared.summary["param_count"],
            },
        )
        data = fetch_dataset(prepared.training.dataset)
        module = compile_model(prepared)
        last = train(module, data, prepared, job)
        metrics = evaluate_model(module, data, prepared, last)
        model_path = save(module, job, trained=last is not None)
        status = job.finish_ok(
            final_metrics=metrics,
            artifact_path=model_path,
            terminal_event=("training_done", {"model_path": model_path, **metrics}),
            log_model=lambda run_id: log_torch_model(
                job.settings,
                run_id,
                module,
                input_shape=prepared.input_shape,
                num_classes=prepared.num_classes,
            ),
        )
        if status == "stopped" and job.stop_reason == "prefect_cancel":
            return Cancelled(message="Cancelled from Prefect; partial model saved.")
        if status == "stopped":
            return Completed(name="Stopped", message="Stopped by request; partial model saved.")
        return Completed(message="Training completed.")
