"""Training websockets (contract §5, §6): replay from the first message, then live."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from api.deps import HubDep, JobsDep
from api.services.event_hub import EventHub
from api.services.jobs import JobService
from mlcanvas.errors import MLCanvasError, NotFoundError
from mlcanvas.jobs.ids import check_job_id

log = logging.getLogger(__name__)
router = APIRouter(tags=["websockets"])

POLICY_VIOLATION = 1008


async def _commands(ws: WebSocket, jobs: JobService, kind: str, job_id: str) -> None:
    """`{"command":"stop"}` stops the job; NN ignores malformed text, RF answers rf_error."""
    while True:
        text = await ws.receive_text()
        try:
            command = json.loads(text)
        except ValueError:
            if kind == "rf":
                await ws.send_json(
                    {"type": "rf_error", "message": "Invalid websocket command payload"}
                )
            continue
        if isinstance(command, dict) and command.get("command") == "stop":
            try:
                await jobs.stop(kind, job_id, source="websocket")
            except MLCanvasError:
                log.warning("websocket stop of %s failed", job_id, exc_info=True)


async def _stream(ws: WebSocket, jobs: JobService, hub: EventHub, kind: str, job_id: str) -> None:
    await ws.accept()
    error_type = "error" if kind == "nn" else "rf_error"
    try:
        view = await jobs.view(kind, check_job_id(job_id))
    except NotFoundError:
        await ws.send_json({"type": error_type, "message": f"Unknown job_id: {job_id}"})
        await ws.close(code=POLICY_VIOLATION)
        return
    if kind == "nn":
        await ws.send_json({"type": "ws_connected", "job_id": job_id, "status": view.status})
    listener = asyncio.create_task(_commands(ws, jobs, kind, job_id))
    try:
        async for message in hub.follow(kind, job_id):
            if listener.done():  # the client went away
                return
            await ws.send_json(message)
        await ws.close(code=1000)
    except (WebSocketDisconnect, RuntimeError):
        pass  # the client closed first
    finally:
        listener.cancel()
        with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect, RuntimeError):
            await listener


@router.websocket("/ws/training/{job_id}")
async def nn_training(ws: WebSocket, job_id: str, jobs: JobsDep, hub: HubDep) -> None:
    await _stream(ws, jobs, hub, "nn", job_id)


@router.websocket("/ws/rf/training/{job_id}")
async def rf_training(ws: WebSocket, job_id: str, jobs: JobsDep, hub: HubDep) -> None:
    await _stream(ws, jobs, hub, "rf", job_id)
