"""A small httpx client for a running stack's API, turning its 4xx bodies back into our errors.

The CLI talks to the stack only through this class, so the contract's error shapes (§1) are
decoded in one place: `detail.errors` becomes a GraphValidationError with every ErrorObj,
anything else keeps `detail.message`.
"""

from __future__ import annotations

from typing import Any, Literal

import httpx

from mlcanvas.errors import (
    ConflictError,
    DependencyUnavailableError,
    ErrorDetail,
    GraphValidationError,
    InvalidInputError,
    MLCanvasError,
    NotFoundError,
)

Kind = Literal["nn", "rf"]
PREFIX: dict[str, str] = {"nn": "/api/model", "rf": "/api/rf"}
SOCKET: dict[str, str] = {"nn": "/ws/training", "rf": "/ws/rf/training"}
_ERROR_FIELDS = ("message", "node_id", "field", "expected", "got")


class StackClient:
    """One API base URL (e.g. `http://127.0.0.1:8000`); every call raises MLCanvasError."""

    def __init__(self, base_url: str, *, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout)

    def __enter__(self) -> StackClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def is_up(self, timeout: float = 0.5) -> bool:
        """True when `GET /health` answers 200 within `timeout` (the CLI's stack probe)."""
        try:
            return self._http.get("/health", timeout=timeout).status_code == 200
        except httpx.HTTPError:
            return False

    def train(self, kind: Kind, graph: dict[str, Any]) -> str:
        """Submit a graph; returns the job id (the API answers `queued` within ~1 s)."""
        return str(self._request("POST", f"{PREFIX[kind]}/train", json=graph)["job_id"])

    def status(self, kind: Kind, job_id: str) -> dict[str, Any]:
        return self._request("GET", f"{PREFIX[kind]}/status", params={"job_id": job_id})

    def find_job(self, job_id: str) -> tuple[Kind, dict[str, Any]]:
        """The job's family and status: NN first, RF when NN does not know the id."""
        try:
            return "nn", self.status("nn", job_id)
        except NotFoundError:
            return "rf", self.status("rf", job_id)

    def stop(self, kind: Kind, job_id: str) -> dict[str, Any]:
        """Cooperative stop: `stopping` for an active job, the terminal status otherwise."""
        return self._request("POST", f"{PREFIX[kind]}/stop", json={"job_id": job_id})

    def jobs(self, limit: int) -> list[dict[str, Any]]:
        """Recent jobs of both families, newest first."""
        return list(self._request("GET", "/api/jobs", params={"limit": limit})["jobs"])

    def socket_url(self, kind: Kind, job_id: str) -> str:
        """The training websocket of a job: ws(s):// on the same host as the API."""
        scheme, _, rest = self.base_url.partition("://")
        ws_scheme = "wss" if scheme == "https" else "ws"
        return f"{ws_scheme}://{rest}{SOCKET[kind]}/{job_id}"

    def _request(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise DependencyUnavailableError(
                f"Cannot reach the API at {self.base_url}: {exc}", url=self.base_url
            ) from exc
        if response.is_success:
            return dict(response.json())
        raise error_from_response(response)


def error_from_response(response: httpx.Response) -> MLCanvasError:
    """The contract's error body (§1) as one of our errors, keeping node ids and fields."""
    try:
        body = response.json()
    except ValueError:
        body = {}
    detail = body.get("detail") if isinstance(body, dict) else None
    code = response.status_code
    if isinstance(detail, dict) and isinstance(detail.get("errors"), list) and detail["errors"]:
        return GraphValidationError([error_detail_from(e) for e in detail["errors"]])
    message = _message(body, detail) or f"HTTP {code}"
    if code == 404:
        return NotFoundError(message)
    if code == 409:
        return ConflictError(message)
    if 400 <= code < 500:
        return InvalidInputError(message)
    return DependencyUnavailableError(f"The API failed (HTTP {code}): {message}")


def _message(body: Any, detail: Any) -> str | None:
    """Where the canvas client looks, in its order: string detail, detail.message, message."""
    if isinstance(detail, str):
        return detail
    if isinstance(detail, dict) and isinstance(detail.get("message"), str):
        return str(detail["message"])
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return str(body["message"])
    return None


def error_detail_from(raw: Any) -> ErrorDetail:
    """An ErrorObj dict from the wire (unknown keys dropped) as an ErrorDetail."""
    if not isinstance(raw, dict):
        return ErrorDetail(message=str(raw))
    known = {key: raw.get(key) for key in _ERROR_FIELDS}
    return ErrorDetail(**{**known, "message": str(known["message"] or "invalid")})
