"""One tree of typed errors; the API maps families to status codes in one table.

    MLCanvasError
    ├── InvalidInputError            400  bad input the caller can fix
    │   ├── GraphValidationError     400  carries errors[] (node_id, field, expected, got)
    │   ├── DatasetError             400  unknown dataset, graph/dataset mismatch
    │   │   └── DatasetUnavailableError  no cache and no credentials (names what to set)
    │   ├── InferenceInputError      400  infer payload of the wrong shape/type
    │   └── NotReadyError            400  no trained model yet, nothing to stop, not running
    ├── NotFoundError                404  unknown job/deployment id, missing artifact
    ├── ConflictError                409  the request contradicts the current state
    └── DependencyUnavailableError   503  Prefect/MLflow/Modal not reachable

Errors cross process boundaries (Prefect children, forkserver), so each one pickles with
its fields (`__reduce__` rebuilds from the constructor arguments).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class ErrorDetail:
    """One problem in a graph or config, in the contract's `ErrorObj` shape."""

    message: str
    node_id: str | None = None
    field: str | None = None
    expected: Any = None
    got: Any = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class MLCanvasError(Exception):
    """Root of every error we raise on purpose; `extra` goes into the HTTP body."""

    def __init__(self, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.message, self.extra))

    def to_detail(self) -> dict[str, Any]:
        return {"message": self.message, **self.extra}


def _rebuild(cls: type[MLCanvasError], message: str, extra: dict[str, Any]) -> MLCanvasError:
    err = cls.__new__(cls)
    MLCanvasError.__init__(err, message, **extra)
    return err


class InvalidInputError(MLCanvasError):
    """The caller sent something we cannot use; fixing the input fixes it."""


class GraphValidationError(InvalidInputError):
    """A graph or its training block has problems; all of them are listed."""

    def __init__(self, errors: list[ErrorDetail], warnings: list[str] | None = None) -> None:
        if not errors:
            raise ValueError("GraphValidationError needs at least one error")
        self.errors = list(errors)
        super().__init__(errors[0].message, errors=[e.to_dict() for e in errors])
        self.warnings = warnings or []

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.errors, self.warnings))


class DatasetError(InvalidInputError):
    """Unknown dataset id, or a graph whose input/output does not fit the dataset."""


class DatasetUnavailableError(DatasetError):
    """A dataset needs a download we cannot make (no cache, no credentials)."""


class InferenceInputError(InvalidInputError):
    """An infer payload that does not fit the model's input."""


class NotReadyError(InvalidInputError):
    """The job or deployment is not in a state that allows this request."""


class NotFoundError(MLCanvasError):
    """Unknown id, or an artifact that does not exist (yet)."""


class ConflictError(MLCanvasError):
    """The request contradicts the current state of a job or deployment."""


class DependencyUnavailableError(MLCanvasError):
    """Prefect, MLflow or Modal could not be reached or refused us."""
