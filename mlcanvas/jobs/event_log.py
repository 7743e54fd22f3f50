"""Durable, ordered, per-job event log readable from any process.

Why a table of our own: appends must be ordered and cheap from the training child, reads must
be cheap and incremental for many websocket watchers, and it must survive restarts. One table in
a SQLAlchemy database (sqlite under the data dir by default; any SQLAlchemy URL, e.g. Postgres,
when the API and executors run on different machines). Measured in docs/benchmarks.md.

The same database holds stop requests, so a stop asked from any process reaches the loop.
"""

from __future__ import annotations

import json
import math
import os
import sqlite3
import threading
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event as sa_event
from sqlalchemy.engine import Engine
from sqlalchemy.schema import CreateTable

_metadata = sa.MetaData()
_APPEND_ATTEMPTS = 50  # seq is max+1: concurrent writers may collide, and the loser retries

job_events = sa.Table(
    "job_events",
    _metadata,
    sa.Column("job_id", sa.String(32), primary_key=True),
    sa.Column("seq", sa.Integer, primary_key=True),
    sa.Column("type", sa.String(32), nullable=False),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
)

stop_requests = sa.Table(
    "stop_requests",
    _metadata,
    sa.Column("job_id", sa.String(32), primary_key=True),
    sa.Column("requested_at", sa.Float, nullable=False),
    sa.Column("source", sa.String(32), nullable=False),
)


@dataclass(frozen=True)
class JobEvent:
    job_id: str
    seq: int
    type: str
    payload: dict[str, Any]
    created_at: float

    def message(self) -> dict[str, Any]:
        """The websocket message: the payload with its `type`."""
        return {"type": self.type, **self.payload}


_WAL_SWITCH_SECONDS = 5.0


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout=5000")
    _enable_wal(cursor)
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _enable_wal(cursor: sqlite3.Cursor) -> None:
    """WAL belongs to the database file and is set by whichever opener gets there first. The
    switch needs the file to itself, and SQLite answers "locked" without waiting when another
    opener holds it, so processes opening a fresh database together retry for a moment."""
    deadline = time.monotonic() + _WAL_SWITCH_SECONDS
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


class EventLog:
    """Append/read job events and stop requests. Safe to share between threads."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._engine = self._make_engine(url)
        self._pid = _current_pid()
        self._lock = threading.Lock()
        self._create_tables()

    @staticmethod
    def _make_engine(url: str) -> Engine:
        if url.startswith("sqlite"):
            engine = sa.create_engine(url, connect_args={"check_same_thread": False})
            sa_event.listen(engine, "connect", _sqlite_pragmas)
            return engine
        return sa.create_engine(url, pool_pre_ping=True)

    def _create_tables(self) -> None:
        """IF NOT EXISTS: the API and the executor may open a fresh database at the same time."""
        with self._engine.begin() as conn:
            for table in _metadata.sorted_tables:
                conn.execute(CreateTable(table, if_not_exists=True))

    @property
    def engine(self) -> Engine:
        # A forked child must not reuse the parent's pooled connections.
        if self._pid != _current_pid():
            self._engine.dispose(close=False)
            self._pid = _current_pid()
        return self._engine

    def append(self, job_id: str, type_: str, payload: dict[str, Any]) -> int:
        """Append one event; returns its sequence number (1-based, gap-free per job)."""
        body = json.dumps(_finite(payload), allow_nan=False, default=float)
        attempts = 0
        with self._lock:
            while True:
                try:
                    return self._insert_next(job_id, type_, body)
                except sa.exc.IntegrityError:
                    # Another writer (process or EventLog) took that seq first: read it again.
                    attempts += 1
                    if attempts >= _APPEND_ATTEMPTS:
                        raise

    def _insert_next(self, job_id: str, type_: str, body: str) -> int:
        with self.engine.begin() as conn:
            last = conn.execute(
                sa.select(sa.func.max(job_events.c.seq)).where(job_events.c.job_id == job_id)
            ).scalar()
            seq = (last or 0) + 1
            conn.execute(
                job_events.insert().values(
                    job_id=job_id, seq=seq, type=type_, payload=body, created_at=time.time()
                )
            )
        return seq

    def read(self, job_id: str, after_seq: int = 0) -> list[JobEvent]:
        """Events with seq > after_seq, in order."""
        query = (
            sa.select(job_events)
            .where(job_events.c.job_id == job_id, job_events.c.seq > after_seq)
            .order_by(job_events.c.seq)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [
            JobEvent(r.job_id, r.seq, r.type, json.loads(r.payload), r.created_at) for r in rows
        ]

    def last_of_type(self, job_id: str, types: tuple[str, ...]) -> JobEvent | None:
        query = (
            sa.select(job_events)
            .where(job_events.c.job_id == job_id, job_events.c.type.in_(types))
            .order_by(job_events.c.seq.desc())
            .limit(1)
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        if row is None:
            return None
        return JobEvent(row.job_id, row.seq, row.type, json.loads(row.payload), row.created_at)

    def request_stop(self, job_id: str, source: str) -> None:
        """Record a stop durably; idempotent (the first request wins)."""
        with self.engine.begin() as conn:
            exists = conn.execute(
                sa.select(stop_requests.c.job_id).where(stop_requests.c.job_id == job_id)
            ).first()
            if exists is None:
                conn.execute(
                    stop_requests.insert().values(
                        job_id=job_id, requested_at=time.time(), source=source
                    )
                )

    def is_stop_requested(self, job_id: str) -> bool:
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(stop_requests.c.job_id).where(stop_requests.c.job_id == job_id)
            ).first()
        return row is not None


def _finite(value: Any) -> Any:
    """A diverged run's NaN/inf loss becomes null: valid JSON for every client."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def _current_pid() -> int:
    return os.getpid()


@lru_cache(maxsize=4)
def get_event_log(url: str) -> EventLog:
    """One EventLog per URL per process (engine set-up is not free)."""
    return EventLog(url)
