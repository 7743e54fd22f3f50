"""The infer hot path answers exactly like the documented route, inside the app's CORS.

The deployment service is scripted here (the outcome is chosen by the body): what is under
test is the ASGI layer in front of it. tests/e2e/test_api_deploy.py runs the real service
through it under uvicorn.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.requests import ClientDisconnect

from api.app import create_app
from api.infer_hot_path import DeployInferHotPath
from mlcanvas.errors import InferenceInputError, NotFoundError, NotReadyError
from mlcanvas.settings import Settings

DEPLOYMENT = "ab" * 16
INFER = f"/api/deploy/{DEPLOYMENT}/infer"

OUTCOMES: dict[bytes, Any] = {
    b"ok": b'{"predictions":[3]}',
    b"unknown": NotFoundError(f"Unknown deployment_id: {DEPLOYMENT}", deployment_id=DEPLOYMENT),
    b"stopped": NotReadyError("Deployment is not running", deployment_id=DEPLOYMENT),
    b"shape": InferenceInputError(
        "Input tensor shape is incompatible with deployed model input shape",
        expected_shape=[1, 8, 8],
        got_shape=[28, 28],
    ),
    b"schema": RequestValidationError(
        [{"type": "missing", "loc": ("body", "inputs"), "msg": "Field required", "input": {}}]
    ),
    b"bug": RuntimeError("weights went away"),
}


class ScriptedDeployments:
    """Stands in for DeploymentService.infer; records what it was given."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, bytes]] = []

    async def infer(self, deployment_id: str, body: bytes) -> bytes:
        self.calls.append((deployment_id, body))
        outcome = OUTCOMES[body]
        if isinstance(outcome, Exception):
            raise outcome
        return outcome


def make_app(tmp_path: Any, *, hot_path: bool) -> FastAPI:
    """The real app without its lifespan; without the hot path, infer goes through the route."""
    app = create_app(Settings(data_dir=tmp_path))
    if not hot_path:
        app.user_middleware = [m for m in app.user_middleware if m.cls is not DeployInferHotPath]
    app.state.deployments = ScriptedDeployments()
    return app


def post(app: FastAPI, path: str, body: bytes, **headers: str) -> httpx.Response:
    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as http:
            return await http.post(path, content=body, headers=headers)

    return asyncio.run(send())


@pytest.mark.parametrize("body", list(OUTCOMES))
def test_every_outcome_is_answered_as_the_route_answers_it(tmp_path: Any, body: bytes) -> None:
    fast = make_app(tmp_path, hot_path=True)
    routed = make_app(tmp_path, hot_path=False)

    got, want = post(fast, INFER, body), post(routed, INFER, body)

    assert (got.status_code, got.content) == (want.status_code, want.content)
    for header in ("content-type", "content-length"):
        assert got.headers[header] == want.headers[header]
    assert fast.state.deployments.calls == routed.state.deployments.calls == [(DEPLOYMENT, body)]


def test_the_catch_all_error_is_left_to_the_server_error_handler(tmp_path: Any) -> None:
    reply = post(make_app(tmp_path, hot_path=True), INFER, b"bug")

    assert reply.status_code == 500
    assert reply.json() == {"detail": {"message": "Internal server error: RuntimeError"}}


@pytest.mark.parametrize("bad", ["F" * 32, "f" * 31, "not-an-id"])
def test_malformed_ids_reach_the_route_and_its_404(tmp_path: Any, bad: str) -> None:
    app = make_app(tmp_path, hot_path=True)

    reply = post(app, f"/api/deploy/{bad}/infer", b"ok")

    assert reply.status_code == 404
    assert reply.json()["detail"]["message"] == f"Unknown deployment_id: {bad}"
    assert app.state.deployments.calls == []


def test_browsers_get_the_cors_headers_of_every_route(tmp_path: Any) -> None:
    origin = "http://canvas.example"

    reply = post(make_app(tmp_path, hot_path=True), INFER, b"ok", origin=origin)

    assert reply.status_code == 200
    assert reply.headers["access-control-allow-origin"] == origin
    assert reply.headers["access-control-allow-credentials"] == "true"


def test_other_methods_pass_through_to_the_router(tmp_path: Any) -> None:
    app = make_app(tmp_path, hot_path=True)

    async def get() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as http:
            return await http.get(INFER)

    assert asyncio.run(get()).status_code == 405  # the route takes POST only
    assert app.state.deployments.calls == []


def asgi_call(app: FastAPI, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One POST to the infer path at the ASGI level, the body as the given messages."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": INFER,
        "raw_path": INFER.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"api")],
        "client": ("127.0.0.1", 5000),
        "server": ("api", 80),
        "app": app,
    }
    inbox = list(messages)
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return inbox.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(DeployInferHotPath(app)(scope, receive, send))
    return sent


def test_a_body_in_several_chunks_is_joined(tmp_path: Any) -> None:
    app = make_app(tmp_path, hot_path=True)
    chunks = [
        {"type": "http.request", "body": b"o", "more_body": True},
        {"type": "http.request", "body": b"k", "more_body": False},
    ]

    sent = asgi_call(app, chunks)

    assert app.state.deployments.calls == [(DEPLOYMENT, b"ok")]
    assert sent[0]["status"] == 200 and sent[1]["body"] == OUTCOMES[b"ok"]


def test_a_client_gone_before_the_body_ends_is_not_served(tmp_path: Any) -> None:
    app = make_app(tmp_path, hot_path=True)
    gone = [
        {"type": "http.request", "body": b"o", "more_body": True},
        {"type": "http.disconnect"},
    ]

    with pytest.raises(ClientDisconnect):  # as the route's request.body() raises it
        asgi_call(app, gone)
    assert app.state.deployments.calls == []
