"""The plan `mlcanvas serve` follows: argv, env and order of each child. Nothing is started."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import pytest

from mlcanvas.errors import ConflictError
from mlcanvas.settings import Settings
from mlcanvas.stack.serve import plan_stack, serve, stack_urls, start_phases


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        mlruns_dir=tmp_path / "mlruns",
        host="127.0.0.1",
        api_port=_free_port(),
        prefect_port=_free_port(),
        mlflow_port=_free_port(),
        prefect_api_url=None,
        mlflow_tracking_uri=None,
    )


def test_embedded_stack_starts_four_children_in_order(settings: Settings) -> None:
    specs = {spec.name: spec for spec in plan_stack(settings)}

    assert list(specs) == ["prefect", "mlflow", "executor", "api"]
    repo_root = Path(specs["api"].cwd or "")
    assert (repo_root / "pyproject.toml").exists()
    assert all(spec.cwd == str(repo_root) for spec in specs.values())
    assert all(spec.argv[0] == sys.executable for spec in specs.values())
    assert [n for n, s in specs.items() if s.restart] == ["executor", "api"]

    prefect = specs["prefect"]
    assert prefect.argv[1:] == [
        "-m", "mlcanvas.stack.prefect_server", "server", "start", "--host", "127.0.0.1",
        "--port", str(settings.prefect_port),
    ]  # fmt: skip
    db = prefect.env["PREFECT_API_DATABASE_CONNECTION_URL"]
    assert db == f"sqlite+aiosqlite:///{settings.data_dir / 'prefect.db'}"
    assert prefect.env["PREFECT_SERVER_UI_ENABLED"] == "true"
    assert prefect.env["PREFECT_SERVER_ANALYTICS_ENABLED"] == "false"
    assert prefect.env["PREFECT_SERVER_SERVICES_LATE_RUNS_ENABLED"] == "false"
    assert prefect.env["PREFECT_UI_API_URL"] == f"http://127.0.0.1:{settings.prefect_port}/api"
    assert prefect.env["PREFECT_HOME"] == str(settings.data_dir / "prefect")

    mlflow = specs["mlflow"]
    argv = mlflow.argv
    assert argv[1:4] == ["-m", "mlcanvas.stack.mlflow_server", "server"]
    assert argv[argv.index("--backend-store-uri") + 1] == settings.tracking_uri
    assert argv[argv.index("--registry-store-uri") + 1] == settings.tracking_uri
    artifacts = argv[argv.index("--artifacts-destination") + 1]
    assert artifacts == (settings.mlruns_dir / "artifacts").as_uri()
    assert argv[argv.index("--port") + 1] == str(settings.mlflow_port)
    assert argv[argv.index("--workers") + 1] == "1"
    assert mlflow.env["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"] == "false"
    assert mlflow.env["MLFLOW_LOGGING_LEVEL"] == "WARNING"

    assert specs["executor"].argv[1:] == ["-m", "flows.executor"]
    api = specs["api"].argv
    assert api[1:5] == ["-m", "uvicorn", "api.app:create_app", "--factory"]
    assert api[api.index("--port") + 1] == str(settings.api_port)

    for spec in specs.values():
        assert spec.env["PREFECT_API_URL"] == f"http://127.0.0.1:{settings.prefect_port}/api"
        assert spec.env["MLFLOW_TRACKING_URI"] == settings.tracking_uri
        assert spec.env["MLCANVAS_DATA_DIR"] == str(settings.data_dir)
        assert spec.env["MLCANVAS_API_PORT"] == str(settings.api_port)


def test_servers_start_together_then_executor_and_api(settings: Settings) -> None:
    phases = start_phases(plan_stack(settings))

    assert [[spec.name for spec in phase] for phase in phases] == [
        ["prefect", "mlflow"],
        ["executor", "api"],
    ]
    external = settings.model_copy(update={"prefect_api_url": "http://p:4200/api"})
    assert [[s.name for s in phase] for phase in start_phases(plan_stack(external, ui=False))] == [
        ["executor", "api"]
    ]


def test_external_prefect_and_mlflow_are_not_started(settings: Settings) -> None:
    external = settings.model_copy(
        update={
            "prefect_api_url": "http://prefect.example:4200/api",
            "mlflow_tracking_uri": "http://mlflow.example:5000",
        }
    )

    specs = plan_stack(external)

    assert [spec.name for spec in specs] == ["executor", "api"]
    for spec in specs:
        # Children rebuild the same settings: the external URLs travel as MLCANVAS_* too.
        assert spec.env["PREFECT_API_URL"] == "http://prefect.example:4200/api"
        assert spec.env["MLCANVAS_PREFECT_API_URL"] == "http://prefect.example:4200/api"
        assert spec.env["MLFLOW_TRACKING_URI"] == "http://mlflow.example:5000"
        assert spec.env["MLCANVAS_MLFLOW_TRACKING_URI"] == "http://mlflow.example:5000"
    urls = stack_urls(external)
    assert urls.prefect_ui == "http://prefect.example:4200"
    assert urls.mlflow_ui == "http://mlflow.example:5000"


def test_no_ui_skips_the_mlflow_server_and_the_prefect_ui(settings: Settings) -> None:
    specs = plan_stack(settings, ui=False)

    assert [spec.name for spec in specs] == ["prefect", "executor", "api"]
    assert specs[0].env["PREFECT_SERVER_UI_ENABLED"] == "false"
    urls = stack_urls(settings, ui=False)
    assert urls.api == f"http://127.0.0.1:{settings.api_port}"
    assert urls.docs == f"http://127.0.0.1:{settings.api_port}/docs"
    assert urls.prefect_ui is None
    assert urls.mlflow_ui is None


def test_health_checks_answer_not_ready_when_nothing_listens(settings: Settings) -> None:
    for spec in plan_stack(settings):
        assert spec.ready is not None
        assert spec.ready() is False


def test_a_taken_port_is_refused_before_anything_starts(settings: Settings) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        busy = settings.model_copy(update={"api_port": port})

        with pytest.raises(ConflictError, match=f"Port {port} for api"):
            serve(busy)

    assert not busy.data_dir.exists()  # nothing was prepared or started
