"""The error tree: families, HTTP-body details, and pickling with every field (errors cross
process boundaries: Prefect children, the forkserver)."""

from __future__ import annotations

import pickle

import pytest

from mlcanvas import errors
from mlcanvas.errors import (
    ConflictError,
    DatasetError,
    DatasetUnavailableError,
    DependencyUnavailableError,
    ErrorDetail,
    GraphValidationError,
    InferenceInputError,
    InvalidInputError,
    MLCanvasError,
    NotFoundError,
    NotReadyError,
)

SIMPLE_FAMILIES = [
    MLCanvasError,
    InvalidInputError,
    DatasetError,
    DatasetUnavailableError,
    InferenceInputError,
    NotReadyError,
    NotFoundError,
    ConflictError,
    DependencyUnavailableError,
]

DETAILS = [
    ErrorDetail("Dense.units must be a positive integer", "node_3", "config.units", 1, 0),
    ErrorDetail("training.epochs must be an integer", field="training.epochs", got="x"),
]


def _all_error_classes() -> set[type[MLCanvasError]]:
    found: set[type[MLCanvasError]] = set()
    pending: list[type[MLCanvasError]] = [MLCanvasError]
    while pending:
        cls = pending.pop()
        found.add(cls)
        pending.extend(cls.__subclasses__())
    return found


def _round_trip(err: MLCanvasError) -> MLCanvasError:
    return pickle.loads(pickle.dumps(err))


def test_every_error_class_is_covered_here() -> None:
    in_module = {cls for cls in _all_error_classes() if cls.__module__ == errors.__name__}

    assert in_module == {*SIMPLE_FAMILIES, GraphValidationError}


@pytest.mark.parametrize("cls", SIMPLE_FAMILIES, ids=lambda cls: cls.__name__)
def test_each_family_pickles_with_its_message_and_fields(cls: type[MLCanvasError]) -> None:
    err = cls("Unknown job_id: abc", job_id="abc", expected_shape=[1, 8, 8])

    copy = _round_trip(err)

    assert type(copy) is cls
    assert copy.message == "Unknown job_id: abc" and str(copy) == str(err)
    assert copy.extra == {"job_id": "abc", "expected_shape": [1, 8, 8]}
    assert copy.to_detail() == err.to_detail()


def test_to_detail_puts_the_message_first_then_the_fields() -> None:
    err = InferenceInputError(
        "Input tensor shape is incompatible with model input shape",
        expected_shape=[1, 8, 8],
        got_shape=[1, 28, 28],
    )

    assert err.to_detail() == {
        "message": "Input tensor shape is incompatible with model input shape",
        "expected_shape": [1, 8, 8],
        "got_shape": [1, 28, 28],
    }
    assert NotFoundError("No exported .pt artifact yet for this job").to_detail() == {
        "message": "No exported .pt artifact yet for this job"
    }


def test_graph_validation_error_lists_every_problem_and_leads_with_the_first() -> None:
    err = GraphValidationError(DETAILS, warnings=["a warning"])

    assert err.message == DETAILS[0].message == str(err)
    assert err.errors == DETAILS
    assert err.warnings == ["a warning"]
    assert err.to_detail() == {
        "message": DETAILS[0].message,
        "errors": [d.to_dict() for d in DETAILS],
    }


def test_graph_validation_error_pickles_with_errors_and_warnings() -> None:
    err = GraphValidationError(DETAILS, warnings=["a warning"])

    copy = _round_trip(err)

    assert type(copy) is GraphValidationError
    assert copy.errors == DETAILS and copy.warnings == ["a warning"]
    assert copy.message == err.message and copy.extra == err.extra
    assert copy.to_detail() == err.to_detail()


def test_graph_validation_error_needs_at_least_one_error() -> None:
    with pytest.raises(ValueError, match="at least one error"):
        GraphValidationError([])


def test_error_detail_is_the_contract_error_object_with_field() -> None:
    assert ErrorDetail("Graph has no nodes", expected="at least one node", got=0).to_dict() == {
        "message": "Graph has no nodes",
        "node_id": None,
        "field": None,
        "expected": "at least one node",
        "got": 0,
    }


@pytest.mark.parametrize(
    ("cls", "family"),
    [
        (GraphValidationError, InvalidInputError),
        (DatasetError, InvalidInputError),
        (DatasetUnavailableError, DatasetError),
        (InferenceInputError, InvalidInputError),
        (NotReadyError, InvalidInputError),
        (NotFoundError, MLCanvasError),
        (ConflictError, MLCanvasError),
        (DependencyUnavailableError, MLCanvasError),
    ],
)
def test_the_tree_is_the_one_drawn_in_the_docstring(
    cls: type[MLCanvasError], family: type[MLCanvasError]
) -> None:
    assert cls.__mro__[1] is family
