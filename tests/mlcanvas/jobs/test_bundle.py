"""The job bundle on disk (contract §8): files, metadata and atomic writes."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from mlcanvas.errors import NotFoundError
from mlcanvas.jobs.bundle import (
    ARTIFACT,
    FILES,
    job_dir,
    now_iso,
    read_json,
    update_metadata,
    write_atomic,
    write_bundle,
)
from mlcanvas.settings import Settings

JOB = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", mlruns_dir=tmp_path / "mlruns", _env_file=None)


def _write(settings: Settings, kind: str = "nn", **overrides: Any) -> Path:
    bundle: dict[str, Any] = {
        "python_source": "class GeneratedModel: ...\n",
        "graph": {"nodes": [{"id": "n1", "type": "Input", "name": "kept"}], "edges": []},
        "training": {"dataset": "digits", "epochs": 2},
        "summary": {"param_count": 10},
        "warnings": ["a warning"],
    }
    return write_bundle(settings, kind=kind, job_id=JOB, **{**bundle, **overrides})


def test_nn_and_rf_jobs_live_in_their_own_folders(settings: Settings) -> None:
    assert job_dir(settings, "nn", JOB) == settings.data_dir / "jobs" / JOB
    assert job_dir(settings, "rf", JOB) == settings.data_dir / "rf" / "jobs" / JOB
    assert ARTIFACT == {"nn": "model.pt", "rf": "model.pkl"}


@pytest.mark.parametrize("bad", ["../../etc", JOB.upper(), "", f"{JOB}/.."])
def test_a_malformed_job_id_never_becomes_a_path(settings: Settings, bad: str) -> None:
    with pytest.raises(NotFoundError, match="Unknown job_id"):
        job_dir(settings, "nn", bad)


def test_write_bundle_writes_every_file_and_a_queued_metadata(settings: Settings) -> None:
    folder = _write(settings)

    assert folder == job_dir(settings, "nn", JOB)
    assert sorted(p.name for p in folder.iterdir()) == sorted(FILES.values())
    assert (folder / "model.py").read_text() == "class GeneratedModel: ...\n"
    assert read_json(folder / "graph.json")["nodes"][0]["name"] == "kept"
    assert read_json(folder / "training.json") == {"dataset": "digits", "epochs": 2}
    assert read_json(folder / "summary.json") == {"param_count": 10}
    metadata = read_json(folder / "metadata.json")
    assert metadata == {
        "job_id": JOB,
        "model_family": "nn",
        "status": "queued",
        "terminal": False,
        "error": None,
        "warnings": ["a warning"],
        "artifact_path": None,
        "final_metrics": None,
        "created_at": metadata["created_at"],
        "updated_at": metadata["created_at"],
        "files": {key: str(folder / name) for key, name in FILES.items()},
    }
    assert datetime.fromisoformat(metadata["created_at"]).utcoffset() is not None


def test_an_rf_bundle_says_its_family(settings: Settings) -> None:
    folder = _write(settings, kind="rf")

    assert folder.parent == settings.rf_jobs_dir
    assert read_json(folder / "metadata.json")["model_family"] == "rf"


def test_values_json_cannot_carry_are_written_as_text(settings: Settings) -> None:
    folder = _write(settings, summary={"where": Path("/x/y")})

    assert read_json(folder / "summary.json") == {"where": "/x/y"}


def test_update_metadata_merges_and_stamps(settings: Settings) -> None:
    folder = _write(settings)
    before = read_json(folder / "metadata.json")

    merged = update_metadata(folder, status="completed", terminal=True, final_metrics={"a": 1})

    assert merged == read_json(folder / "metadata.json")
    assert merged["status"] == "completed" and merged["terminal"] is True
    assert merged["final_metrics"] == {"a": 1}
    assert merged["warnings"] == ["a warning"] and merged["created_at"] == before["created_at"]
    assert merged["updated_at"] >= before["updated_at"]


def test_update_metadata_without_a_bundle_starts_a_new_file(tmp_path: Path) -> None:
    merged = update_metadata(tmp_path / "job", status="failed")

    assert set(merged) == {"status", "updated_at"}
    assert read_json(tmp_path / "job" / "metadata.json") == merged


def test_write_atomic_replaces_whole_files_and_leaves_no_temp(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "file.json"

    write_atomic(path, "first")
    write_atomic(path, b"second")

    assert path.read_bytes() == b"second"
    assert [p.name for p in path.parent.iterdir()] == ["file.json"]


def test_a_failed_write_keeps_the_old_file_and_removes_the_temp(tmp_path: Path) -> None:
    path = tmp_path / "file.json"
    write_atomic(path, json.dumps({"ok": True}))

    with pytest.raises(TypeError):
        write_atomic(path, 12345)  # type: ignore[arg-type]

    assert read_json(path) == {"ok": True}
    assert [p.name for p in tmp_path.iterdir()] == ["file.json"]


def test_now_iso_is_utc_with_an_offset() -> None:
    assert now_iso().endswith("+00:00")
