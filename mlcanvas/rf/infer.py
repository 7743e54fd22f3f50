"""RF inference from a loaded `model.pkl` dict (contract §6 infer): rows in, class names out.

Every payload problem is an InferenceInputError carrying a contract message, so the API
answers 400 and never 500 for bad input.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mlcanvas.errors import InferenceInputError

MAX_RF_INFER_ROWS = 4096


def _too_many_rows(rows: int) -> InferenceInputError:
    return InferenceInputError(
        f"Invalid inputs payload: at most {MAX_RF_INFER_ROWS} rows per request",
        max_rows=MAX_RF_INFER_ROWS,
        got_rows=rows,
    )


def _as_matrix(inputs: Any, expected_feature_count: int) -> np.ndarray:
    is_long_matrix = (
        isinstance(inputs, list)
        and len(inputs) > MAX_RF_INFER_ROWS
        and isinstance(inputs[0], list | tuple)
    )
    if is_long_matrix:  # refuse before converting a huge payload
        raise _too_many_rows(len(inputs))
    try:
        values = np.asarray(inputs, dtype=np.float64)
    except (TypeError, ValueError, OverflowError) as exc:
        raise InferenceInputError(f"Invalid inputs payload: {exc}") from exc
    if values.ndim not in (1, 2):
        raise InferenceInputError(
            "inputs must be a 1D feature vector or a 2D feature matrix",
            got_shape=list(values.shape),
        )
    matrix = values.reshape(1, -1) if values.ndim == 1 else values
    if len(matrix) > MAX_RF_INFER_ROWS:
        raise _too_many_rows(len(matrix))
    if matrix.shape[1] != expected_feature_count:
        raise InferenceInputError(
            "Input feature count mismatch",
            expected_feature_count=expected_feature_count,
            got_feature_count=int(matrix.shape[1]),
        )
    if len(matrix) == 0:
        raise InferenceInputError("Invalid inputs payload: no rows")
    if not np.isfinite(matrix).all():
        raise InferenceInputError("Invalid inputs payload: values must be finite numbers")
    return matrix


def predict_rows(artifact: dict[str, Any], inputs: Any, *, return_probabilities: bool) -> dict:
    """`{input_shape, prediction_indices, predictions, classes, probabilities}` for 1..4096 rows.

    `probabilities` has one column per entry of `classes` (0 for a class the forest never
    saw in training), or is None when not asked for.
    """
    model = artifact["model"]
    class_names = [str(name) for name in artifact["class_names"]]
    matrix = _as_matrix(inputs, int(artifact["expected_feature_count"]))
    try:
        seen_proba = model.predict_proba(matrix)
    except ValueError as exc:
        raise InferenceInputError(f"Inference failed: {exc}") from exc
    probabilities = np.zeros((len(matrix), len(class_names)))
    probabilities[:, np.asarray(model.classes_, dtype=int)] = seen_proba
    indices = np.asarray(model.classes_, dtype=int).take(np.argmax(seen_proba, axis=1))
    return {
        "input_shape": [int(dim) for dim in matrix.shape],
        "prediction_indices": [int(index) for index in indices],
        "predictions": [class_names[index] for index in indices],
        "classes": class_names,
        "probabilities": probabilities.tolist() if return_probabilities else None,
    }
