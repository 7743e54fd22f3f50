"""One Ctrl-C press is one interrupt, even when it arrives twice (terminal + `uv run`)."""

from __future__ import annotations

import signal

import pytest

from mlcanvas.cli_interrupt import InterruptGate


def test_repeats_inside_the_window_are_one_press() -> None:
    gate = InterruptGate(window=60)

    with pytest.raises(KeyboardInterrupt):
        gate(signal.SIGINT, None)
    gate(signal.SIGINT, None)  # the forwarded copy: ignored

    assert gate.presses == 1


def test_deferring_records_the_first_press_and_raises_on_a_later_one() -> None:
    gate = InterruptGate(window=0)
    gate.defer_first()

    gate(signal.SIGINT, None)
    assert gate.is_requested

    with pytest.raises(KeyboardInterrupt):
        gate(signal.SIGINT, None)
    assert gate.presses == 2
