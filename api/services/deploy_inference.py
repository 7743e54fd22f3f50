"""The deployment infer hot path: concurrent requests in one forward pass per model.

Why: with many small concurrent requests (the deployments page, a client calling an endpoint
row by row), a thread hop and a forward pass per request cost more than the model itself.
Requests are served in batches: a batch parses and checks each request (a bad one fails
alone), runs one forward pass per model over all their rows (at most `max_rows`, a request's
own rows are never split) and hands each caller its slice as ready JSON bytes.

Small NN requests (a few images, about a millisecond of work) are batched on the event loop
itself, with whatever arrived in the same loop iteration: the hop to a thread and back cost
more than their inference (docs/benchmarks.md, Serving). Larger bodies, forests and models not
loaded yet go to one worker thread, so the loop never parses megabytes or loads a model.
Nothing here touches a database: counters and logs go to the store's memory and are flushed
in the background.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field, ValidationError

from api.errors import validation_message
from api.services.models import ModelCache
from mlcanvas.deployments.record import Deployment
from mlcanvas.deployments.store import DeploymentStore, Use
from mlcanvas.errors import InferenceInputError, MLCanvasError, NotFoundError
from mlcanvas.inference.nn_infer import (
    MAX_INFER_ROWS,
    is_plain_inputs_body,
    predict,
    prepare_inputs,
)
from mlcanvas.jobs.bundle import ARTIFACT, job_dir
from mlcanvas.rf.infer import predict_rows
from mlcanvas.settings import Settings

if TYPE_CHECKING:  # torch comes with the first NN model (api/services/models.py)
    import torch

log = logging.getLogger(__name__)

MAX_REQUESTS_PER_BATCH = 256
MAX_BODY_BYTES_ON_LOOP = 64 * 1024
"""NN request bodies up to this size are served on the event loop: a few 784-value images, at
most about a millisecond of parsing and checking each."""
ARTIFACT_SUFFIX = {"nn": "pt", "rf": "pkl"}
_STOP = object()


class DeploymentInferRequest(BaseModel):
    inputs: Any = Field(description="Same formats as job infer (NN: contract §4; RF: §6).")
    return_probabilities: bool = True


@dataclass
class _Request:
    record: Deployment
    body: bytes
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[bytes]
    inputs: Any = None
    return_probabilities: bool = True
    plain_numbers: bool = False  # inputs holds only numbers and lists (is_plain_inputs_body)
    rows: torch.Tensor | None = field(default=None, repr=False)
    on_loop: bool = False  # served on its own event loop, so settled without a thread hop


class DeploymentInference:
    """Owns the worker thread and the batches waiting on event loops; `infer` is awaited by
    the route."""

    def __init__(
        self,
        store: DeploymentStore,
        models: ModelCache,
        settings: Settings,
        *,
        max_rows: int = MAX_INFER_ROWS,
    ) -> None:
        self.store = store
        self.models = models
        self.settings = settings
        self.max_rows = max_rows
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._on_loop: dict[asyncio.AbstractEventLoop, list[_Request]] = {}
        self._thread = threading.Thread(target=self._work, name="deploy-infer", daemon=True)
        self._thread.start()

    async def infer(self, record: Deployment, body: bytes) -> bytes:
        loop = asyncio.get_running_loop()
        request = _Request(record, body, loop, loop.create_future())
        if record.kind == "nn" and len(body) <= MAX_BODY_BYTES_ON_LOOP:
            request.on_loop = True
            waiting = self._on_loop.get(loop)
            if waiting is None:
                waiting = self._on_loop[loop] = []
                loop.call_soon(self._serve_on_loop, loop)
            waiting.append(request)
        else:
            self._queue.put(request)
        return await request.future

    def close(self) -> None:
        self._queue.put(_STOP)
        self._thread.join(timeout=10)

    def _serve_on_loop(self, loop: asyncio.AbstractEventLoop) -> None:
        """What arrived in this loop iteration, as one batch; the rest of a burst larger than
        a batch is served in a later callback, so other ready work runs in between."""
        batch = self._on_loop.pop(loop)
        if len(batch) > MAX_REQUESTS_PER_BATCH:
            self._on_loop[loop] = batch[MAX_REQUESTS_PER_BATCH:]
            loop.call_soon(self._serve_on_loop, loop)
            batch = batch[:MAX_REQUESTS_PER_BATCH]
        self._serve_batch(batch)

    # --- worker thread ------------------------------------------------------------------
    def _work(self) -> None:
        while True:
            first = self._queue.get()
            if first is _STOP:
                return
            batch = [first]
            while len(batch) < MAX_REQUESTS_PER_BATCH:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is _STOP:
                    self._queue.put(_STOP)
                    break
                batch.append(item)
            self._serve_batch(batch)

    # --- one batch, on a loop or on the worker ---------------------------------------------
    def _serve_batch(self, batch: list[_Request]) -> None:
        try:
            self._serve(batch)
        except Exception as exc:  # never let the worker or the loop die; each caller gets a 500
            log.exception("deployment inference batch failed")
            for request in batch:
                _settle(request, error=exc)

    def _serve(self, batch: list[_Request]) -> None:
        groups: dict[tuple[str, str], list[_Request]] = defaultdict(list)
        for request in batch:
            try:
                self._parse(request)
            except (RequestValidationError, InferenceInputError) as exc:
                self._reject(request, exc)
                continue
            groups[(request.record.kind, request.record.job_id)].append(request)
        for (kind, job_id), requests in groups.items():
            folder = job_dir(self.settings, kind, job_id)
            if requests[0].on_loop and not self.models.has(folder / ARTIFACT[kind]):
                self._hand_to_worker(requests)
                continue
            try:
                if kind == "nn":
                    self._serve_nn(folder, requests)
                else:
                    for request in requests:
                        self._serve_rf(folder, request)
            except FileNotFoundError:  # the artifact went away after deploy/start
                missing = NotFoundError(
                    f"No .{ARTIFACT_SUFFIX[kind]} artifact found for job_id: {job_id}"
                )
                for request in requests:
                    _settle(request, error=missing)
            except Exception as exc:  # e.g. weights that no longer fit: those callers only
                if not isinstance(exc, MLCanvasError):
                    log.exception("inference failed for job %s", job_id)
                for request in requests:
                    _settle(request, error=exc)

    def _hand_to_worker(self, requests: list[_Request]) -> None:
        """The model is not loaded (or its file changed): the worker loads it, off the loop."""
        for request in requests:
            request.on_loop = False
            self._queue.put(request)

    def _parse(self, request: _Request) -> None:
        try:
            raw = orjson.loads(request.body)
        except orjson.JSONDecodeError as exc:
            raise RequestValidationError(
                [
                    {
                        "type": "json_invalid",
                        "loc": ("body", exc.pos),
                        "msg": "JSON decode error",
                        "input": {},
                        "ctx": {"error": exc.msg},
                    }
                ]
            ) from exc
        if request.record.kind == "nn" and is_plain_inputs_body(request.body):
            request.inputs, request.plain_numbers = raw["inputs"], True
            return  # all the model would check: `inputs` is there, the rest are defaults
        try:
            parsed = DeploymentInferRequest.model_validate(raw)
        except ValidationError as exc:
            errors = [{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]
            raise RequestValidationError(errors) from exc
        request.inputs = parsed.inputs
        request.return_probabilities = parsed.return_probabilities

    def _serve_nn(self, folder: Path, requests: list[_Request]) -> None:
        loaded = self.models.nn(folder)
        ready = []
        for request in requests:
            try:
                request.rows = prepare_inputs(
                    request.inputs,
                    loaded.input_shape,
                    what="deployed model",
                    plain_numbers=request.plain_numbers,
                )
            except InferenceInputError as exc:
                self._reject(request, exc)
                continue
            ready.append(request)
        chunk: list[_Request] = []
        rows = 0
        for request in ready:
            count = len(request.rows)
            if chunk and rows + count > self.max_rows:
                self._forward(loaded.module, chunk)
                chunk, rows = [], 0
            chunk.append(request)
            rows += count
        if chunk:
            self._forward(loaded.module, chunk)

    def _forward(self, module: torch.nn.Module, chunk: list[_Request]) -> None:
        """One forward pass for the whole chunk; each request gets its own rows back."""
        import torch

        x = chunk[0].rows if len(chunk) == 1 else torch.cat([r.rows for r in chunk])
        wants_probabilities = any(r.return_probabilities for r in chunk)
        result = predict(module, x, return_probabilities=wants_probabilities)
        start = 0
        served = []
        for request in chunk:
            count = len(request.rows)
            end = start + count
            reply = {
                "job_id": request.record.job_id,
                "input_shape": list(request.rows.shape),
                "output_shape": [count, result["output_shape"][1]],
                "logits": result["logits"][start:end],
                "predictions": result["predictions"][start:end],
            }
            if request.return_probabilities:
                reply["probabilities"] = result["probabilities"][start:end]
            start = end
            served.append((request, reply, reply["output_shape"]))
        self._succeed(served)

    def _serve_rf(self, folder: Path, request: _Request) -> None:
        try:
            artifact = self.models.rf(folder)
            result = predict_rows(
                artifact, request.inputs, return_probabilities=request.return_probabilities
            )
        except InferenceInputError as exc:
            self._reject(request, exc)
            return
        reply = {"job_id": request.record.job_id, **result}
        self._succeed([(request, reply, [len(result["predictions"]), len(result["classes"])])])

    def _succeed(self, served: list[tuple[_Request, dict[str, Any], list[int]]]) -> None:
        """Count the requests (before any caller sees a reply), then answer each."""
        self.store.record_uses(
            Use(
                request.record.deployment_id,
                reply["input_shape"],
                output_shape,
                len(reply["predictions"]),
            )
            for request, reply, output_shape in served
        )
        for request, reply, _ in served:
            reply["deployment_id"] = request.record.deployment_id
            _settle(request, result=orjson.dumps(reply))

    def _reject(self, request: _Request, exc: Exception) -> None:
        """Bad input: logged as `inference_request_invalid`, not counted."""
        if isinstance(exc, InferenceInputError):
            status, detail = 400, exc.to_detail()
        else:
            errors = exc.errors() if isinstance(exc, RequestValidationError) else []
            status, detail = 422, {"message": validation_message(list(errors))}
        message = detail["message"]
        self.store.log(
            request.record.deployment_id,
            "inference_request_invalid",
            f"Inference request rejected: {message}",
            {"status_code": status, "detail": detail},
            level="error",
        )
        _settle(request, error=exc)


def _settle(
    request: _Request, *, result: bytes | None = None, error: BaseException | None = None
) -> None:
    """Hand the outcome to the caller's event loop (a caller that went away is skipped):
    directly when served on that loop, else through `call_soon_threadsafe`."""

    def finish() -> None:
        if request.future.done():
            return
        if error is not None:
            request.future.set_exception(error)
        else:
            request.future.set_result(result)  # type: ignore[arg-type]

    if request.on_loop:
        finish()
        return
    try:
        request.loop.call_soon_threadsafe(finish)
    except RuntimeError:  # the loop is closed (shutdown)
        pass
