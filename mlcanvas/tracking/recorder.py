"""Writes a job's MLflow run from a background thread, in order.

MLflow store set-up costs ~0.7 s per process and each write a few ms; none of that should
delay the first epoch or stretch an epoch, so training only enqueues.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

from mlcanvas.settings import Settings
from mlcanvas.tracking import runs

log = logging.getLogger(__name__)

_STOP = object()


class RunRecorder:
    def __init__(
        self,
        settings: Settings,
        *,
        kind: str,
        job_id: str,
        flow_run_id: str,
        run_name: str,
        params: dict[str, Any],
    ) -> None:
        self.settings = settings
        self._queue: queue.Queue[Any] = queue.Queue()
        self._run_id: str | None = None
        self._error: BaseException | None = None
        self._started = threading.Event()
        self._thread = threading.Thread(
            target=self._work,
            args=(kind, job_id, flow_run_id, run_name, params),
            name=f"mlflow-{job_id[:8]}",
            daemon=True,
        )
        self._thread.start()

    def _work(self, kind: str, job_id: str, flow_run_id: str, run_name: str, params: dict) -> None:
        try:
            self._run_id = runs.start_job_run(
                self.settings,
                kind=kind,
                job_id=job_id,
                flow_run_id=flow_run_id,
                run_name=run_name,
                params=params,
            )
        except BaseException as exc:  # reported by run_id/finish in the caller's thread
            self._error = exc
        finally:
            self._started.set()
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            fn, args, done = item
            try:
                if self._error is None:
                    fn(*args)
            except BaseException as exc:
                log.exception("MLflow write failed")
                self._error = exc
            finally:
                if done is not None:
                    done.set()

    @property
    def run_id(self) -> str:
        self._started.wait()
        if self._error is not None:
            raise self._error
        assert self._run_id is not None
        return self._run_id

    def log_metrics(self, step: int, metrics: dict[str, float]) -> None:
        self.submit(lambda: runs.log_step_metrics(self.settings, self.run_id, step, metrics))

    def submit(self, fn: Callable[[], Any]) -> None:
        self._queue.put((fn, (), None))

    def call(self, fn: Callable[[str], Any]) -> None:
        """Run fn(run_id) after everything queued so far, and wait for it."""
        done = threading.Event()
        self._queue.put((lambda: fn(self.run_id), (), done))
        done.wait()
        if self._error is not None:
            raise self._error

    def finish(self, status: str) -> str:
        """Flush, mark the run FINISHED/FAILED/KILLED; returns the run id. The writer thread
        ends even when an earlier write failed (that error is raised here)."""
        try:
            self.call(lambda run_id: runs.end_job_run(self.settings, run_id, status))
        finally:
            self._queue.put(_STOP)
            self._thread.join(timeout=30)
        return self.run_id
