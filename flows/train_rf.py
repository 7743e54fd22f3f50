"""Prefect flow `train-rf`: validate → fetch_dataset → compile → train → evaluate → save.

The forest grows in steps (warm_start) so `rf_progress` events are real progress.
"""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run as current_run
from prefect.states import Cancelled, Completed, State

from flows.job_context import JobContext, dataset_retry_condition, readable_run_name
from mlcanvas.datasets.feature_table import FeatureTable
from mlcanvas.datasets.registry import RFDatasetSpec
from mlcanvas.datasets.rf_datasets import load_rf_table, split_table
from mlcanvas.graph import RFGraph
from mlcanvas.jobs.bundle import ARTIFACT
from mlcanvas.jobs.rf_prepare import PreparedRF, prepare_rf_training
from mlcanvas.rf import RFProgress, RFResult, train_forest
from mlcanvas.rf.artifact import save_rf_artifact
from mlcanvas.tracking.models import log_sklearn_model


@task(cache_policy=NO_CACHE, persist_result=False)
def validate(graph: dict[str, Any]) -> tuple[PreparedRF, RFDatasetSpec]:
    return prepare_rf_training(RFGraph.model_validate(graph))


@task(
    cache_policy=NO_CACHE,
    persist_result=False,
    retries=2,
    retry_delay_seconds=2,
    retry_condition_fn=dataset_retry_condition,
)
def fetch_dataset(dataset_id: str) -> FeatureTable:
    return load_rf_table(dataset_id)


@task(name="compile", cache_policy=NO_CACHE, persist_result=False)
def split(table: FeatureTable, prepared: PreparedRF) -> tuple[Any, Any, Any, Any]:
    """The forest is built inside train (warm_start); compile fixes the split it sees."""
    cfg = prepared.training
    return split_table(
        table, test_size=cfg.test_size, random_state=cfg.random_state, stratify=cfg.stratify
    )


@task(cache_policy=NO_CACHE, persist_result=False)
def train(
    parts: tuple[Any, Any, Any, Any], table: FeatureTable, prepared: PreparedRF, job: JobContext
) -> RFResult | None:
    logger = get_run_logger()
    x_train, x_test, y_train, y_test = parts
    result: RFResult | None = None
    with job.stop_watch() as stop:
        for item in train_forest(
            x_train,
            y_train,
            x_test,
            y_test,
            hyperparameters=prepared.hyperparameters,
            log_every_trees=prepared.training.log_every_trees,
            class_names=list(table.class_names),
            feature_names=list(table.feature_names),
            should_stop=stop.is_set,
        ):
            if isinstance(item, RFProgress):
                job.emit("rf_progress", item.to_message())
                metrics = {
                    "train_accuracy": item.train_accuracy,
                    "test_accuracy": item.test_accuracy,
                }
                if item.oob_score is not None:
                    metrics["oob_score"] = item.oob_score
                job.recorder.log_metrics(item.trees_built, metrics)
                logger.info(
                    "%d/%d trees: test_accuracy=%.4f",
                    item.trees_built,
                    item.total_trees,
                    item.test_accuracy,
                )
            else:
                result = item
        job.stop_reason = stop.reason
    return result


@task(name="evaluate", cache_policy=NO_CACHE, persist_result=False)
def evaluate(result: RFResult | None) -> dict[str, float]:
    if result is None:
        return {"final_train_accuracy": 0.0, "final_test_accuracy": 0.0}
    return {
        "final_train_accuracy": result.final_train_accuracy,
        "final_test_accuracy": result.final_test_accuracy,
    }


@task(cache_policy=NO_CACHE, persist_result=False)
def save(
    result: RFResult | None, table: FeatureTable, prepared: PreparedRF, job: JobContext
) -> tuple[str | None, str | None]:
    """model.pkl with its digest recorded in metadata.json, checked before any load."""
    if result is None:
        return None, None
    path = job.folder / ARTIFACT["rf"]
    digest = save_rf_artifact(
        path,
        model=result.model,
        dataset=prepared.training.dataset,
        feature_names=list(table.feature_names),
        class_names=list(table.class_names),
        hyperparameters=prepared.hyperparameters.model_dump(),
    )
    return str(path), digest


@flow(name="train-rf", flow_run_name=readable_run_name, persist_result=False, log_prints=False)
def train_rf(graph: dict[str, Any]) -> State:
    """Grow the canvas forest on its dataset; the run's id (hex) is the job id."""
    job = JobContext.open(kind="rf", flow_run_id=str(current_run.id), graph=graph)
    with job.guard():
        prepared, _spec = validate(graph)
        job.start(
            prepared.graph_json,
            prepared.training.model_dump(),
            summary=prepared.summary,
            python_source=prepared.python_source,
            warnings=[],
            params={**prepared.training.model_dump(), **prepared.hyperparameters.model_dump()},
        )
        table = fetch_dataset(prepared.training.dataset)
        parts = split(table, prepared)
        result = train(parts, table, prepared, job)
        metrics = evaluate(result)
        model_path, digest = save(result, table, prepared, job)
        status = job.finish_ok(
            final_metrics=metrics,
            artifact_path=model_path,
            sha256=digest,
            # Stopped before the first checkpoint: no result, the stream just ends (§6).
            terminal_event=None if result is None else ("rf_done", result.to_message(model_path)),
            log_model=None
            if result is None
            else lambda run_id: log_sklearn_model(
                job.settings,
                run_id,
                result.model,
                feature_count=prepared.feature_count,
                num_classes=prepared.num_classes,
            ),
        )
        if result is None:
            return Completed(name="Stopped", message="Stopped before the first checkpoint.")
        if status == "stopped" and job.stop_reason == "prefect_cancel":
            return Cancelled(message="Cancelled from Prefect; forest so far saved.")
        if status == "stopped":
            return Completed(name="Stopped", message="Stopped by request; forest so far saved.")
        return Completed(message="Training completed.")
