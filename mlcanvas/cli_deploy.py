"""`mlcanvas deploy`, `mlcanvas deployments` and `mlcanvas predict`: deployments from a
terminal, through the running stack's API (contract §7).

Registered on the main app at the end of mlcanvas/cli.py. Only light imports (httpx, rich):
no MLflow and no torch, so the commands start quickly. Errors print as one readable line and
exit 1; an unreadable input file exits 2.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from mlcanvas.client import StackClient
from mlcanvas.errors import DependencyUnavailableError, MLCanvasError
from mlcanvas.settings import get_settings
from mlcanvas.stack.health import http_url

deploy_app = typer.Typer()

BAD_FILE = 2
NONE = "—"

ApiOption = Annotated[
    str | None,
    typer.Option("--api", help="Stack API base URL [default: http://<host>:<api_port>]."),
]


DEPLOY_TIMEOUT_SECONDS = 120.0
"""A stack's first deployment registers the model in MLflow and loads MLflow into the API:
over the client's default 10 s on a busy machine, and a timed-out deploy still lands."""


class DeploymentClient(StackClient):
    """The deployment endpoints of a running stack; every call raises MLCanvasError."""

    def deploy(self, job_id: str, name: str | None) -> dict[str, Any]:
        body = {"job_id": job_id, "target": "local", "name": name}
        return self._request("POST", "/api/deploy", json=body, timeout=DEPLOY_TIMEOUT_SECONDS)

    def deployments(self) -> list[dict[str, Any]]:
        return list(self._request("GET", "/api/deploy/list")["deployments"])

    def predict(self, deployment_id: str, body: dict[str, Any]) -> dict[str, Any]:
        return self._request("POST", f"/api/deploy/{deployment_id}/infer", json=body)


@contextmanager
def _client(api: str | None, console: Console) -> Iterator[DeploymentClient]:
    """A client for a stack that answers; our errors as one red line and exit code 1."""
    settings = get_settings()
    try:
        with DeploymentClient(api or http_url(settings.host, settings.api_port)) as client:
            if not client.is_up():
                raise DependencyUnavailableError(
                    f"No stack answers at {client.base_url}; start one with `mlcanvas serve` "
                    "or pass --api URL."
                )
            yield client
    except MLCanvasError as exc:
        console.print(f"[red]Error:[/] {exc.message}", highlight=False)
        raise typer.Exit(1) from exc


def _status(status: Any) -> str:
    return "[green]running[/]" if status == "running" else f"[yellow]{status or NONE}[/]"


def deployments_table(deployments: list[dict[str, Any]]) -> Table:
    table = Table(title=f"Deployments ({len(deployments)})", title_justify="left")
    table.add_column("deployment id", no_wrap=True, min_width=32)
    table.add_column("name", overflow="fold")
    table.add_column("kind", no_wrap=True)
    table.add_column("job", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("requests", justify="right")
    table.add_column("last used (UTC)", overflow="fold")
    table.add_column("model", overflow="fold")
    for item in deployments:
        table.add_row(
            str(item.get("deployment_id")),
            str(item.get("name") or NONE),
            str(item.get("kind") or NONE),
            str(item.get("job_id") or NONE)[:8],
            _status(item.get("status")),
            str(item.get("request_count", 0)),
            str(item.get("last_used_at") or NONE).replace("T", " ")[:19],
            f"{item.get('model_name', NONE)} v{item.get('model_version', '?')}",
        )
    return table


def predictions_table(reply: dict[str, Any]) -> Table:
    """One row per input row: the prediction and its probability when the reply has them."""
    probabilities = reply.get("probabilities") or []
    table = Table(
        title=f"Predictions of {reply.get('deployment_id')} (input {reply.get('input_shape')})",
        title_justify="left",
    )
    table.add_column("row", justify="right")
    table.add_column("prediction")
    table.add_column("probability", justify="right")
    for index, prediction in enumerate(reply.get("predictions", [])):
        row = probabilities[index] if index < len(probabilities) else None
        chosen = reply.get("prediction_indices", reply.get("predictions"))[index]
        probability = f"{row[chosen]:.4f}" if row else NONE
        table.add_row(str(index), str(prediction), probability)
    return table


def _read_body(path: Path, console: Console) -> dict[str, Any]:
    """INPUT.json holds the inputs themselves, or a body `{"inputs": ..., ...}`."""
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        console.print(f"[red]{path} is not valid JSON:[/] {exc.msg} (line {exc.lineno})")
        raise typer.Exit(BAD_FILE) from exc
    except (OSError, UnicodeDecodeError) as exc:
        console.print(f"[red]Cannot read {path}:[/] {exc}")
        raise typer.Exit(BAD_FILE) from exc
    if isinstance(payload, dict):
        if "inputs" not in payload:
            console.print(f"[red]{path} must hold the inputs, or an object with `inputs`.[/]")
            raise typer.Exit(BAD_FILE)
        return payload
    return {"inputs": payload}


@deploy_app.command()
def deploy(
    job_id: Annotated[str, typer.Argument(help="Finished NN or RF job id (32 hex characters).")],
    name: Annotated[str | None, typer.Option("--name", help="Display name.")] = None,
    api: ApiOption = None,
) -> None:
    """Deploy a finished job as a local endpoint (registered in the MLflow model registry)."""
    console = Console(highlight=False)
    with _client(api, console) as client:
        item = client.deploy(job_id, name)
    console.print(
        f"Deployment [bold]{item['deployment_id']}[/] {_status(item['status'])}: "
        f"POST {client.base_url}{item['endpoint_path']}"
    )
    console.print(f"MLflow model: {item.get('model_uri', NONE)}")


@deploy_app.command()
def deployments(api: ApiOption = None) -> None:
    """All deployments of the stack, newest first."""
    console = Console(highlight=False)
    with _client(api, console) as client:
        console.print(deployments_table(client.deployments()))


@deploy_app.command()
def predict(
    deployment_id: Annotated[str, typer.Argument(help="Deployment id (32 hex characters).")],
    input_file: Annotated[
        Path,
        typer.Argument(
            exists=True, dir_okay=False, readable=True, help="JSON inputs, or {inputs: ...}."
        ),
    ],
    api: ApiOption = None,
) -> None:
    """Infer through a running deployment and show one prediction per input row."""
    console = Console(highlight=False)
    body = _read_body(input_file, console)
    with _client(api, console) as client:
        reply = client.predict(deployment_id, body)
    console.print(predictions_table(reply))
