"""Calls a function every few seconds on a daemon thread, and once more when stopped.

Why: request counters and hot-path logs live in memory; this is what writes them out, so a
request never waits for the database and a clean shutdown loses nothing.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


class PeriodicFlush:
    def __init__(self, flush: Callable[[], None], *, interval: float, name: str) -> None:
        self._flush = flush
        self._interval = interval
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        while not self._stopping.wait(self._interval):
            self._call()

    def _call(self) -> None:
        try:
            self._flush()
        except Exception:  # keep flushing; what failed is retried on the next tick
            log.exception("background flush failed")

    def stop(self) -> None:
        """Stop the thread, then flush one last time in the caller's thread."""
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout=max(5.0, self._interval * 2))
        self._call()
