"""What `mlcanvas train` and `watch` do: submit to a running stack and follow its websocket, or,
with no stack, train in this process; then say how the job ended and where its outputs are.

Every function returns the command's exit code: 0 done (completed or stopped), 1 failed,
130 the user stopped watching.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from rich.console import Console

from mlcanvas.cli_interrupt import InterruptGate, interrupt_gate
from mlcanvas.cli_render import errors_table, metrics_table
from mlcanvas.cli_watch import render_training
from mlcanvas.client import FAILURE_TYPES, StackClient, stream_messages
from mlcanvas.client.stack_client import Kind, error_detail_from
from mlcanvas.jobs.bundle import FILES, job_dir, read_json
from mlcanvas.jobs.naming import mlflow_run_name
from mlcanvas.settings import Settings
from mlcanvas.stack.serve import stack_urls

INTERRUPTED = 130


def with_overrides(
    graph: dict[str, Any], *, epochs: int | None, dataset: str | None
) -> dict[str, Any]:
    """The graph with `--epochs`/`--dataset` written into its training block."""
    overrides = {k: v for k, v in {"epochs": epochs, "dataset": dataset}.items() if v is not None}
    if not overrides:
        return graph
    training = graph.get("training") if isinstance(graph.get("training"), dict) else {}
    return {**graph, "training": {**training, **overrides}}


def planned_steps(kind: str, graph: dict[str, Any]) -> int | None:
    """Epochs for the progress bar of an NN job (RF jobs announce their tree count)."""
    if kind != "nn":
        return None
    from mlcanvas.graph import TrainingConfig

    training = graph.get("training") if isinstance(graph.get("training"), dict) else {}
    epochs = training.get("epochs", TrainingConfig().epochs)
    return epochs if isinstance(epochs, int) and not isinstance(epochs, bool) else None


def train_on_stack(
    client: StackClient,
    kind: Kind,
    graph: dict[str, Any],
    *,
    watch: bool,
    console: Console,
    settings: Settings,
) -> int:
    job_id = client.train(kind, graph)
    console.print(f"Submitted {kind.upper()} job [bold]{job_id}[/] to {client.base_url}")
    if not watch:
        console.print(f"Follow it: mlcanvas watch {job_id}    Stop it: mlcanvas stop {job_id}")
        return 0
    return follow_on_stack(
        client,
        kind,
        job_id,
        console=console,
        settings=settings,
        total=planned_steps(kind, graph),
        run_name=mlflow_run_name(kind, graph, job_id),
    )


def follow_on_stack(
    client: StackClient,
    kind: Kind,
    job_id: str,
    *,
    console: Console,
    settings: Settings,
    total: int | None = None,
    run_name: str | None = None,
) -> int:
    """Follow the job's websocket to its end; Ctrl-C detaches and leaves the job running."""
    with interrupt_gate():
        try:
            messages = stream_messages(client.socket_url(kind, job_id))
            terminal = render_training(messages, kind=kind, console=console, total=total)
        except KeyboardInterrupt:
            console.print(
                f"Stopped watching; job {job_id} goes on. Stop it: mlcanvas stop {job_id}"
            )
            return INTERRUPTED
    status = (terminal or {}).get("status") or _settled_status(client, kind, job_id)
    where = stack_urls(settings).mlflow_ui or settings.tracking_uri
    return report_outcome(
        console, settings, kind=kind, job_id=job_id, terminal=terminal, status=status,
        run_name=run_name, mlflow_where=where,
    )  # fmt: skip


def _settled_status(
    client: StackClient, kind: Kind, job_id: str, *, deadline_seconds: float = 15.0
) -> str | None:
    """The job's status once terminal: the stream can end a moment before the flow run's
    final state is recorded (RF's `rf_done` carries no status of its own)."""
    deadline = time.monotonic() + deadline_seconds
    while True:
        status = client.status(kind, job_id)
        if status.get("terminal") or time.monotonic() > deadline:
            return status.get("status")
        time.sleep(0.25)


