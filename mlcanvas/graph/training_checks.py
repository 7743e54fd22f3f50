"""Checks one raw training block key by key, collecting every bad key before anyone raises.

Each problem becomes an `ErrorDetail` with `field="training.<key>"`, the rule in `expected`
and the raw value in `got`, so the 400 names every key to fix at once (contract §12 item 1).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mlcanvas.errors import ErrorDetail
from mlcanvas.graph.scalars import as_int, as_number, as_snake_name, as_word


class TrainingChecker:
    """Reads keys of a raw block; good values land in `values`, problems in `errors`."""

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self.raw = raw
        self.values: dict[str, Any] = {}
        self.errors: list[ErrorDetail] = []

    def integer(self, key: str, low: int, high: int) -> None:
        """An int (or integral float) in [low, high]; booleans are rejected."""
        number = as_int(self.raw[key])
        if number is None or not low <= number <= high:
            self._fail(key, f"an integer in [{low}, {high}]", f"int in [{low}, {high}]")
        else:
            self.values[key] = number

    def number(self, key: str, low: float, high: float, *, high_inclusive: bool) -> None:
        """A finite number in (low, high] or (low, high)."""
        number = as_number(self.raw[key])
        close = "]" if high_inclusive else ")"
        is_in_range = (
            number is not None
            and low < number
            and (number <= high if high_inclusive else number < high)
        )
        if not is_in_range:
            bound = f"({low:g}, {high:g}{close}"
            self._fail(key, f"a number in {bound}", f"number in {bound}")
        else:
            self.values[key] = number

    def choice(self, key: str, aliases: Mapping[str, str], *, snake: bool = False) -> None:
        """A name from `aliases` (trimmed, any case; with `snake`, `-`/space read as `_`)."""
        name = as_snake_name(self.raw[key]) if snake else as_word(self.raw[key])
        if name not in aliases:
            names = list(aliases)
            self._fail(key, f"one of {', '.join(names)}", names)
        else:
            self.values[key] = aliases[name]

    def identifier(self, key: str) -> None:
        """A non-empty id, trimmed and lowercased; whether it exists is checked elsewhere."""
        word = as_word(self.raw[key])
        if not word:
            self._fail(key, "a non-empty string", "non-empty dataset id")
        else:
            self.values[key] = word

    def flag(self, key: str) -> None:
        """A JSON boolean; `"true"` and `1` are not."""
        value = self.raw[key]
        if not isinstance(value, bool):
            self._fail(key, "a boolean", "bool")
        else:
            self.values[key] = value

    def _fail(self, key: str, rule: str, expected: Any) -> None:
        self.errors.append(
            ErrorDetail(
                message=f"training.{key} must be {rule}",
                field=f"training.{key}",
                expected=expected,
                got=self.raw[key],
            )
        )
