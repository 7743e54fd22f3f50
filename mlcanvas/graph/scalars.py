"""Reading raw JSON scalars the way the contract means them.

JSON has one number type, so an integral float (`16.0`) is an int; booleans are never
numbers even though Python says `True == 1` (contract §2, New).
"""

from __future__ import annotations

import math
from typing import Any


def as_int(value: Any) -> int | None:
    """The int a value stands for, or None for booleans, fractions and non-numbers."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    return None


def as_number(value: Any) -> float | None:
    """A finite int or float as float; None for booleans, NaN, infinities and non-numbers."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def as_word(value: Any) -> str | None:
    """A string trimmed and lowercased (dataset and optimizer names); None for non-strings."""
    return value.strip().lower() if isinstance(value, str) else None


def as_snake_name(value: Any) -> str | None:
    """Like `as_word`, with `-` and spaces turned into `_` (activation and loss names)."""
    word = as_word(value)
    return None if word is None else word.replace("-", "_").replace(" ", "_")
