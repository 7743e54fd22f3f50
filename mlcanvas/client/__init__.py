"""Talking to a running stack (REST and websockets) or, without one, training in-process."""

from mlcanvas.client.job_messages import FAILURE_TYPES, TERMINAL_TYPES
from mlcanvas.client.stack_client import StackClient, error_from_response
from mlcanvas.client.ws_stream import stream_messages

__all__ = [
    "FAILURE_TYPES",
    "TERMINAL_TYPES",
    "StackClient",
    "error_from_response",
    "stream_messages",
]
