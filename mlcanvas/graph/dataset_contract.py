"""Does a valid graph fit its dataset? (contract §3 "Dataset contract", §6 train, §12 item 15.)

Checked at train time, after graph validation; the errors carry no node id, only the field.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from mlcanvas.errors import ErrorDetail


def check_dataset_contract(
    *,
    name: str,
    input_shape: Sequence[int],
    num_classes: int,
    graph_input_shape: Sequence[int] | None,
    graph_num_classes: int | None,
) -> list[ErrorDetail]:
    """NN: the Input shape and Output classes must equal the dataset's (`name`, e.g. `MNIST`)."""
    errors: list[ErrorDetail] = []
    want_shape = list(input_shape)
    got_shape = None if graph_input_shape is None else list(graph_input_shape)
    if got_shape != want_shape:
        errors.append(
            ErrorDetail(
                message=f"{name} requires Input.shape={want_shape}",
                field="config.shape",
                expected=want_shape,
                got=got_shape,
            )
        )
    if graph_num_classes != num_classes:
        errors.append(
            ErrorDetail(
                message=f"{name} requires Output.num_classes={num_classes}",
                field="config.num_classes",
                expected=num_classes,
                got=graph_num_classes,
            )
        )
    return errors


def check_rf_dataset_contract(
    *,
    name: str,
    feature_count: int,
    num_classes: int,
    graph_input_shape: Sequence[int] | None,
    graph_num_classes: int | None,
) -> list[ErrorDetail]:
    """RF: the RFInput shape's product (features after RFFlatten) and RFOutput classes must
    equal the dataset's (`name`, e.g. `Iris`)."""
    errors: list[ErrorDetail] = []
    graph_features = None if graph_input_shape is None else math.prod(graph_input_shape)
    if graph_features != feature_count:
        errors.append(
            ErrorDetail(
                message=f"{name} requires {feature_count} features (product of RFInput.shape)",
                field="config.shape",
                expected=feature_count,
                got=graph_features,
            )
        )
    if graph_num_classes != num_classes:
        errors.append(
            ErrorDetail(
                message=f"{name} requires RFOutput.num_classes={num_classes}",
                field="config.num_classes",
                expected=num_classes,
                got=graph_num_classes,
            )
        )
    return errors
