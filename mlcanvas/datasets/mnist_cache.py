"""MNIST files on disk: parse the Kaggle CSVs once, keep tensor caches beside them.

Layout of `<cache>/mnist/` (contract §10): `mnist_<split>.csv` has a header row, then label +
784 pixels (0-255). Parsing 60k rows takes seconds, so each split is saved as
`mnist_<split>.pt` (`{"x": uint8 [N,1,28,28], "y": int64 [N]}`, 4x smaller than float32) and
later loads read only that. Pixels become float32 /255 on load.
"""

from __future__ import annotations

import logging
import os
import pickle
import uuid
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from mlcanvas.errors import DatasetError

logger = logging.getLogger(__name__)

SPLITS = ("train", "test")
IMAGE_SHAPE = (1, 28, 28)
PIXELS = 28 * 28


def csv_path(folder: Path, split: str) -> Path:
    return folder / f"mnist_{split}.csv"


def tensor_cache_path(folder: Path, split: str) -> Path:
    return folder / f"mnist_{split}.pt"


def parse_mnist_csv(path: Path) -> tuple[torch.Tensor, torch.Tensor]:
    """Read one split's CSV into (uint8 images [N,1,28,28], int64 labels [N]).

    pandas' C engine with a uint8 dtype beat pyarrow on this 785-column file, and it rejects
    values outside 0-255, gaps and text for us.
    """
    try:
        frame = pd.read_csv(path, dtype=np.uint8, engine="c")
    except (ValueError, OSError, pd.errors.ParserError) as exc:
        raise DatasetError(f"Could not parse MNIST CSV {path}: {exc}", dataset="mnist") from exc
    if frame.shape[1] != PIXELS + 1:
        raise DatasetError(
            f"MNIST CSV {path} has {frame.shape[1]} columns; expected label + {PIXELS} pixels",
            dataset="mnist",
        )
    values = frame.to_numpy(dtype=np.uint8, copy=False)
    labels = torch.from_numpy(values[:, 0].astype(np.int64))
    if labels.numel() and int(labels.max()) > 9:
        raise DatasetError(f"MNIST CSV {path} has labels outside 0-9", dataset="mnist")
    images = torch.from_numpy(np.ascontiguousarray(values[:, 1:])).reshape(-1, *IMAGE_SHAPE)
    return images, labels


def save_tensor_cache(path: Path, images: torch.Tensor, labels: torch.Tensor) -> None:
    """Write through a temp file and rename, so readers never see a partial cache."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex}.tmp")
    try:
        torch.save({"x": images, "y": labels}, tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def load_tensor_cache(path: Path) -> tuple[torch.Tensor, torch.Tensor]:
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except (RuntimeError, EOFError, OSError, pickle.UnpicklingError) as exc:
        raise DatasetError(
            f"MNIST tensor cache {path} is unreadable ({exc}); delete it to rebuild from the CSV",
            dataset="mnist",
        ) from exc
    if not _has_cache_layout(payload):
        raise DatasetError(
            f"MNIST tensor cache {path} has an unexpected layout; delete it to rebuild",
            dataset="mnist",
        )
    return payload["x"], payload["y"]


def _has_cache_layout(payload: object) -> bool:
    if not isinstance(payload, dict):
        return False
    images, labels = payload.get("x"), payload.get("y")
    return (
        isinstance(images, torch.Tensor)
        and isinstance(labels, torch.Tensor)
        and images.dtype == torch.uint8
        and tuple(images.shape[1:]) == IMAGE_SHAPE
        and labels.dtype == torch.int64
        and labels.shape == images.shape[:1]
    )


def load_split(folder: Path, split: str) -> tuple[torch.Tensor, torch.Tensor]:
    """(float32 images /255, int64 labels) for one split, from the tensor cache or the CSV."""
    cache = tensor_cache_path(folder, split)
    if cache.is_file():
        images, labels = load_tensor_cache(cache)
    else:
        source = csv_path(folder, split)
        logger.info("Parsing %s once; later loads use %s", source, cache.name)
        images, labels = parse_mnist_csv(source)
        save_tensor_cache(cache, images, labels)
    return images.to(torch.float32).div_(255.0), labels


def has_split(folder: Path, split: str) -> bool:
    return tensor_cache_path(folder, split).is_file() or csv_path(folder, split).is_file()
