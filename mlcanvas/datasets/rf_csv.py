"""Turn a cached Kaggle CSV into a FeatureTable (contract §10, "RF loading").

The Kaggle wine copy is comma-separated while the UCI original uses `;` (§12 item 17), so the
delimiter is read from the header line rather than assumed.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from mlcanvas.datasets.feature_table import FeatureTable
from mlcanvas.datasets.registry import RFDatasetSpec
from mlcanvas.errors import DatasetError

logger = logging.getLogger(__name__)


def find_cached_csv(folder: Path, expected_name: str | None) -> Path | None:
    """The expected file if present, else the first CSV (by name) anywhere in `folder`."""
    if expected_name and (folder / expected_name).is_file():
        return folder / expected_name
    found = sorted(folder.rglob("*.csv")) if folder.is_dir() else []
    return found[0] if found else None


def detect_delimiter(path: Path) -> str:
    """`;` if the header has more semicolons than commas, else `,`."""
    with path.open(encoding="utf-8-sig", errors="replace") as handle:
        header = next((line for line in handle if line.strip()), "")
    return ";" if header.count(";") > header.count(",") else ","


def _read_frame(path: Path, dataset_id: str) -> pd.DataFrame:
    delimiter = detect_delimiter(path)
    try:
        frame = pd.read_csv(path, sep=delimiter, skipinitialspace=True, encoding="utf-8-sig")
    except (ValueError, OSError, pd.errors.ParserError) as exc:
        raise DatasetError(f"Could not parse {path.name}: {exc}", dataset=dataset_id) from exc
    logger.info("Read %s (%d rows, delimiter %r)", path, len(frame), delimiter)
    return frame


def _check_features(frame: pd.DataFrame, path: Path, spec: RFDatasetSpec) -> None:
    for column in frame.columns:
        values = frame[column]
        if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
            raise DatasetError(
                f"Column '{column}' of {path.name} is not numeric",
                dataset=spec.id,
                column=str(column),
            )
        if values.isna().any():
            raise DatasetError(
                f"Column '{column}' of {path.name} has missing values",
                dataset=spec.id,
                column=str(column),
            )
    if frame.shape[1] != spec.feature_count:
        raise DatasetError(
            f"{path.name} has {frame.shape[1]} feature columns; {spec.name} expects "
            f"{spec.feature_count}",
            dataset=spec.id,
            expected=spec.feature_count,
            got=frame.shape[1],
        )


def encode_labels(labels: pd.Series) -> tuple[np.ndarray, tuple[str, ...]]:
    """Indices in sorted label order (numeric labels sort as numbers), and the label strings."""
    categories = sorted(labels.unique().tolist())
    codes = pd.Categorical(labels, categories=categories).codes.astype(np.int64)
    return codes, tuple(str(c) for c in categories)


def _read_target(frame: pd.DataFrame, path: Path, spec: RFDatasetSpec) -> pd.Series:
    if spec.target_column not in frame.columns:
        raise DatasetError(
            f"Target column '{spec.target_column}' not found in {path.name}",
            dataset=spec.id,
            column=spec.target_column,
        )
    target = frame[spec.target_column]
    if target.isna().any():
        raise DatasetError(
            f"Column '{spec.target_column}' of {path.name} has missing values",
            dataset=spec.id,
            column=spec.target_column,
        )
    return target


def read_feature_table(path: Path, spec: RFDatasetSpec) -> FeatureTable:
    """Drop target and drop columns; the rest must be numeric, gap-free and of the spec's width."""
    frame = _read_frame(path, spec.id)
    target = _read_target(frame, path, spec)
    features = frame.drop(columns=[spec.target_column, *spec.drop_columns], errors="ignore")
    _check_features(features, path, spec)
    y, class_names = encode_labels(target)
    if len(class_names) != spec.num_classes:
        raise DatasetError(
            f"{path.name} has {len(class_names)} classes in '{spec.target_column}'; {spec.name} "
            f"expects {spec.num_classes}",
            dataset=spec.id,
            expected=list(spec.class_names),
            got=list(class_names),
        )
    if class_names != spec.class_names:
        logger.warning("%s class names %s differ from %s", path, class_names, spec.class_names)
    return FeatureTable(
        dataset_id=spec.id,
        X=features.to_numpy(dtype=np.float64),
        y=y,
        feature_names=tuple(str(c) for c in features.columns),
        class_names=class_names,
    )
