"""Serving a job's bundle files as exports (contract §4, §6): source or trained artifact."""

from __future__ import annotations

from fastapi.responses import FileResponse

from mlcanvas.errors import NotFoundError
from mlcanvas.jobs.bundle import ARTIFACT, FILES, job_dir
from mlcanvas.settings import Settings

SUFFIX = {"nn": "pt", "rf": "pkl"}


def export_file(settings: Settings, kind: str, job_id: str, fmt: str) -> FileResponse:
    """`py` → model.py; otherwise the artifact, downloaded as `<job_id>.pt|.pkl`."""
    folder = job_dir(settings, kind, job_id)
    if fmt == "py":
        path = folder / FILES["python_source"]
        if not path.exists():
            raise NotFoundError(f"Unknown job_id: {job_id}")
        return FileResponse(path, media_type="text/x-python; charset=utf-8")
    path = folder / ARTIFACT[kind]
    if not path.exists():
        raise NotFoundError(f"No exported .{SUFFIX[kind]} artifact yet for this job")
    return FileResponse(
        path, media_type="application/octet-stream", filename=f"{job_id}.{SUFFIX[kind]}"
    )
