"""The one settings object: `MLCANVAS_*` env vars (or `.env`), working defaults for one machine.

Every process of the stack (API, executor, forked flow children, MLflow and Prefect servers)
derives its paths and URLs from here, so one env var moves the whole stack.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, computed_field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MLCANVAS_", env_file=".env", extra="ignore")

    # --- paths -------------------------------------------------------------------------
    data_dir: Path = Field(
        default=Path("data"),
        description="Job bundles, dataset cache, event log and the Prefect database live here.",
    )
    mlruns_dir: Path = Field(
        default=Path("mlruns"),
        description="MLflow store: mlflow.db (runs, metrics, registry) and artifacts.",
    )

    # --- network ------------------------------------------------------------------------
    host: str = Field(default="127.0.0.1", description="Interface every server binds to.")
    api_port: int = Field(default=8000, description="Port of the FastAPI app.")
    prefect_port: int = Field(default=4200, description="Port of the embedded Prefect server.")
    mlflow_port: int = Field(default=5000, description="Port of the embedded MLflow server/UI.")
    prefect_api_url: str | None = Field(
        default=None,
        description="Use this Prefect server instead of starting one (e.g. http://h:4200/api).",
    )
    mlflow_tracking_uri: str | None = Field(
        default=None,
        description="Use this MLflow tracking URI instead of the sqlite store under mlruns_dir.",
    )
    event_store_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the job event log; default sqlite under data_dir.",
    )

    # --- execution ----------------------------------------------------------------------
    work_pool: str = Field(default="mlcanvas", description="Prefect process work pool name.")
    worker_poll_seconds: float = Field(
        default=0.5, description="How often the worker asks the Prefect server for runs."
    )
    training_nice: int = Field(
        default=10,
        ge=0,
        le=19,
        description="Scheduling niceness of flow runs on executors, so training yields the CPU "
        "to the API and the Prefect server on the same machine (0 = same priority).",
    )
    cancel_grace_seconds: float = Field(
        default=30.0,
        description="After a Prefect cancel, how long a run may take to save before SIGTERM "
        "(Prefect's own worker grace is 30 s).",
    )

    # --- training backend (contract §9: unprefixed names are honoured too) ------------
    training_backend: Literal["local", "modal"] = Field(
        default="local",
        validation_alias=AliasChoices("MLCANVAS_TRAINING_BACKEND", "TRAINING_BACKEND"),
        description="`local` trains in the executor; `modal` trains on Modal GPUs.",
    )
    modal_app_name: str = Field(
        default="mlcanvas-training",
        validation_alias=AliasChoices("MLCANVAS_MODAL_APP_NAME", "MODAL_APP_NAME"),
    )
    modal_function_name: str = Field(
        default="train_job_remote",
        validation_alias=AliasChoices("MLCANVAS_MODAL_FUNCTION_NAME", "MODAL_FUNCTION_NAME"),
    )

    @field_validator("data_dir", "mlruns_dir")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @field_validator("training_backend", mode="before")
    @classmethod
    def _normalise_backend(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @computed_field  # type: ignore[prop-decorator]
    @property
    def tracking_uri(self) -> str:
        """MLflow tracking and registry URI; never the deprecated file store."""
        return self.mlflow_tracking_uri or f"sqlite:///{self.mlruns_dir / 'mlflow.db'}"

    @computed_field  # type: ignore[prop-decorator]
    @property
    def prefect_url(self) -> str:
        return self.prefect_api_url or f"http://{self.host}:{self.prefect_port}/api"

    @computed_field  # type: ignore[prop-decorator]
    @property
    def events_url(self) -> str:
        return self.event_store_url or f"sqlite:///{self.data_dir / 'events.db'}"

    @property
    def jobs_dir(self) -> Path:
        return self.data_dir / "jobs"

    @property
    def rf_jobs_dir(self) -> Path:
        return self.data_dir / "rf" / "jobs"

    @property
    def forkserver_socket(self) -> Path:
        """Where the executor's warm forkserver listens; its launchers and health checks connect."""
        return self.data_dir / "run" / "forkserver.sock"

    @property
    def dataset_cache_dir(self) -> Path:
        return self.data_dir / "datasets"

    def child_env(self) -> dict[str, str]:
        """Environment for child processes, so Prefect, MLflow and our code agree."""
        env = dict(os.environ)
        env.update(
            MLCANVAS_DATA_DIR=str(self.data_dir),
            MLCANVAS_MLRUNS_DIR=str(self.mlruns_dir),
            PREFECT_API_URL=self.prefect_url,
            MLFLOW_TRACKING_URI=self.tracking_uri,
            MLFLOW_REGISTRY_URI=self.tracking_uri,
            MLFLOW_DISABLE_TELEMETRY="true",
            MLFLOW_LOG_UV_FILES="false",
            PREFECT_SERVER_ANALYTICS_ENABLED="false",
            DO_NOT_TRACK="1",
        )
        return env


@lru_cache
def get_settings() -> Settings:
    return Settings()
