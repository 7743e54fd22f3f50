"""The RF `model.pkl` (contract §8): a joblib dict, written atomically, read back only by digest.

Unpickling runs code, so `load_rf_artifact` hashes the bytes first and unpickles those same
bytes only when they match the digest recorded when we wrote the file: a file that did not
come from our own store is never unpickled.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import re
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import joblib
from sklearn.ensemble import RandomForestClassifier

from mlcanvas.errors import InvalidInputError, NotFoundError
from mlcanvas.rf.hyperparameters import RFHyperparameters

logger = logging.getLogger(__name__)

ARTIFACT_KEYS: tuple[str, ...] = (
    "model",
    "dataset",
    "feature_names",
    "class_names",
    "expected_feature_count",
    "hyperparameters",
)
_SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")


def build_rf_artifact(
    *,
    model: RandomForestClassifier,
    dataset: str,
    feature_names: Sequence[str],
    class_names: Sequence[str],
    hyperparameters: RFHyperparameters | Mapping[str, Any],
) -> dict[str, Any]:
    """The §8 dict; `expected_feature_count` is what the forest was fitted on.

    `hyperparameters` may be the model or its `model_dump()`; either is checked again.
    """
    if not isinstance(hyperparameters, RFHyperparameters):
        hyperparameters = RFHyperparameters.model_validate(dict(hyperparameters))
    if len(feature_names) != model.n_features_in_:
        raise ValueError(
            f"{len(feature_names)} feature names for a forest fitted on {model.n_features_in_}"
        )
    return {
        "model": model,
        "dataset": dataset,
        "feature_names": list(feature_names),
        "class_names": list(class_names),
        "expected_feature_count": int(model.n_features_in_),
        "hyperparameters": hyperparameters.model_dump(),
    }


def save_rf_artifact(
    path: str | os.PathLike[str],
    *,
    model: RandomForestClassifier,
    dataset: str,
    feature_names: Sequence[str],
    class_names: Sequence[str],
    hyperparameters: RFHyperparameters | Mapping[str, Any],
) -> str:
    """Write `model.pkl` atomically (temp file + rename) and return its sha256 hex digest.

    Keep the digest (e.g. in the job's metadata): `load_rf_artifact` requires it.
    """
    artifact = build_rf_artifact(
        model=model,
        dataset=dataset,
        feature_names=feature_names,
        class_names=class_names,
        hyperparameters=hyperparameters,
    )
    buffer = io.BytesIO()
    joblib.dump(artifact, buffer)
    payload = buffer.getvalue()
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(
        dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(handle, "wb") as temp_file:
            temp_file.write(payload)
            temp_file.flush()
            os.fsync(temp_file.fileno())
        os.replace(temp_name, target)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    digest = hashlib.sha256(payload).hexdigest()
    logger.info("Saved RF artifact %s (%d bytes, sha256 %s)", target, len(payload), digest)
    return digest


def sha256_of_file(path: str | os.PathLike[str]) -> str:
    """Hex digest of a file's bytes, as `save_rf_artifact` returns it."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def load_rf_artifact(path: str | os.PathLike[str], *, expected_sha256: str) -> dict[str, Any]:
    """The §8 dict, unpickled only from bytes whose sha256 equals `expected_sha256`.

    NotFoundError: no file, or a file that is not the one we saved (digest mismatch).
    InvalidInputError: `expected_sha256` is not a sha256 hex digest.
    """
    if not isinstance(expected_sha256, str) or not _SHA256_HEX.match(expected_sha256):
        raise InvalidInputError("expected_sha256 must be 64 lowercase hex characters")
    target = Path(path)
    try:
        payload = target.read_bytes()
    except FileNotFoundError as exc:
        raise NotFoundError("No RF model artifact found") from exc
    digest = hashlib.sha256(payload).hexdigest()
    if digest != expected_sha256:
        logger.warning(
            "Refusing to unpickle %s: sha256 %s, expected %s", target, digest, expected_sha256
        )
        raise NotFoundError("RF model artifact does not match its recorded digest; not loaded")
    artifact = joblib.load(io.BytesIO(payload))
    if not isinstance(artifact, dict) or any(key not in artifact for key in ARTIFACT_KEYS):
        raise NotFoundError("RF model artifact has an unexpected layout")
    return artifact
