"""`mlcanvas serve`: the whole stack on one machine, as supervised children started in order.

Prefect server and MLflow server first, then the executor and the API once both are healthy:
the executor registers deployments on Prefect, and the API submits to them. A Prefect or
MLflow given as an external URL is not started; `ui=False` also skips the MLflow server (it
is only a UI: every process writes the MLflow store directly).
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from rich.console import Console
from rich.table import Table

from mlcanvas.errors import ConflictError, DependencyUnavailableError
from mlcanvas.settings import Settings
from mlcanvas.stack.health import http_ok, http_url, port_in_use, unix_socket_accepts
from mlcanvas.stack.supervisor import ChildSpec, Supervisor

REPO_ROOT = Path(__file__).resolve().parents[2]

SERVER_NAMES = frozenset({"prefect", "mlflow"})
# A fresh Prefect database or MLflow store migrates on first start; the executor imports
# torch, registers deployments and warms its forkserver before the socket answers.
READY_TIMEOUT = {"prefect": 120.0, "mlflow": 120.0, "executor": 240.0, "api": 120.0}


@dataclass(frozen=True)
class StackUrls:
    """Where a person points a browser once the stack is up; None for a part not served."""

    api: str
    docs: str
    prefect_ui: str | None
    mlflow_ui: str | None


def prefect_database_url(settings: Settings) -> str:
    """The embedded Prefect server's SQLite database (also used by the CLI's local runs)."""
    return f"sqlite+aiosqlite:///{settings.data_dir / 'prefect.db'}"


def prefect_home(settings: Settings) -> Path:
    return settings.data_dir / "prefect"


def settings_env(settings: Settings) -> dict[str, str]:
    """`MLCANVAS_*` for every set field, so a child rebuilds exactly these settings, including
    values that came from CLI flags rather than the environment."""
    env: dict[str, str] = {}
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        if value is not None:
            env[f"MLCANVAS_{name.upper()}"] = str(value)
    return env


def stack_env(settings: Settings) -> dict[str, str]:
    """The environment of every part of the stack (and of `mlcanvas api`/`executor` alone):
    Prefect and MLflow URLs, our settings, and Prefect's home under the data dir."""
    return {
        **settings.child_env(),
        **settings_env(settings),
        "PREFECT_HOME": str(prefect_home(settings)),
        "PYTHONUNBUFFERED": "1",
    }


def plan_stack(settings: Settings, *, ui: bool = True) -> list[ChildSpec]:
    """The children `serve` starts, in start order; nothing is started here."""
    base = stack_env(settings)
    specs: list[ChildSpec] = []
    if settings.prefect_api_url is None:
        specs.append(prefect_server_spec(settings, ui=ui))
    if settings.mlflow_tracking_uri is None and ui:
        specs.append(_mlflow_server(settings, base))
    specs.append(
        ChildSpec(
            name="executor",
            argv=[sys.executable, "-m", "flows.executor"],
            env=dict(base),
            ready=partial(unix_socket_accepts, str(settings.forkserver_socket)),
            ready_timeout=READY_TIMEOUT["executor"],
            restart=True,
            # It stops its worker and forkserver first, and a running job gets a grace period.
            stop_timeout=45.0,
            cwd=str(REPO_ROOT),
        )
    )
    specs.append(
        ChildSpec(
            name="api",
            argv=[
                sys.executable,
                "-m",
                "uvicorn",
                "api.app:create_app",
                "--factory",
                "--host",
                settings.host,
                "--port",
                str(settings.api_port),
            ],
            env=dict(base),
            ready=partial(http_ok, http_url(settings.host, settings.api_port, "/health")),
            ready_timeout=READY_TIMEOUT["api"],
            restart=True,
            cwd=str(REPO_ROOT),
        )
    )
    return specs


EMBEDDED_PREFECT_ENV = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    # On SQLite the late-runs sweep (every 5 s, one write per run waiting for an executor slot)
    # collides with run creation: "database is locked", and POST /train stalled 2-5 s while
    # jobs queued (docs/benchmarks.md). Waiting jobs stay Scheduled instead of turning Late.
    "PREFECT_SERVER_SERVICES_LATE_RUNS_ENABLED": "false",
}
"""Settings of the Prefect server `serve` embeds (the e2e stack starts it with them too)."""


def prefect_server_argv(host: str, port: int) -> list[str]:
    """`prefect server start` through our entry point, which makes its SQLite writers queue
    instead of failing and checks each JSON schema once (`mlcanvas/stack/prefect_server.py`)."""
    return [
        *(sys.executable, "-m", "mlcanvas.stack.prefect_server"),
        *("server", "start", "--host", host, "--port", str(port)),
    ]


def prefect_server_spec(settings: Settings, *, ui: bool) -> ChildSpec:
    """The embedded Prefect server: SQLite under the data dir (the CLI's local runs start it
    too when nothing answers, so their runs land in the stack's history)."""
    host, port = settings.host, settings.prefect_port
    env = {
        **stack_env(settings),
        "PREFECT_API_DATABASE_CONNECTION_URL": prefect_database_url(settings),
        "PREFECT_SERVER_UI_ENABLED": "true" if ui else "false",
        **EMBEDDED_PREFECT_ENV,
        "PREFECT_UI_API_URL": f"http://{host}:{port}/api",
    }
    return ChildSpec(
        name="prefect",
        argv=prefect_server_argv(host, port),
        env=env,
        ready=partial(http_ok, http_url(host, port, "/api/health")),
        ready_timeout=READY_TIMEOUT["prefect"],
        cwd=str(REPO_ROOT),
    )


