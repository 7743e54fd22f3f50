"""The job bundle on disk (contract §8): written before the train reply, updated on state changes.

Every write is atomic (temp file + rename) so a reader never sees half a file and a killed
process never leaves one.
"""

from __future__ import annotations

import json
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mlcanvas.jobs.ids import check_job_id
from mlcanvas.settings import Settings

FILES = {
    "python_source": "model.py",
    "graph": "graph.json",
    "training": "training.json",
    "summary": "summary.json",
    "metadata": "metadata.json",
}
ARTIFACT = {"nn": "model.pt", "rf": "model.pkl"}


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


def job_dir(settings: Settings, kind: str, job_id: str) -> Path:
    root = settings.jobs_dir if kind == "nn" else settings.rf_jobs_dir
    return root / check_job_id(job_id)


def write_atomic(path: Path, data: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data.encode() if isinstance(data, str) else data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _json(data: Any) -> str:
    return json.dumps(data, indent=2, sort_keys=False, default=str) + "\n"


def write_bundle(
    settings: Settings,
    *,
    kind: str,
    job_id: str,
    python_source: str,
    graph: dict[str, Any],
    training: dict[str, Any],
    summary: dict[str, Any],
    warnings: list[str],
) -> Path:
    """Write model.py, graph.json, training.json, summary.json and a queued metadata.json."""
    folder = job_dir(settings, kind, job_id)
    write_atomic(folder / FILES["python_source"], python_source)
    write_atomic(folder / FILES["graph"], _json(graph))
    write_atomic(folder / FILES["training"], _json(training))
    write_atomic(folder / FILES["summary"], _json(summary))
    stamp = now_iso()
    metadata = {
        "job_id": job_id,
        "model_family": kind,
        "status": "queued",
        "terminal": False,
        "error": None,
        "warnings": warnings,
        "artifact_path": None,
        "final_metrics": None,
        "created_at": stamp,
        "updated_at": stamp,
        "files": {key: str(folder / name) for key, name in FILES.items()},
    }
    write_atomic(folder / FILES["metadata"], _json(metadata))
    return folder


def read_json(path: Path) -> Any:
    return json.loads(path.read_text())


def update_metadata(folder: Path, **changes: Any) -> dict[str, Any]:
    """Merge `changes` into metadata.json (only one process writes a job's bundle at a time)."""
    path = folder / FILES["metadata"]
    metadata = read_json(path) if path.exists() else {}
    metadata.update(changes, updated_at=now_iso())
    write_atomic(path, _json(metadata))
    return metadata
