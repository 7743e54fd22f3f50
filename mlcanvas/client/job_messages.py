"""Which job messages end a training stream (contract §5, §6), shared by every reader of it."""

from __future__ import annotations

TERMINAL_TYPES = frozenset({"training_done", "error", "rf_done", "rf_error"})
FAILURE_TYPES = frozenset({"error", "rf_error"})
