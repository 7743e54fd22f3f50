"""Ctrl-C for long CLI commands: one press means one interrupt.

A terminal sends SIGINT to the whole foreground process group, and `uv run` forwards it to
its child as well, so one press can arrive twice within milliseconds. The gate ignores
repeats inside a short window. While training in this process it can also defer: the first
press only asks the job to stop (it keeps its partial model); a later one aborts.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

REPEAT_WINDOW_SECONDS = 1.0


class InterruptGate:
    """A SIGINT handler: raises KeyboardInterrupt per press, or records the first one while
    `is_deferring`; repeats within `window` seconds of the last press are ignored."""

    def __init__(self, window: float = REPEAT_WINDOW_SECONDS) -> None:
        self.window = window
        self.is_deferring = False
        self.presses = 0
        self._last_at: float | None = None

    @property
    def is_requested(self) -> bool:
        return self.presses > 0

    def defer_first(self) -> None:
        """From now on, the first press is only recorded (see `is_requested`)."""
        self.is_deferring = True

    def __call__(self, _signum: int, _frame: FrameType | None) -> None:
        now = time.monotonic()
        if self._last_at is not None and now - self._last_at < self.window:
            return
        self._last_at = now
        self.presses += 1
        if self.is_deferring and self.presses == 1:
            return
        raise KeyboardInterrupt


@contextmanager
def interrupt_gate(window: float = REPEAT_WINDOW_SECONDS) -> Iterator[InterruptGate]:
    """Install the gate as the SIGINT handler (main thread only) and restore the old one."""
    gate = InterruptGate(window)
    previous = signal.signal(signal.SIGINT, gate)
    try:
        yield gate
    finally:
        signal.signal(signal.SIGINT, previous)
