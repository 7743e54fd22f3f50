"""What a running job flow holds: its id, event log, bundle folder, MLflow recorder, stop watch.

Shared by `train-nn` and `train-rf` so both report states, events and failures the same way.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prefect import get_run_logger
from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import StateType
from prefect.runtime import flow_run as current_run

from mlcanvas.errors import DatasetUnavailableError, MLCanvasError
from mlcanvas.jobs.bundle import job_dir, update_metadata, write_bundle
from mlcanvas.jobs.event_log import EventLog, get_event_log
from mlcanvas.jobs.ids import job_id_of
from mlcanvas.jobs.naming import describe_graph, mlflow_run_name
from mlcanvas.jobs.stop_watch import StopWatch
from mlcanvas.settings import Settings, get_settings
from mlcanvas.tracking.recorder import RunRecorder
from mlcanvas.tracking.runs import log_bundle, set_tags

ERROR_EVENT = {"nn": "error", "rf": "rf_error"}


def readable_run_name() -> str:
    """Flow run name for the Prefect UI, e.g. `digits-mlp-2`."""
    params = current_run.parameters or {}
    kind = "rf" if current_run.flow_name == "train-rf" else "nn"
    return describe_graph(kind, params.get("graph") or {})


def dataset_retry_condition(_task: Any, _task_run: Any, state: Any) -> bool:
    """Retry dataset fetches on network trouble only, never on bad input or missing creds."""
    try:
        state.result()
    except DatasetUnavailableError as exc:
        return "KAGGLE_USERNAME" not in exc.message
    except MLCanvasError:
        return False
    except Exception:
        return True
    return False


@dataclass
class JobContext:
    kind: str
    job_id: str
    flow_run_id: str
    graph: dict[str, Any]
    settings: Settings
    events: EventLog
    folder: Path
    recorder: RunRecorder | None = None
    stop_reason: str | None = None
    started_at: float = field(default_factory=time.monotonic)

    @classmethod
    def open(cls, *, kind: str, flow_run_id: str, graph: dict[str, Any]) -> JobContext:
        settings = get_settings()
        job_id = job_id_of(flow_run_id)
        return cls(
            kind=kind,
            job_id=job_id,
            flow_run_id=flow_run_id,
            graph=graph,
            settings=settings,
            events=get_event_log(settings.events_url),
            folder=job_dir(settings, kind, job_id),
        )

    def emit(self, type_: str, payload: dict[str, Any]) -> None:
        self.events.append(self.job_id, type_, payload)

    def start(
        self,
        graph_json: dict[str, Any],
        training: dict[str, Any],
        *,
        summary: dict[str, Any],
        python_source: str,
        warnings: list[str],
        params: dict[str, Any],
    ) -> None:
        """Bundle (if the API did not write it: e.g. a run started from the Prefect UI or CLI),
        metadata `running`, the MLflow run, and the first event."""
        if not (self.folder / "metadata.json").exists():
            write_bundle(
                self.settings,
                kind=self.kind,
                job_id=self.job_id,
                python_source=python_source,
                graph=graph_json,
                training=training,
                summary=summary,
                warnings=warnings,
            )
        update_metadata(
            self.folder,
            status="running",
            terminal=False,
            pid=os.getpid(),
            host=socket.gethostname(),
        )
        self.recorder = RunRecorder(
            self.settings,
            kind=self.kind,
            job_id=self.job_id,
            flow_run_id=self.flow_run_id,
            run_name=mlflow_run_name(self.kind, self.graph, self.job_id),
            params=params,
        )
        if self.kind == "nn":
            self.emit(
                "training_backend",
                {
                    "backend": "local",
                    "modal_app_name": None,
                    "modal_function_name": None,
                },
            )
        get_run_logger().info("job %s started (bundle %s)", self.job_id, self.folder)

    @contextmanager
    def stop_watch(self) -> Iterator[StopWatch]:
        with StopWatch(self.events, self.job_id, extra_check=self._prefect_cancelling()) as watch:
            yield watch

    def _prefect_cancelling(self):  # type: ignore[no-untyped-def]
        """Cancel from the Prefect UI: seen as Cancelling, at most once a second."""
        last = [0.0]

        def check() -> str | None:
            if time.monotonic() - last[0] < 1.0:
                return None
            last[0] = time.monotonic()
            with get_client(sync_client=True) as client:
                state = client.read_flow_run(self.flow_run_id).state
            if state is not None and state.type == StateType.CANCELLING:
                return "prefect_cancel"
            return None

        return check

    def finish_ok(
        self,
        *,
        final_metrics: dict[str, float],
        artifact_path: str | None,
        terminal_event: tuple[str, dict[str, Any]] | None,
        log_model: Callable[[str], Any] | None = None,
        sha256: str | None = None,
    ) -> str:
        """Terminal metadata and event first (watchers and infer need nothing else), then
        the MLflow model, bundle and run status, which may take a second."""
        status = "stopped" if self.stop_reason else "completed"
        update_metadata(
            self.folder,
            status=status,
            terminal=True,
            error=None,
            final_metrics=final_metrics,
            artifact_path=artifact_path,
            artifact_sha256=sha256,
        )
        if terminal_event is not None:
            type_, payload = terminal_event
            self.emit(type_, {**payload, "status": status})
        if self.recorder is not None:
            self.recorder.log_metrics(0, final_metrics)
            if log_model is not None and artifact_path is not None:
                self.recorder.call(log_model)
            self.recorder.call(lambda run_id: log_bundle(self.settings, run_id, self.folder))
            self.recorder.call(
                lambda run_id: set_tags(self.settings, run_id, {"mlcanvas.status": status})
            )
            self.recorder.finish("KILLED" if status == "stopped" else "FINISHED")
        return status

    @contextmanager
    def guard(self) -> Iterator[None]:
        """Any failure: an error event (the websocket's terminal message), metadata `failed`,
        the MLflow run FAILED; then re-raise so Prefect marks the run Failed with the reason."""
        try:
            yield
        except BaseException as exc:
            message = (
                exc.message if isinstance(exc, MLCanvasError) else f"{type(exc).__name__}: {exc}"
            )
            payload: dict[str, Any] = {"message": message}
            if isinstance(exc, MLCanvasError) and exc.extra:
                payload["details"] = exc.extra
            self.emit(ERROR_EVENT[self.kind], payload)
            if (self.folder / "metadata.json").exists():
                update_metadata(self.folder, status="failed", terminal=True, error=message)
            if self.recorder is not None:
                try:
                    self.recorder.call(
                        lambda run_id: set_tags(
                            self.settings, run_id, {"mlcanvas.error": message[:5000]}
                        )
                    )
                    self.recorder.finish("FAILED")
                except Exception:  # the original failure is what matters
                    get_run_logger().warning("could not mark the MLflow run failed", exc_info=True)
            raise