MLFLOW_SERVER_ENV = {
    "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "MLFLOW_LOGGING_LEVEL": "WARNING",
}
"""Settings of the MLflow server `serve` runs; without job execution it runs as one process."""


def mlflow_server_argv(store: str, artifacts: str, host: str, port: int) -> list[str]:
    """`mlflow server` through our entry point, which execs MLflow's uvicorn in place of the
    waiting parent (`mlcanvas/stack/mlflow_server.py`): one process instead of two."""
    return [
        *(sys.executable, "-m", "mlcanvas.stack.mlflow_server", "server"),
        *("--backend-store-uri", store, "--registry-store-uri", store),
        *("--artifacts-destination", artifacts),
        *("--host", host, "--port", str(port), "--workers", "1"),
    ]


def _mlflow_server(settings: Settings, base: dict[str, str]) -> ChildSpec:
    return ChildSpec(
        name="mlflow",
        argv=mlflow_server_argv(
            settings.tracking_uri,
            (settings.mlruns_dir / "artifacts").as_uri(),
            settings.host,
            settings.mlflow_port,
        ),
        env={**base, **MLFLOW_SERVER_ENV},
        ready=partial(http_ok, http_url(settings.host, settings.mlflow_port, "/health")),
        ready_timeout=READY_TIMEOUT["mlflow"],
        cwd=str(REPO_ROOT),
    )


def start_phases(specs: list[ChildSpec]) -> list[list[ChildSpec]]:
    """The servers (Prefect, MLflow) start together, then the executor and the API together:
    each phase needs only the one before it (the API looks deployments up when it needs them).
    """
    servers = [spec for spec in specs if spec.name in SERVER_NAMES]
    clients = [spec for spec in specs if spec.name not in SERVER_NAMES]
    return [phase for phase in (servers, clients) if phase]


def stack_urls(settings: Settings, *, ui: bool = True) -> StackUrls:
    api = http_url(settings.host, settings.api_port)
    if settings.prefect_api_url is not None:
        prefect_ui: str | None = settings.prefect_api_url.rstrip("/").removesuffix("/api")
    else:
        prefect_ui = http_url(settings.host, settings.prefect_port) if ui else None
    if settings.mlflow_tracking_uri is not None:
        is_server = settings.mlflow_tracking_uri.startswith(("http://", "https://"))
        mlflow_ui = settings.mlflow_tracking_uri if is_server else None
    else:
        mlflow_ui = http_url(settings.host, settings.mlflow_port) if ui else None
    return StackUrls(api=api, docs=f"{api}/docs", prefect_ui=prefect_ui, mlflow_ui=mlflow_ui)


def _check_ports_free(settings: Settings, specs: list[ChildSpec]) -> None:
    """Fail before starting anything rather than after a child dies on a taken port."""
    ports = {
        "prefect": settings.prefect_port,
        "mlflow": settings.mlflow_port,
        "api": settings.api_port,
    }
    for spec in specs:
        port = ports.get(spec.name)
        if port is not None and port_in_use(settings.host, port):
            raise ConflictError(
                f"Port {port} for {spec.name} is already in use: stop what runs there or set "
                f"MLCANVAS_{spec.name.upper()}_PORT.",
                port=port,
            )


def _make_dirs(settings: Settings) -> None:
    for folder in (
        settings.data_dir,
        prefect_home(settings),
        settings.forkserver_socket.parent,
        settings.mlruns_dir / "artifacts",
    ):
        folder.mkdir(parents=True, exist_ok=True)


def _print_ready(console: Console, urls: StackUrls, seconds: float) -> None:
    table = Table(title=f"MLCanvas stack healthy in {seconds:.1f} s", show_header=False)
    table.add_row("API", urls.api)
    table.add_row("API docs", urls.docs)
    table.add_row("Prefect UI", urls.prefect_ui or "[dim]not served (--no-ui)[/]")
    table.add_row("MLflow UI", urls.mlflow_ui or "[dim]not served[/]")
    console.print(table)
    console.print("Ctrl-C stops every part of the stack.")


def serve(settings: Settings, *, ui: bool = True) -> None:
    """Start the stack and block until Ctrl-C/SIGTERM, then stop every child by PID.

    Raises ConflictError for a taken port and DependencyUnavailableError when a part does not
    become healthy or a vital one (Prefect, MLflow) exits.
    """
    console = Console()
    specs = plan_stack(settings, ui=ui)
    _check_ports_free(settings, specs)
    _make_dirs(settings)
    supervisor = Supervisor()
    supervisor.install_signal_handlers()
    started = time.monotonic()
    try:
        for phase in start_phases(specs):
            console.print(f"[bold]starting {', '.join(spec.name for spec in phase)}[/]")
            supervisor.start_group(phase)
        _print_ready(console, stack_urls(settings, ui=ui), time.monotonic() - started)
        supervisor.run()
    except KeyboardInterrupt:
        console.print("stopping the stack")
    except (RuntimeError, TimeoutError) as exc:
        raise DependencyUnavailableError(f"The stack did not start: {exc}") from exc
    finally:
        supervisor.stop_all()
    if supervisor.failed is not None:
        raise DependencyUnavailableError(f"The stack stopped: {supervisor.failed}")
