"""Fans one job's event log out to any number of websocket watchers.

One poller per job per API process reads new events (one indexed query every 100 ms) and
keeps the job's history in memory while anyone watches; each watcher replays it from the
first event, then follows live. A job whose run ended without a terminal event (its process
was killed) gets one synthesised from the Prefect state, so every stream ends properly.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from starlette.concurrency import run_in_threadpool

from api.services.jobs import JobService
from mlcanvas.jobs.event_log import EventLog

log = logging.getLogger(__name__)

TERMINAL_EVENTS = {"nn": ("training_done", "error"), "rf": ("rf_done", "rf_error")}
ERROR_EVENT = {"nn": "error", "rf": "rf_error"}


@dataclass
class _Feed:
    kind: str
    job_id: str
    messages: list[dict[str, Any]] = field(default_factory=list)
    done: bool = False
    watchers: int = 0
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    task: asyncio.Task[None] | None = None


class EventHub:
    def __init__(self, events: EventLog, jobs: JobService, *, poll_seconds: float = 0.1) -> None:
        self.events = events
        self.jobs = jobs
        self.poll_seconds = poll_seconds
        self._feeds: dict[str, _Feed] = {}

    async def follow(self, kind: str, job_id: str) -> AsyncIterator[dict[str, Any]]:
        """Every message of the job from the first, then live, until its terminal message."""
        feed = self._feeds.get(job_id)
        if feed is None:
            feed = self._feeds[job_id] = _Feed(kind, job_id)
            feed.task = asyncio.create_task(self._poll(feed), name=f"feed-{job_id[:8]}")
        feed.watchers += 1
        sent = 0
        try:
            while True:
                async with feed.changed:
                    await feed.changed.wait_for(lambda n=sent: len(feed.messages) > n or feed.done)
                    batch = feed.messages[sent:]
                    done = feed.done
                sent += len(batch)
                for message in batch:
                    yield message
                if done and sent == len(feed.messages):
                    return
        finally:
            feed.watchers -= 1
            if feed.watchers == 0 and self._feeds.get(job_id) is feed:
                del self._feeds[job_id]
                if feed.task is not None and not feed.done:
                    feed.task.cancel()

    async def _poll(self, feed: _Feed) -> None:
        terminal = TERMINAL_EVENTS[feed.kind]
        last_seq = 0
        ticks = 0
        try:
            while not feed.done:
                new = await run_in_threadpool(self.events.read, feed.job_id, last_seq)
                ended = any(event.type in terminal for event in new)
                if not new and ticks % 10 == 0:
                    ended = await self._ended_without_terminal_event(feed, last_seq)
                ticks += 1
                if new or ended:
                    async with feed.changed:
                        feed.messages.extend(event.message() for event in new)
                        last_seq = new[-1].seq if new else last_seq
                        feed.done = ended
                        feed.changed.notify_all()
                if not ended:
                    await asyncio.sleep(self.poll_seconds)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # never leave watchers hanging
            log.exception("event feed of job %s failed", feed.job_id)
            async with feed.changed:
                feed.messages.append({"type": ERROR_EVENT[feed.kind], "message": str(exc)})
                feed.done = True
                feed.changed.notify_all()

    async def _ended_without_terminal_event(self, feed: _Feed, last_seq: int) -> bool:
        view = await self.jobs.view(feed.kind, feed.job_id)
        if not view.terminal:
            return False
        # The flow writes its terminal event before it ends: read once more to be sure.
        late = await run_in_threadpool(self.events.read, feed.job_id, last_seq)
        if late:
            return False
        if view.status == "failed" or feed.kind == "nn":
            message = view.error or f"Job ended ({view.status}) without a result"
            async with feed.changed:
                feed.messages.append({"type": ERROR_EVENT[feed.kind], "message": message})
        return True

    async def close(self) -> None:
        for feed in list(self._feeds.values()):
            if feed.task is not None:
                feed.task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await feed.task
        self._feeds.clear()