def train_locally(
    kind: Kind, graph: dict[str, Any], *, console: Console, settings: Settings
) -> int:
    """Validate here first (a bad graph never starts Prefect), then run the flow in-process.

    The first Ctrl-C asks the job to stop (it keeps its partial model); a later one aborts.
    """
    from mlcanvas.client.local_run import configure_local_run, prefect_server_for_local_run

    _prepare(kind, graph)
    configure_local_run(settings)
    with interrupt_gate() as gate:
        try:
            with prefect_server_for_local_run(settings) as is_temporary:
                where = "a temporary server" if is_temporary else settings.prefect_url
                console.print(f"No stack answers; training in this process (Prefect: {where}).")
                return _run_locally(kind, graph, gate, console=console, settings=settings)
        except KeyboardInterrupt:
            console.print("Interrupted.")
            return INTERRUPTED


def _run_locally(
    kind: Kind, graph: dict[str, Any], gate: InterruptGate, *, console: Console, settings: Settings
) -> int:
    from mlcanvas.client.local_run import follow_local_run, start_local_run
    from mlcanvas.jobs.event_log import get_event_log

    run = start_local_run(kind, graph)
    console.print(f"Job [bold]{run.job_id}[/] started. Ctrl-C stops it and keeps the model.")
    events = get_event_log(settings.events_url)
    gate.defer_first()

    def stop_on_first_interrupt() -> None:
        if gate.is_requested and not events.is_stop_requested(run.job_id):
            events.request_stop(run.job_id, "cli")
            console.print("Stopping after the current batch (Ctrl-C again aborts).")

    messages = follow_local_run(run, events, on_poll=stop_on_first_interrupt)
    terminal = render_training(
        messages, kind=kind, console=console, total=planned_steps(kind, graph)
    )
    run.thread.join(timeout=120)
    status = (terminal or {}).get("status") or _bundle_status(settings, kind, run.job_id)
    mlflow_ui = stack_urls(settings).mlflow_ui
    return report_outcome(
        console, settings, kind=kind, job_id=run.job_id, terminal=terminal, status=status,
        run_name=mlflow_run_name(kind, graph, run.job_id),
        mlflow_where=f"{settings.tracking_uri} (UI with `mlcanvas serve`: {mlflow_ui})",
    )  # fmt: skip


def _prepare(kind: str, graph: dict[str, Any]) -> None:
    """The checks train runs before starting: raises GraphValidationError or a schema error.

    The torch-free checks of `validate` go first, so a bad graph is refused in a blink.
    """
    from mlcanvas.cli_validate import validate_payload

    _kind, report, _types = validate_payload(graph)
    report.raise_if_invalid()
    if kind == "nn":
        from mlcanvas.graph import NNGraph
        from mlcanvas.jobs.nn_prepare import prepare_nn_training

        prepare_nn_training(NNGraph.model_validate(graph))
    else:
        from mlcanvas.graph import RFGraph
        from mlcanvas.jobs.rf_prepare import prepare_rf_training

        prepare_rf_training(RFGraph.model_validate(graph))


def _bundle_status(settings: Settings, kind: str, job_id: str) -> str | None:
    path = job_dir(settings, kind, job_id) / FILES["metadata"]
    return read_json(path).get("status") if path.exists() else None


def report_outcome(
    console: Console,
    settings: Settings,
    *,
    kind: str,
    job_id: str,
    terminal: dict[str, Any] | None,
    status: str | None,
    run_name: str | None,
    mlflow_where: str,
) -> int:
    """Final metrics, status, bundle folder and MLflow run; exit code 1 for a failed job."""
    if terminal is not None and terminal.get("type") in FAILURE_TYPES:
        console.print(f"[red]Job {job_id} failed:[/] {terminal.get('message')}")
        errors = (terminal.get("details") or {}).get("errors")
        if isinstance(errors, list) and errors:
            console.print(errors_table([error_detail_from(e) for e in errors]))
        return 1
    if terminal is not None:
        console.print(metrics_table(terminal))
    console.print(f"Job {job_id}: [bold]{status or 'unknown'}[/]")
    model_path = (terminal or {}).get("model_path")
    bundle = Path(model_path).parent if model_path else job_dir(settings, kind, job_id)
    console.print(f"Bundle: {bundle}")
    run = f"run '{run_name}'" if run_name else f"the run tagged mlcanvas.job_id={job_id}"
    console.print(f"MLflow: {run} in {mlflow_where}")
    return 1 if status == "failed" else 0
