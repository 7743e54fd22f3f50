"""`mlcanvas`: run the stack, check and train canvas graphs, and follow jobs from a terminal.

Bad input never shows a traceback: schema problems (malformed JSON, unknown node type) exit 2,
graph errors and API errors exit 1, each printed readably. Heavy imports (the graph package,
Prefect, torch, uvicorn) happen inside the commands that need them, so `--help`, `jobs`,
`watch` and `stop` start quickly.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.console import Console

from mlcanvas.cli_render import errors_table, jobs_table, layers_table, schema_error_lines
from mlcanvas.cli_train import follow_on_stack, train_locally, train_on_stack, with_overrides
from mlcanvas.client import StackClient
from mlcanvas.errors import DependencyUnavailableError, GraphValidationError, MLCanvasError
from mlcanvas.settings import Settings, get_settings
from mlcanvas.stack.health import http_url
from mlcanvas.stack.serve import serve as serve_stack
from mlcanvas.stack.serve import stack_env

app = typer.Typer(
    help="MLCanvas: a visual neural-network canvas backend (Prefect + MLflow + FastAPI).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

SCHEMA_ERROR = 2

GraphFile = Annotated[
    Path,
    typer.Argument(exists=True, dir_okay=False, readable=True, help="Canvas graph JSON file."),
]
ApiOption = Annotated[
    str | None,
    typer.Option("--api", help="Stack API base URL [default: http://<host>:<api_port>]."),
]


def _console() -> Console:
    """A console per command, so the width follows the terminal (or COLUMNS) of this call."""
    return Console(highlight=False)


def _api_url(api: str | None, settings: Settings) -> str:
    return api or http_url(settings.host, settings.api_port)


@contextmanager
def _readable_errors(console: Console) -> Iterator[None]:
    """Our errors and schema errors as text and an exit code, never a traceback."""
    try:
        yield
    except ValidationError as exc:
        console.print("[red]The graph does not match the schema:[/]")
        for line in schema_error_lines(exc):
            console.print(f"  {line}", markup=False)
        raise typer.Exit(SCHEMA_ERROR) from exc
    except GraphValidationError as exc:
        console.print(errors_table(exc.errors))
        raise typer.Exit(1) from exc
    except MLCanvasError as exc:
        console.print(f"[red]Error:[/] {exc.message}")
        raise typer.Exit(1) from exc


def _read_graph(path: Path, console: Console) -> dict[str, Any]:
    """The graph file as a JSON object; anything else exits 2 with the reason."""
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        console.print(
            f"[red]{path} is not valid JSON:[/] {exc.msg} (line {exc.lineno}, col {exc.colno})"
        )
        raise typer.Exit(SCHEMA_ERROR) from exc
    except (OSError, UnicodeDecodeError) as exc:
        console.print(f"[red]Cannot read {path}:[/] {exc}")
        raise typer.Exit(SCHEMA_ERROR) from exc
    if not isinstance(payload, dict):
        console.print(f"[red]{path} must hold a JSON object with `nodes` and `edges`.[/]")
        raise typer.Exit(SCHEMA_ERROR)
    return payload


def _require_stack(client: StackClient) -> None:
    if not client.is_up():
        raise DependencyUnavailableError(
            f"No stack answers at {client.base_url}; start one with `mlcanvas serve` "
            "or pass --api URL."
        )


@app.command()
def serve(
    no_ui: Annotated[
        bool, typer.Option("--no-ui", help="No Prefect UI and no MLflow UI server.")
    ] = False,
    prefect_api_url: Annotated[
        str | None, typer.Option(help="Use this Prefect server (…/api) instead of starting one.")
    ] = None,
    mlflow_uri: Annotated[
        str | None, typer.Option(help="Use this MLflow tracking URI instead of mlruns/.")
    ] = None,
) -> None:
    """Start the whole stack: Prefect server, MLflow UI, executor and API; Ctrl-C stops it."""
    console = _console()
    updates = {"prefect_api_url": prefect_api_url, "mlflow_tracking_uri": mlflow_uri}
    settings = get_settings().model_copy(update={k: v for k, v in updates.items() if v})
    with _readable_errors(console):
        serve_stack(settings, ui=not no_ui)


@app.command()
def api() -> None:
    """Run only the API (uvicorn, in this process) on the configured host and port."""
    settings = get_settings()
    os.environ.update(stack_env(settings))
    import uvicorn

    uvicorn.run("api.app:create_app", factory=True, host=settings.host, port=settings.api_port)


@app.command()
def executor() -> None:
    """Run only the executor (work pool, deployments, forkserver, Prefect worker)."""
    os.environ.update(stack_env(get_settings()))
    from flows.executor import main

    main()


@app.command()
def validate(graph_file: GraphFile) -> None:
    """Check an NN or RF graph: layer shapes and parameters, or every error (exit 1)."""
    console = _console()
    payload = _read_graph(graph_file, console)
    with _readable_errors(console):
        from mlcanvas.cli_validate import validate_payload

        kind, report, node_types = validate_payload(payload)
    if not report.valid:
        console.print(errors_table(report.error_details()))
        raise typer.Exit(1)
    console.print(layers_table(report, node_types, kind=kind))


@app.command()
def train(
    graph_file: GraphFile,
    epochs: Annotated[int | None, typer.Option(min=1, help="Override training.epochs.")] = None,
    dataset: Annotated[str | None, typer.Option(help="Override training.dataset.")] = None,
    watch: Annotated[bool, typer.Option("--watch/--no-watch", help="Follow progress.")] = True,
    api: ApiOption = None,
) -> None:
    """Train a graph on the running stack, or in this process when no stack answers."""
    console = _console()
    settings = get_settings()
    graph = with_overrides(_read_graph(graph_file, console), epochs=epochs, dataset=dataset)
    with _readable_errors(console):
        from mlcanvas.cli_validate import parse_graph

        kind, _schema_checked = parse_graph(graph)  # a schema error exits 2 on either path
        with StackClient(_api_url(api, settings)) as client:
            if client.is_up():
                code = train_on_stack(
                    client, kind, graph, watch=watch, console=console, settings=settings
                )
            else:
                code = train_locally(kind, graph, console=console, settings=settings)
    raise typer.Exit(code)


@app.command()
def watch(
    job_id: Annotated[str, typer.Argument(help="Job id (32 hex characters).")],
    api: ApiOption = None,
) -> None:
    """Follow a job on the stack to its end: progress, final metrics, bundle."""
    console = _console()
    settings = get_settings()
    with _readable_errors(console), StackClient(_api_url(api, settings)) as client:
        _require_stack(client)
        kind, status = client.find_job(job_id)
        console.print(f"{kind.upper()} job [bold]{job_id}[/]: {status.get('status')}")
        code = follow_on_stack(client, kind, job_id, console=console, settings=settings)
    raise typer.Exit(code)


@app.command()
def jobs(
    api: ApiOption = None,
    limit: Annotated[int, typer.Option(min=1, max=200, help="How many jobs.")] = 20,
) -> None:
    """Recent jobs of the stack, newest first."""
    console = _console()
    with _readable_errors(console), StackClient(_api_url(api, get_settings())) as client:
        _require_stack(client)
        console.print(jobs_table(client.jobs(limit)))


@app.command()
def stop(
    job_id: Annotated[str, typer.Argument(help="Job id (32 hex characters).")],
    api: ApiOption = None,
) -> None:
    """Ask a job to stop; it ends its epoch loop, then saves its partial model."""
    console = _console()
    with _readable_errors(console), StackClient(_api_url(api, get_settings())) as client:
        _require_stack(client)
        kind, _status = client.find_job(job_id)
        reply = client.stop(kind, job_id)
        console.print(f"{kind.upper()} job [bold]{job_id}[/]: {reply.get('status')}")


from mlcanvas.cli_deploy import deploy_app  # noqa: E402 - deploy, deployments, predict

app.add_typer(deploy_app)
