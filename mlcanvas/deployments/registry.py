"""Deployments as MLflow registry entries: the only module here that talks to MLflow.

Per family a registered model (`mlcanvas-nn`, `mlcanvas-rf`); per finished job one model
version made from the job run's logged model (reused by every deployment of that job); per
deployment an alias `d-<deployment_id>` on that version, readable version tags
(`mlcanvas.deployment.<id>.name`/`.status`) and the whole record as JSON in the registered
model tag `deployment.<id>`, so the MLflow UI shows what is deployed and a restart reads it back.

MLflow is imported by the first registry call, not with this module: the API builds its
deployment store at start-up and, until a deployment is written, needs no MLflow (~160 MiB).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from mlcanvas.deployments.record import Deployment
from mlcanvas.errors import DependencyUnavailableError, NotFoundError
from mlcanvas.settings import Settings

if TYPE_CHECKING:
    from mlflow.tracking import MlflowClient

log = logging.getLogger(__name__)

REGISTERED_MODELS: dict[str, str] = {"nn": "mlcanvas-nn", "rf": "mlcanvas-rf"}
RECORD_TAG_PREFIX = "deployment."
VERSION_TAG_PREFIX = "mlcanvas.deployment."
LOGGED_MODEL_NAME = "model"
_MISSING = "RESOURCE_DOES_NOT_EXIST"
_EXISTS = "RESOURCE_ALREADY_EXISTS"


@contextmanager
def _registry_errors() -> Iterator[None]:
    """MLflow failures become our DependencyUnavailableError, chained."""
    from mlflow.exceptions import MlflowException

    try:
        yield
    except MlflowException as exc:
        raise DependencyUnavailableError(f"MLflow registry error: {exc.message}") from exc


class DeploymentRegistry:
    """Reads and writes deployment records in the registry of `settings.tracking_uri`."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @property
    def client(self) -> MlflowClient:
        from mlcanvas.tracking.runs import mlflow_client

        return mlflow_client(self.settings)

    def register_job_model(self, kind: str, job_id: str) -> tuple[str, str]:
        """(registered model name, version) of the job's logged model; a job has one version,
        reused by all its deployments. NotFoundError when the job has no run or no model."""
        from mlcanvas.tracking.runs import TAG_JOB_ID, TAG_KIND, find_job_run

        name = REGISTERED_MODELS[kind]
        with _registry_errors():
            run_id = find_job_run(self.settings, job_id, kind)
            if run_id is None:
                raise NotFoundError(f"No MLflow run found for job_id: {job_id}", job_id=job_id)
            self._ensure_registered_model(name, kind)
            existing = self.client.search_model_versions(f"name = '{name}' and run_id = '{run_id}'")
            if existing:
                return name, str(min(int(v.version) for v in existing))
            model_id = self._logged_model_id(kind, job_id, run_id)
            version = self.client.create_model_version(
                name,
                source=f"models:/{model_id}",
                run_id=run_id,
                model_id=model_id,
                tags={TAG_JOB_ID: job_id, TAG_KIND: kind},
                description=f"Model of MLCanvas {kind.upper()} job {job_id}",
            )
        log.info("registered %s version %s for job %s", name, version.version, job_id)
        return name, str(version.version)

    def _ensure_registered_model(self, name: str, kind: str) -> None:
        from mlflow.exceptions import MlflowException

        from mlcanvas.tracking.runs import TAG_KIND

        try:
            self.client.get_registered_model(name)
        except MlflowException as exc:
            if exc.error_code != _MISSING:
                raise
            try:
                self.client.create_registered_model(
                    name,
                    tags={TAG_KIND: kind},
                    description=f"Deployed MLCanvas {kind.upper()} models; "
                    "one alias `d-<deployment_id>` per deployment.",
                )
            except MlflowException as race:  # another writer created it first
                if race.error_code != _EXISTS:
                    raise

    def _logged_model_id(self, kind: str, job_id: str, run_id: str) -> str:
        from mlcanvas.tracking.runs import experiment_id

        found = self.client.search_logged_models(
            [experiment_id(self.settings, kind)],
            filter_string=f"source_run_id = '{run_id}' AND name = '{LOGGED_MODEL_NAME}'",
            max_results=1,
        )
        if not found:
            raise NotFoundError(f"No MLflow model logged for job_id: {job_id}", job_id=job_id)
        return str(found[0].model_id)

    def save(self, record: Deployment, *, set_alias: bool = False) -> None:
        """Write the record tag and the readable version tags (and the alias when asked)."""
        prefix = f"{VERSION_TAG_PREFIX}{record.deployment_id}"
        name, version = record.model_name, record.model_version
        with _registry_errors():
            if set_alias:
                self.client.set_registered_model_alias(name, record.alias, version)
            self.client.set_model_version_tag(name, version, f"{prefix}.status", record.status)
            if record.name:
                self.client.set_model_version_tag(name, version, f"{prefix}.name", record.name)
            self.save_record(record)

    def save_record(self, record: Deployment) -> None:
        """Only the record tag: what a counter flush needs."""
        key = f"{RECORD_TAG_PREFIX}{record.deployment_id}"
        with _registry_errors():
            self.client.set_registered_model_tag(record.model_name, key, record.to_json())

    def load_all(self) -> list[Deployment]:
        """Every stored record of both families; unreadable tags are logged and skipped."""
        from mlflow.exceptions import MlflowException

        records = []
        with _registry_errors():
            for name in REGISTERED_MODELS.values():
                try:
                    tags = self.client.get_registered_model(name).tags
                except MlflowException as exc:
                    if exc.error_code == _MISSING:
                        continue
                    raise
                for key, value in tags.items():
                    if not key.startswith(RECORD_TAG_PREFIX):
                        continue
                    try:
                        records.append(Deployment.from_json(value))
                    except (ValueError, TypeError, KeyError) as exc:
                        log.warning("skipping unreadable tag %s on %s: %s", key, name, exc)
        return records

    def resolve_version(self, record: Deployment) -> str:
        """The version the deployment's alias points at; NotFoundError if it is gone."""
        from mlflow.exceptions import MlflowException

        try:
            version = self.client.get_model_version_by_alias(record.model_name, record.alias)
        except MlflowException as exc:
            if exc.error_code in (_MISSING, "INVALID_PARAMETER_VALUE"):
                raise NotFoundError(
                    f"Model version of deployment {record.deployment_id} is missing from the "
                    f"registry ({record.model_uri})",
                    deployment_id=record.deployment_id,
                ) from exc
            raise DependencyUnavailableError(f"MLflow registry error: {exc.message}") from exc
        return str(version.version)
