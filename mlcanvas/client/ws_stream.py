"""A job's training websocket as a plain iterator of messages (contract §5, §6).

The server replays the whole history on connect, then streams live and closes once the job is
terminal, so iterating to the end sees every message exactly as the canvas client does.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI
from websockets.sync.client import connect

from mlcanvas.errors import DependencyUnavailableError


def stream_messages(url: str, *, open_timeout: float = 5.0) -> Iterator[dict[str, Any]]:
    """Every JSON object the server sends until it closes (1000 after the terminal message,
    1008 after an unknown-job error). Text that is not a JSON object is skipped."""
    try:
        socket = connect(url, open_timeout=open_timeout, close_timeout=2.0)
    except (OSError, TimeoutError, InvalidHandshake, InvalidURI) as exc:
        raise DependencyUnavailableError(f"Cannot open {url}: {exc}", url=url) from exc
    with socket:
        try:
            for raw in socket:
                message = _decode(raw)
                if message is not None:
                    yield message
        except ConnectionClosed:
            return  # an abnormal close ends the stream like a normal one


def _decode(raw: str | bytes) -> dict[str, Any] | None:
    try:
        message = json.loads(raw)
    except ValueError:
        return None
    return message if isinstance(message, dict) else None
