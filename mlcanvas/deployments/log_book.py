"""Structured deployment logs in a `deployment_logs` table of the events database.

Same database and engine as the job event log (mlcanvas/jobs/event_log.py), so logs survive
restarts and any process can read them; a table of its own, so that module is untouched.
Only the newest `keep` entries (contract: 500) are kept per deployment.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.schema import CreateIndex, CreateTable

from mlcanvas.jobs.event_log import get_event_log

KEEP_PER_DEPLOYMENT = 500

_metadata = sa.MetaData()

deployment_logs = sa.Table(
    "deployment_logs",
    _metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("deployment_id", sa.String(32), nullable=False),
    sa.Column("timestamp", sa.String(40), nullable=False),
    sa.Column("level", sa.String(16), nullable=False),
    sa.Column("event", sa.String(64), nullable=False),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("details", sa.Text, nullable=True),
    sa.Index("ix_deployment_logs_deployment_id", "deployment_id", "id"),
)


@dataclass(frozen=True)
class LogEntry:
    """One log line of a deployment: `details` is a JSON object or None."""

    deployment_id: str
    timestamp: str
    level: str
    event: str
    message: str
    details: dict[str, Any] | None = None

    def to_wire(self) -> dict[str, Any]:
        return {
            "timestamp": self.timestamp,
            "level": self.level,
            "event": self.event,
            "message": self.message,
            "details": self.details,
        }


class DeploymentLogBook:
    """Append and read deployment logs; safe to share between threads."""

    def __init__(self, engine: Engine, *, keep: int = KEEP_PER_DEPLOYMENT) -> None:
        self.engine = engine
        self.keep = keep
        with engine.begin() as conn:  # IF NOT EXISTS: other processes may open it at once
            conn.execute(CreateTable(deployment_logs, if_not_exists=True))
            for index in deployment_logs.indexes:
                conn.execute(CreateIndex(index, if_not_exists=True))

    @classmethod
    def for_url(cls, events_url: str, *, keep: int = KEEP_PER_DEPLOYMENT) -> DeploymentLogBook:
        """The log book in the events database at `events_url`, on the event log's engine."""
        return cls(get_event_log(events_url).engine, keep=keep)

    def append_many(self, entries: Iterable[LogEntry]) -> None:
        """Insert in order (one transaction), then trim each touched deployment to `keep`."""
        rows = [
            {
                "deployment_id": e.deployment_id,
                "timestamp": e.timestamp,
                "level": e.level,
                "event": e.event,
                "message": e.message,
                "details": None if e.details is None else json.dumps(e.details, default=str),
            }
            for e in entries
        ]
        if not rows:
            return
        with self.engine.begin() as conn:
            conn.execute(deployment_logs.insert(), rows)
            for deployment_id in {row["deployment_id"] for row in rows}:
                conn.execute(self._trim(deployment_id))

    def _trim(self, deployment_id: str) -> sa.Delete:
        col = deployment_logs.c
        oldest_kept = (
            sa.select(col.id)
            .where(col.deployment_id == deployment_id)
            .order_by(col.id.desc())
            .limit(1)
            .offset(self.keep - 1)
            .scalar_subquery()
        )
        return deployment_logs.delete().where(
            col.deployment_id == deployment_id, col.id < oldest_kept
        )

    def read(self, deployment_id: str, limit: int) -> list[LogEntry]:
        """The last `limit` entries, oldest first."""
        col = deployment_logs.c
        query = (
            sa.select(deployment_logs)
            .where(col.deployment_id == deployment_id)
            .order_by(col.id.desc())
            .limit(limit)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [
            LogEntry(
                deployment_id=row.deployment_id,
                timestamp=row.timestamp,
                level=row.level,
                event=row.event,
                message=row.message,
                details=None if row.details is None else json.loads(row.details),
            )
            for row in reversed(rows)
        ]
