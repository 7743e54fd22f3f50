"""Job and deployment ids: 32 lowercase hex characters, checked before any storage is touched."""

from __future__ import annotations

import re
from uuid import UUID

from mlcanvas.errors import NotFoundError

_ID = re.compile(r"[0-9a-f]{32}")


def check_job_id(job_id: str | None, *, what: str = "job_id") -> str:
    """Return the id unchanged, or raise the contract's 404 for anything malformed."""
    if not isinstance(job_id, str) or not _ID.fullmatch(job_id):
        raise NotFoundError(f"Unknown {what}: {job_id}")
    return job_id


def job_id_of(flow_run_id: UUID | str) -> str:
    return UUID(str(flow_run_id)).hex


def flow_run_id_of(job_id: str) -> UUID:
    return UUID(hex=check_job_id(job_id))
