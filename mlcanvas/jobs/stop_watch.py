"""Turns durable stop requests (any process) into a cheap flag the loop checks every batch."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from mlcanvas.jobs.event_log import EventLog

log = logging.getLogger(__name__)


class StopWatch:
    """Polls the stop table (and optional extra checks, e.g. Prefect's Cancelling state)."""

    def __init__(
        self,
        events: EventLog,
        job_id: str,
        *,
        interval: float = 0.25,
        extra_check: Callable[[], str | None] | None = None,
    ) -> None:
        self.events = events
        self.job_id = job_id
        self.interval = interval
        self.extra_check = extra_check
        self.reason: str | None = None
        self._flag = threading.Event()
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._poll, name="stop-watch", daemon=True)

    def __enter__(self) -> StopWatch:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._closed.set()
        self._thread.join(timeout=5)

    def is_set(self) -> bool:
        return self._flag.is_set()

    def _poll(self) -> None:
        while not self._closed.wait(self.interval):
            try:
                if self.events.is_stop_requested(self.job_id):
                    self._trip("stop_requested")
                elif self.extra_check is not None and (reason := self.extra_check()):
                    self._trip(reason)
            except Exception:  # a flaky read must not kill the watch; try again next tick
                log.warning("stop check failed for job %s", self.job_id, exc_info=True)
            if self._flag.is_set():
                return

    def _trip(self, reason: str) -> None:
        log.info("job %s: stop (%s)", self.job_id, reason)
        self.reason = reason
        self._flag.set()
