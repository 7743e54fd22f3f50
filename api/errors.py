"""One table from our error families to HTTP responses in the contract's shapes (§1)."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from mlcanvas.errors import (
    ConflictError,
    DependencyUnavailableError,
    GraphValidationError,
    InvalidInputError,
    MLCanvasError,
    NotFoundError,
)

log = logging.getLogger(__name__)

STATUS_BY_FAMILY: list[tuple[type[MLCanvasError], int]] = [
    (InvalidInputError, 400),
    (NotFoundError, 404),
    (ConflictError, 409),
    (DependencyUnavailableError, 503),
]


def status_for(exc: MLCanvasError) -> int:
    for family, status in STATUS_BY_FAMILY:
        if isinstance(exc, family):
            return status
    return 500


def _loc(loc: tuple[Any, ...] | list[Any]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def validation_message(errors: list[dict[str, Any]]) -> str:
    """`body.nodes[0].type: Input should be 'Input', ...` — what the client shows (contract §1)."""
    if not errors:
        return "Invalid request"
    first = errors[0]
    loc = list(first.get("loc", ()))
    if first.get("type") in ("union_tag_invalid", "union_tag_not_found"):  # name the tag field
        loc.append(str((first.get("ctx") or {}).get("discriminator", "type")).strip("'"))
    return f"{_loc(loc)}: {first.get('msg', 'invalid')}"


async def _mlcanvas_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, MLCanvasError)
    if isinstance(exc, GraphValidationError):
        detail: dict[str, Any] = {
            "message": exc.message,
            "errors": [e.to_dict() for e in exc.errors],
        }
    else:
        detail = exc.to_detail()
    return JSONResponse(status_code=status_for(exc), content={"detail": jsonable_encoder(detail)})


async def _request_validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = jsonable_encoder(exc.errors(), custom_encoder={Exception: str})
    return JSONResponse(
        status_code=422, content={"detail": errors, "message": validation_message(errors)}
    )


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return JSONResponse(
        status_code=500,
        content={"detail": {"message": f"Internal server error: {type(exc).__name__}"}},
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(MLCanvasError, _mlcanvas_error)
    app.add_exception_handler(RequestValidationError, _request_validation_error)
    app.add_exception_handler(Exception, _unexpected)
