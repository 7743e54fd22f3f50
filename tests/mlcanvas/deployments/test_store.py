"""DeploymentStore on a real sqlite MLflow store with real logged models (torch and sklearn)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch
from mlflow.tracking import MlflowClient
from sklearn.ensemble import RandomForestClassifier

from mlcanvas.deployments.log_book import DeploymentLogBook
from mlcanvas.deployments.record import RUNNING, STOPPED, Deployment
from mlcanvas.deployments.registry import DeploymentRegistry
from mlcanvas.deployments.restore_child import restore_in_child
from mlcanvas.deployments.store import DeploymentStore, Use
from mlcanvas.errors import DependencyUnavailableError, NotFoundError
from mlcanvas.settings import Settings
from mlcanvas.tracking.models import log_sklearn_model, log_torch_model
from mlcanvas.tracking.runs import mlflow_client, start_job_run

NN_JOB = "1" * 32
NN_JOB_2 = "2" * 32
RF_JOB = "3" * 32
NO_MODEL_JOB = "4" * 32
NO_RUN_JOB = "5" * 32


@dataclass(frozen=True)
class Registry:
    settings: Settings
    client: MlflowClient


def start_run(settings: Settings, kind: str, job_id: str) -> str:
    return start_job_run(
        settings,
        kind=kind,
        job_id=job_id,
        flow_run_id=job_id,
        run_name=f"run-{job_id[:4]}",
        params={},
    )


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Registry:
    """One sqlite store per module (store set-up costs ~1 s): two torch jobs, a forest job,
    and a job whose run has no model."""
    root = tmp_path_factory.mktemp("deployments")
    settings = Settings(data_dir=root / "data", mlruns_dir=root / "mlruns")
    torch.manual_seed(0)
    for job_id in (NN_JOB, NN_JOB_2):
        module = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4, 3)).eval()
        log_torch_model(
            settings, start_run(settings, "nn", job_id), module, input_shape=[4], num_classes=3
        )
    forest = RandomForestClassifier(n_estimators=2, random_state=0).fit(
        [[0, 0], [1, 1], [0, 1], [1, 0]], [0, 1, 0, 1]
    )
    log_sklearn_model(
        settings, start_run(settings, "rf", RF_JOB), forest, feature_count=2, num_classes=2
    )
    start_run(settings, "nn", NO_MODEL_JOB)
    return Registry(settings, mlflow_client(settings))


@pytest.fixture
def open_store(registry: Registry, tmp_path: Path) -> Callable[[], DeploymentStore]:
    """A store per 'process': the registry is shared, the log database is per test."""
    stores: list[DeploymentStore] = []

    def make() -> DeploymentStore:
        book = DeploymentLogBook.for_url(f"sqlite:///{tmp_path / 'events.db'}")
        store = DeploymentStore(DeploymentRegistry(registry.settings), book)
        stores.append(store)
        return store

    yield make
    for store in stores:
        store.close()


def stored_record(client: MlflowClient, record: Deployment) -> dict:
    tags = client.get_registered_model(record.model_name).tags
    return json.loads(tags[f"deployment.{record.deployment_id}"])


def test_create_registers_a_version_with_alias_and_tags(
    registry: Registry, open_store: Callable[[], DeploymentStore]
) -> None:
    store = open_store()
    record = store.create(job_id=NN_JOB, kind="nn", name="  digits-11111111 ", target="local")
    assert record.status == RUNNING and record.request_count == 0 and record.last_used_at is None
    assert record.name == "digits-11111111"
    assert record.endpoint_path == f"/api/deploy/{record.deployment_id}/infer"
    assert record.model_name == "mlcanvas-nn"
    assert record.model_uri == f"models:/mlcanvas-nn@d-{record.deployment_id}"
    version = registry.client.get_model_version_by_alias("mlcanvas-nn", record.alias)
    assert str(version.version) == record.model_version
    assert version.tags[f"mlcanvas.deployment.{record.deployment_id}.status"] == "running"
    assert version.tags[f"mlcanvas.deployment.{record.deployment_id}.name"] == "digits-11111111"
    assert version.tags["mlcanvas.job_id"] == NN_JOB
    assert stored_record(registry.client, record)["status"] == "running"
    assert [e.event for e in store.logs(record.deployment_id, 10)] == ["deployment_created"]
    assert store.logs(record.deployment_id, 10)[0].details == {
        "job_id": NN_JOB,
        "target": "local",
        "endpoint_path": record.endpoint_path,
    }


def test_deployments_of_one_job_share_its_version(
    registry: Registry, open_store: Callable[[], DeploymentStore]
) -> None:
    store = open_store()
    first = store.create(job_id=NN_JOB_2, kind="nn", name=None, target="local")
    second = store.create(job_id=NN_JOB_2, kind="nn", name=None, target="local")
    assert first.deployment_id != second.deployment_id
    assert first.model_version == second.model_version
    assert [d.deployment_id for d in store.list()][:2] == [
        second.deployment_id,
        first.deployment_id,
    ]


def test_a_forest_job_is_registered_in_its_own_family(
    registry: Registry, open_store: Callable[[], DeploymentStore]
) -> None:
    record = open_store().create(job_id=RF_JOB, kind="rf", name="iris", target="local")
    assert record.kind == "rf" and record.model_name == "mlcanvas-rf"
    source = registry.client.get_model_version("mlcanvas-rf", record.model_version).source
    assert source.startswith("models:/m-")


def test_jobs_without_run_or_model_are_not_found(open_store: Callable[[], DeploymentStore]) -> None:
    store = open_store()
    with pytest.raises(NotFoundError, match="No MLflow run found for job_id"):
        store.create(job_id=NO_RUN_JOB, kind="nn", name=None, target="local")
    with pytest.raises(NotFoundError, match="No MLflow model logged for job_id"):
        store.create(job_id=NO_MODEL_JOB, kind="nn", name=None, target="local")


def test_unknown_and_malformed_ids_are_not_found(open_store: Callable[[], DeploymentStore]) -> None:
    store = open_store()
    for bad in ("f" * 32, "../etc", "A" * 32):
        with pytest.raises(NotFoundError, match=f"Unknown deployment_id: {bad}"):
            store.get(bad)


def test_use_is_counted_in_memory_and_flushed(
    registry: Registry, open_store: Callable[[], DeploymentStore]
) -> None:
    store = open_store()
    record = store.create(job_id=NN_JOB, kind="nn", name=None, target="local")
    store.record_uses([Use(record.deployment_id, [2, 4], [2, 3], 2)] * 2)  # one batch
    store.record_uses([Use(record.deployment_id, [2, 4], [2, 3], 2)])
    current = store.get(record.deployment_id)
    assert current.request_count == 3 and current.last_used_at is not None
    assert stored_record(registry.client, record)["request_count"] == 0  # not written yet
    store.flush()
    assert stored_record(registry.client, record)["request_count"] == 3
    entries = store.logs(record.deployment_id, 3)
    assert [e.details and e.details["request_count"] for e in entries] == [1, 2, 3]
    last = entries[-1]
    assert last.event == "inference_request"
    assert last.details == {
        "request_count": 3,
        "input_shape": [2, 4],
        "output_shape": [2, 3],
        "prediction_count": 2,
    }


def test_background_flush_writes_counters(
    registry: Registry, open_store: Callable[[], DeploymentStore]
) -> None:
    store = open_store()
    record = store.create(job_id=NN_JOB, kind="nn", name=None, target="local")
    store.start_background_flush(interval=0.05)
    store.record_uses([Use(record.deployment_id, [1, 4], [1, 3], 1)])
    deadline = time.monotonic() + 10
    while stored_record(registry.client, record)["request_count"] != 1:
        assert time.monotonic() < deadline, "counter never flushed"
        time.sleep(0.05)


def test_stop_start_and_restart(
    registry: Registry, open_store: Callable[[], DeploymentStore]
) -> None:
    store = open_store()
    running = store.create(job_id=NN_JOB, kind="nn", name="a", target="local")
    stopped = store.create(job_id=NN_JOB, kind="nn", name="b", target="local")
    assert store.delete(stopped.deployment_id).status == STOPPED
    assert store.delete(stopped.deployment_id).status == STOPPED  # repeatable, logged once
    store.record_uses([Use(running.deployment_id, [1, 4], [1, 3], 1)])
    store.close()  # shutdown flushes

    after = open_store()
    restored = after.restore()
    assert running.deployment_id in {r.deployment_id for r in restored}
    assert stopped.deployment_id not in {r.deployment_id for r in restored}
    back = after.get(running.deployment_id)
    assert back.status == STOPPED and back.request_count == 1 and back.last_used_at is not None
    assert [e.event for e in after.logs(running.deployment_id, 10)] == [
        "deployment_created",
        "inference_request",
        "deployment_restored_stopped",
    ]
    assert after.logs(running.deployment_id, 10)[-1].details == {"reason": "in_memory_runtime_lost"}
    assert [e.event for e in after.logs(stopped.deployment_id, 10)] == [
        "deployment_created",
        "deployment_stopped",
    ]
    assert after.resolve_version(running.deployment_id) == running.model_version
    assert after.set_status(running.deployment_id, RUNNING).status == RUNNING
    assert after.logs(running.deployment_id, 1)[0].event == "deployment_started"
    version = registry.client.get_model_version("mlcanvas-nn", running.model_version)
    assert version.tags[f"mlcanvas.deployment.{running.deployment_id}.status"] == "running"
    assert stored_record(registry.client, running)["status"] == "running"


def test_a_child_process_restores_for_the_api(registry: Registry, tmp_path: Path) -> None:
    """What the API does at start-up: the child restores, the new store adopts its records."""
    settings = registry.settings.model_copy(
        update={"event_store_url": f"sqlite:///{tmp_path / 'events.db'}"}
    )
    before = DeploymentStore.open(settings)
    running = before.create(job_id=NN_JOB, kind="nn", name="a", target="local")
    before.record_uses([Use(running.deployment_id, [1, 4], [1, 3], 1)])
    before.close()

    after = DeploymentStore.open(settings)
    after.adopt(restore_in_child(settings))
    assert after.is_restored
    back = after.get(running.deployment_id)
    assert back.status == STOPPED and back.request_count == 1 and back.name == "a"
    assert stored_record(registry.client, running)["status"] == "stopped"
    assert [e.event for e in after.logs(running.deployment_id, 10)] == [
        "deployment_created",
        "inference_request",
        "deployment_restored_stopped",
    ]
    after.close()


def test_a_failed_child_restore_names_the_problem(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    broken = Settings(
        data_dir=tmp_path / "data",
        mlruns_dir=tmp_path / "mlruns",
        mlflow_tracking_uri=f"sqlite:///{tmp_path / 'a-file' / 'mlflow.db'}",
    )
    with pytest.raises(DependencyUnavailableError) as failed:
        restore_in_child(broken)
    assert failed.value.message.startswith("Restoring deployments failed: ")
    assert "Error: " in failed.value.message  # the child's exception, named
