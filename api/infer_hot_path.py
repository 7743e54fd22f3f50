"""`POST /api/deploy/<id>/infer` served below FastAPI's routing and inner middleware.

Why: with one small image per request, FastAPI's per-request machinery (route matching
through included routers, the exception and exit-stack middleware, Request and Response
objects, each wrapping `send`) cost about as much event-loop time as the inference itself
(docs/benchmarks.md, Serving). This ASGI middleware answers a well-formed infer path directly
from the deployment service, with the app's own exception handlers, so replies and errors are
the ones the documented route in api/routes/deploy.py gives; that route still serves
malformed ids (404) and apps built without this middleware. It sits inside CORS, so browsers
get the same headers as from any route, and anything it does not map reaches the outer
server-error middleware as before.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from api.deps import get_deployments

INFER_PATH = re.compile(r"/api/deploy/([0-9a-f]{32})/infer")
JSON_CONTENT_TYPE = (b"content-type", b"application/json")


class DeployInferHotPath:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        match = INFER_PATH.fullmatch(scope["path"])
        if match is None:
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        try:
            deployments = await get_deployments(request)
            reply = await deployments.infer(match.group(1), await _read_body(receive))
        except Exception as exc:
            handler = _handler_for(request, exc)
            if handler is None:
                raise
            response: Response = (
                await handler(request, exc)
                if inspect.iscoroutinefunction(handler)
                else await run_in_threadpool(handler, request, exc)
            )
            await response(scope, receive, send)
            return
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [JSON_CONTENT_TYPE, (b"content-length", b"%d" % len(reply))],
            }
        )
        await send({"type": "http.response.body", "body": reply})


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _handler_for(request: Request, exc: Exception) -> Callable[..., Any] | None:
    """The app's handler for `exc` as its exception middleware would pick it (most specific
    class first); the catch-all `Exception` handler stays with the server-error middleware."""
    handlers = request.app.exception_handlers
    for cls in type(exc).__mro__:
        if cls is Exception:
            return None
        if cls in handlers:
            return handlers[cls]
    return None
