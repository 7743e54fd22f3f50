"""Settings: `MLCANVAS_*` env vars and `.env`, working defaults, and every derived path and URL."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from mlcanvas.settings import Settings

UNPREFIXED = ("TRAINING_BACKEND", "MODAL_APP_NAME", "MODAL_FUNCTION_NAME")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No inherited MLCANVAS_* or contract env vars, and a working dir with no `.env`."""
    for name in list(os.environ):
        if name.startswith("MLCANVAS_") or name in UNPREFIXED:
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_defaults_work_on_one_machine(clean_env: Path) -> None:
    settings = Settings()

    assert settings.data_dir == clean_env / "data"
    assert settings.mlruns_dir == clean_env / "mlruns"
    assert (settings.host, settings.api_port, settings.prefect_port) == ("127.0.0.1", 8000, 4200)
    assert settings.training_backend == "local"
    assert settings.modal_app_name == "mlcanvas-training"
    assert settings.modal_function_name == "train_job_remote"
    assert settings.cancel_grace_seconds == 30.0


def test_derived_urls_and_folders(clean_env: Path) -> None:
    settings = Settings()

    assert settings.tracking_uri == f"sqlite:///{clean_env / 'mlruns' / 'mlflow.db'}"
    assert settings.prefect_url == "http://127.0.0.1:4200/api"
    assert settings.events_url == f"sqlite:///{clean_env / 'data' / 'events.db'}"
    assert settings.jobs_dir == clean_env / "data" / "jobs"
    assert settings.rf_jobs_dir == clean_env / "data" / "rf" / "jobs"
    assert settings.dataset_cache_dir == clean_env / "data" / "datasets"


def test_explicit_urls_win_over_derived_ones() -> None:
    settings = Settings(
        mlflow_tracking_uri="http://mlflow:5000",
        prefect_api_url="http://prefect:4200/api",
        event_store_url="postgresql://db/events",
    )

    assert settings.tracking_uri == "http://mlflow:5000"
    assert settings.prefect_url == "http://prefect:4200/api"
    assert settings.events_url == "postgresql://db/events"


def test_env_vars_use_the_mlcanvas_prefix(monkeypatch: pytest.MonkeyPatch, clean_env: Path) -> None:
    monkeypatch.setenv("MLCANVAS_DATA_DIR", "elsewhere/data")
    monkeypatch.setenv("MLCANVAS_PREFECT_PORT", "4300")
    monkeypatch.setenv("MLCANVAS_HOST", "0.0.0.0")

    settings = Settings()

    assert settings.data_dir == clean_env / "elsewhere" / "data"
    assert settings.prefect_url == "http://0.0.0.0:4300/api"


def test_a_dotenv_file_in_the_working_dir_is_read(clean_env: Path) -> None:
    (clean_env / ".env").write_text("MLCANVAS_API_PORT=8123\nUNRELATED=1\n")

    assert Settings().api_port == 8123


def test_paths_are_made_absolute_and_expand_home(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", "/home/someone")

    settings = Settings(data_dir=Path("~/canvas"), mlruns_dir=Path("runs/../mlruns"))

    assert settings.data_dir == Path("/home/someone/canvas")
    assert settings.mlruns_dir.is_absolute() and ".." not in settings.mlruns_dir.parts


@pytest.mark.parametrize("name", ["TRAINING_BACKEND", "MLCANVAS_TRAINING_BACKEND"])
def test_the_training_backend_honours_both_names_and_is_normalised(
    monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    monkeypatch.setenv(name, "  Modal ")

    assert Settings().training_backend == "modal"


def test_the_unprefixed_modal_names_are_honoured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODAL_APP_NAME", "my-app")
    monkeypatch.setenv("MLCANVAS_MODAL_FUNCTION_NAME", "my_fn")

    settings = Settings()

    assert (settings.modal_app_name, settings.modal_function_name) == ("my-app", "my_fn")


def test_an_unknown_training_backend_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRAINING_BACKEND", "cloud")

    with pytest.raises(ValidationError, match="Input should be 'local' or 'modal'"):
        Settings()


def test_child_env_points_every_process_at_the_same_stack(
    monkeypatch: pytest.MonkeyPatch, clean_env: Path
) -> None:
    monkeypatch.setenv("KEEP_ME", "yes")
    settings = Settings(data_dir=clean_env / "d", mlruns_dir=clean_env / "m")

    env = settings.child_env()

    assert env["KEEP_ME"] == "yes"
    assert env["MLCANVAS_DATA_DIR"] == str(clean_env / "d")
    assert env["MLCANVAS_MLRUNS_DIR"] == str(clean_env / "m")
    assert env["PREFECT_API_URL"] == settings.prefect_url
    assert env["MLFLOW_TRACKING_URI"] == env["MLFLOW_REGISTRY_URI"] == settings.tracking_uri
    assert env["MLFLOW_DISABLE_TELEMETRY"] == "true" and env["DO_NOT_TRACK"] == "1"
    assert "MLCANVAS_DATA_DIR" not in os.environ  # the caller's env is left alone


def test_a_child_started_with_child_env_reads_the_same_settings(clean_env: Path) -> None:
    parent = Settings(data_dir=clean_env / "d", mlruns_dir=clean_env / "m")

    child = _settings_from(parent.child_env())

    assert (child.data_dir, child.mlruns_dir) == (parent.data_dir, parent.mlruns_dir)
    assert child.tracking_uri == parent.tracking_uri


def _settings_from(env: dict[str, str]) -> Settings:
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        return Settings()
