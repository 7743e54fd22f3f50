"""DeploymentStore: deployment records in the MLflow registry, logs in the events database.

The inference hot path (`get`, `record_uses`, `log`) only touches memory: request counts,
last-used times and log entries are buffered and written by `flush`, which a background
thread calls every couple of seconds and `close` calls once more. Control-plane calls
(create, start/stop, restore) write through at once.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Iterable
from typing import Any, NamedTuple
from uuid import uuid4

from mlcanvas.deployments.flusher import PeriodicFlush
from mlcanvas.deployments.log_book import DeploymentLogBook, LogEntry
from mlcanvas.deployments.record import (
    RUNNING,
    STOPPED,
    Deployment,
    check_deployment_id,
    endpoint_path_for,
    utc_now_iso,
)
from mlcanvas.deployments.registry import DeploymentRegistry
from mlcanvas.errors import NotFoundError
from mlcanvas.settings import Settings

log = logging.getLogger(__name__)

FLUSH_SECONDS = 2.0
STATUS_EVENTS = {
    RUNNING: ("deployment_started", "Deployment started."),
    STOPPED: ("deployment_stopped", "Deployment stopped."),
}


class Use(NamedTuple):
    """One successful inference through a deployment."""

    deployment_id: str
    input_shape: list[int]
    output_shape: list[int]
    prediction_count: int


class DeploymentStore:
    """Create, list, read, start/stop deployments; count their use; keep their logs."""

    def __init__(self, registry: DeploymentRegistry, log_book: DeploymentLogBook) -> None:
        self.registry = registry
        self.log_book = log_book
        self._records: dict[str, Deployment] = {}
        self._dirty: set[str] = set()
        self._pending: dict[str, deque[LogEntry]] = {}
        self._memory = threading.Lock()  # guards the dicts above; held for microseconds
        self._writes = threading.Lock()  # serialises registry/database writes
        self._restored = False
        self._flusher: PeriodicFlush | None = None

    @classmethod
    def open(cls, settings: Settings) -> DeploymentStore:
        return cls(DeploymentRegistry(settings), DeploymentLogBook.for_url(settings.events_url))

    # --- lifecycle -------------------------------------------------------------------
    def restore(self) -> list[Deployment]:
        """Read every record back; running ones come back stopped (their runtime, the loaded
        model, died with the old process) with a `deployment_restored_stopped` entry.
        Runs once per store; returns the deployments that were restored as stopped."""
        with self._writes:
            if self._restored:
                return []
            records = self.registry.load_all()
            restored = []
            for record in records:
                if record.is_running:
                    record = record.with_changes(status=STOPPED)
                    self.registry.save(record)
                    restored.append(record)
                    self.log(
                        record.deployment_id,
                        "deployment_restored_stopped",
                        "Deployment restored as stopped after an API restart.",
                        {"reason": "in_memory_runtime_lost"},
                    )
                with self._memory:
                    self._records[record.deployment_id] = record
            self._restored = True
            self._write_logs()
        log.info("restored %d deployments (%d were running)", len(records), len(restored))
        return restored

    def adopt(self, records: list[Deployment]) -> None:
        """Take records another process restored (`restore_child`) as this store's restore."""
        with self._writes:
            if self._restored:
                return
            with self._memory:
                self._records.update((record.deployment_id, record) for record in records)
            self._restored = True

    def start_background_flush(self, interval: float = FLUSH_SECONDS) -> None:
        if self._flusher is None:
            self._flusher = PeriodicFlush(self.flush, interval=interval, name="deployment-flush")
            self._flusher.start()

    def close(self) -> None:
        """Stop the background flush and write what is still in memory."""
        if self._flusher is not None:
            self._flusher.stop()
            self._flusher = None
        else:
            self.flush()

    @property
    def is_restored(self) -> bool:
        return self._restored

    def _ensure_restored(self) -> None:
        if not self._restored:
            self.restore()

    # --- control plane ---------------------------------------------------------------
    def create(self, *, job_id: str, kind: str, name: str | None, target: str) -> Deployment:
        """Register (or reuse) the job's model version and record a running deployment."""
        self._ensure_restored()
        with self._writes:
            model_name, version = self.registry.register_job_model(kind, job_id)
            deployment_id = uuid4().hex
            record = Deployment(
                deployment_id=deployment_id,
                job_id=job_id,
                kind=kind,  # type: ignore[arg-type]
                name=(name or "").strip() or None,
                status=RUNNING,
                target=target,
                endpoint_path=endpoint_path_for(deployment_id),
                created_at=utc_now_iso(),
                last_used_at=None,
                request_count=0,
                model_name=model_name,
                model_version=version,
            )
            self.registry.save(record, set_alias=True)
            with self._memory:
                self._records[deployment_id] = record
            self.log(
                deployment_id,
                "deployment_created",
                "Deployment created.",
                {"job_id": job_id, "target": target, "endpoint_path": record.endpoint_path},
            )
            self._write_logs()
        return record

    def set_status(self, deployment_id: str, status: str) -> Deployment:
        """`running` or `stopped`; unchanged (and not logged) when already so."""
        if status not in STATUS_EVENTS:
            raise ValueError(f"unknown deployment status: {status}")
        self.get(deployment_id)
        with self._writes:
            with self._memory:
                current = self._records[deployment_id]
                if current.status == status:
                    return current
                record = current.with_changes(status=status)
                self._records[deployment_id] = record
                self._dirty.discard(deployment_id)  # saved below, counters included
            self.registry.save(record)
            event, message = STATUS_EVENTS[status]
            self.log(deployment_id, event, message, None)
            self._write_logs()
        return record

    def delete(self, deployment_id: str) -> Deployment:
        """The contract's DELETE: stop and keep the record (repeatable)."""
        return self.set_status(deployment_id, STOPPED)

    def resolve_version(self, deployment_id: str) -> str:
        """The registry version behind the deployment's alias (start checks it still exists)."""
        return self.registry.resolve_version(self.get(deployment_id))

    # --- reads and the hot path (memory only) ------------------------------------------
    def get(self, deployment_id: str) -> Deployment:
        check_deployment_id(deployment_id)
        self._ensure_restored()
        record = self._records.get(deployment_id)
        if record is None:
            raise NotFoundError(
                f"Unknown deployment_id: {deployment_id}", deployment_id=deployment_id
            )
        return record

    def list(self) -> list[Deployment]:
        """Newest first."""
        self._ensure_restored()
        with self._memory:
            records = list(self._records.values())
        return sorted(records, key=lambda r: r.created_at, reverse=True)

    def record_uses(self, uses: Iterable[Use]) -> None:
        """Count successful inferences (memory only) and log one entry each.

        A batch of requests is counted with one record update per deployment: rebuilding the
        frozen record per request was a sixth of a small request's inference time."""
        now = utc_now_iso()
        with self._memory:
            counts: dict[str, int] = {}
            for use in uses:
                deployment_id = use.deployment_id
                count = counts.get(deployment_id) or self._records[deployment_id].request_count
                counts[deployment_id] = count = count + 1
                self._buffer(
                    LogEntry(
                        deployment_id,
                        now,
                        "info",
                        "inference_request",
                        "Inference request served.",
                        {
                            "request_count": count,
                            "input_shape": use.input_shape,
                            "output_shape": use.output_shape,
                            "prediction_count": use.prediction_count,
                        },
                    )
                )
            for deployment_id, count in counts.items():
                record = self._records[deployment_id]
                self._records[deployment_id] = record.with_changes(
                    request_count=count, last_used_at=now
                )
                self._dirty.add(deployment_id)

    def log(
        self,
        deployment_id: str,
        event: str,
        message: str,
        details: dict[str, Any] | None,
        *,
        level: str = "info",
    ) -> None:
        """Buffer one log entry; written by the next flush, in order."""
        entry = LogEntry(deployment_id, utc_now_iso(), level, event, message, details)
        with self._memory:
            self._buffer(entry)

    def _buffer(self, entry: LogEntry) -> None:
        queue = self._pending.get(entry.deployment_id)
        if queue is None:  # only the newest `keep` survive anyway
            queue = self._pending[entry.deployment_id] = deque(maxlen=self.log_book.keep)
        queue.append(entry)

    def logs(self, deployment_id: str, limit: int) -> list[LogEntry]:
        """The last `limit` entries, oldest first, including those not flushed yet."""
        self.get(deployment_id)
        with self._writes:
            self._write_logs()
        return self.log_book.read(deployment_id, limit)

    # --- flushing ----------------------------------------------------------------------
    def flush(self) -> None:
        """Write buffered logs, then the records whose counters moved."""
        with self._writes:
            self._write_logs()
            with self._memory:
                dirty = [self._records[i] for i in self._dirty]
                self._dirty.clear()
            for index, record in enumerate(dirty):
                try:
                    self.registry.save_record(record)
                except Exception:
                    with self._memory:  # retried on the next flush
                        self._dirty.update(r.deployment_id for r in dirty[index:])
                    raise

    def _write_logs(self) -> None:
        """Caller holds `_writes`. On failure the entries go back to the front of the buffer."""
        with self._memory:
            pending, self._pending = self._pending, {}
        entries = [entry for queue in pending.values() for entry in queue]
        if not entries:
            return
        try:
            self.log_book.append_many(entries)
        except Exception:
            with self._memory:
                for deployment_id, queue in pending.items():
                    newer = self._pending.get(deployment_id, ())
                    merged = deque(queue, maxlen=self.log_book.keep)
                    merged.extend(newer)
                    self._pending[deployment_id] = merged
            raise
