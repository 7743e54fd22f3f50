"""Random-forest hyper-parameters (contract §6): check every key, then resolve to one frozen model.

Validate, compile and train all call `check_hyperparameters`, so a bad value is reported with
its node and field before anything is fitted (contract §12 item 1), and every problem at once.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from mlcanvas.errors import ErrorDetail, GraphValidationError

Criterion = Literal["gini", "entropy", "log_loss"]
MaxFeatures = Literal["sqrt", "log2"] | int | float | None

MAX_N_ESTIMATORS = 5000
MAX_DEPTH_LIMIT = 1000
MAX_RANDOM_STATE = 2**32 - 1  # numpy seeds must fit in uint32
CRITERIA: tuple[str, ...] = ("gini", "entropy", "log_loss")
MAX_FEATURES_NAMES: tuple[str, ...] = ("sqrt", "log2")

_NODE_TYPE = "RandomForestClassifier"
_SEED_RULE = f"must be an integer in [0, {MAX_RANDOM_STATE}]"
_MISSING = object()


class RFHyperparameters(BaseModel):
    """The 8 resolved hyper-parameters, in the fixed order `model.py` and `model.pkl` use."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    n_estimators: int = Field(default=100, gt=0, le=MAX_N_ESTIMATORS, description="Trees.")
    max_depth: int | None = Field(
        default=None, gt=0, le=MAX_DEPTH_LIMIT, description="Tree depth limit; null = none."
    )
    criterion: Criterion = Field(default="gini", description="Split quality measure.")
    max_features: MaxFeatures = Field(
        default="sqrt", description="Features tried per split: name, count, fraction or null."
    )
    min_samples_split: int = Field(default=2, ge=2, description="Rows needed to split a node.")
    min_samples_leaf: int = Field(default=1, ge=1, description="Rows needed in a leaf.")
    bootstrap: bool = Field(default=True, description="Sample rows with replacement per tree.")
    random_state: int = Field(
        default=42, ge=0, le=MAX_RANDOM_STATE, description="Seed of the forest."
    )

    def to_sklearn_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for `RandomForestClassifier`, in the fixed order."""
        return self.model_dump()


def _as_int(value: Any) -> int | None:
    """An int, or an integral float; booleans and everything else are not ints."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    return None


def _int_checker(
    low: int, high: int | None, *, nullable: bool
) -> Callable[[Any], tuple[Any, bool]]:
    def check(value: Any) -> tuple[Any, bool]:
        if value is None:
            return None, nullable
        number = _as_int(value)
        if number is None or number < low or (high is not None and number > high):
            return None, False
        return number, True

    return check


def _check_criterion(value: Any) -> tuple[Any, bool]:
    if isinstance(value, str) and value.strip().lower() in CRITERIA:
        return value.strip().lower(), True
    return None, False


def _check_bootstrap(value: Any) -> tuple[Any, bool]:
    return value, isinstance(value, bool)


def _max_features_checker(feature_count: int | None) -> Callable[[Any], tuple[Any, bool]]:
    def check(value: Any) -> tuple[Any, bool]:
        if value is None:
            return None, True
        if isinstance(value, str):
            name = value.strip().lower()
            return name, name in MAX_FEATURES_NAMES
        if isinstance(value, bool):
            return None, False
        if isinstance(value, int):
            upper_ok = feature_count is None or value <= feature_count
            return value, value >= 1 and upper_ok
        if isinstance(value, float):
            return value, math.isfinite(value) and 0.0 < value <= 1.0
        return None, False

    return check


def _rules(
    feature_count: int | None,
) -> dict[str, tuple[Callable[[Any], tuple[Any, bool]], str, Any]]:
    """key -> (checker, message tail, expected) for every hyper-parameter we read."""
    count_rule = f"int in [1, {feature_count}]" if feature_count else "int >= 1"
    return {
        "n_estimators": (
            _int_checker(1, MAX_N_ESTIMATORS, nullable=False),
            f"must be an integer in [1, {MAX_N_ESTIMATORS}]",
            f"int in [1, {MAX_N_ESTIMATORS}]",
        ),
        "max_depth": (
            _int_checker(1, MAX_DEPTH_LIMIT, nullable=True),
            f"must be null or an integer in [1, {MAX_DEPTH_LIMIT}]",
            f"null or int in [1, {MAX_DEPTH_LIMIT}]",
        ),
        "criterion": (
            _check_criterion,
            f"must be one of {', '.join(CRITERIA)}",
            list(CRITERIA),
        ),
        "max_features": (
            _max_features_checker(feature_count),
            f"must be 'sqrt', 'log2', an {count_rule}, a float in (0, 1] or null",
            ["sqrt", "log2", count_rule, "float in (0, 1]", None],
        ),
        "min_samples_split": (
            _int_checker(2, None, nullable=False),
            "must be an integer >= 2",
            "int >= 2",
        ),
        "min_samples_leaf": (
            _int_checker(1, None, nullable=False),
            "must be an integer >= 1",
            "int >= 1",
        ),
        "bootstrap": (_check_bootstrap, "must be a boolean", "bool"),
        "random_state": (
            _int_checker(0, MAX_RANDOM_STATE, nullable=True),
            f"must be null or an integer in [0, {MAX_RANDOM_STATE}]",
            f"null or int in [0, {MAX_RANDOM_STATE}]",
        ),
    }


def _normalise(
    node_id: str, config: Mapping[str, Any], feature_count: int | None
) -> tuple[dict[str, Any], list[ErrorDetail]]:
    values: dict[str, Any] = {}
    errors: list[ErrorDetail] = []
    for key, (check, tail, expected) in _rules(feature_count).items():
        raw = config.get(key, _MISSING)
        if raw is _MISSING:
            continue
        value, is_ok = check(raw)
        if is_ok:
            values[key] = value
            continue
        errors.append(
            ErrorDetail(
                message=f"{_NODE_TYPE}.{key} {tail}",
                node_id=node_id,
                field=f"config.{key}",
                expected=expected,
                got=raw,
            )
        )
    return values, errors


def check_hyperparameters(
    node_id: str, config: Mapping[str, Any], feature_count: int | None
) -> list[ErrorDetail]:
    """Every problem in a forest node's config; empty when it resolves. Unknown keys are ignored.

    `feature_count` (F) bounds an integer `max_features`; pass None when F is not known yet.
    """
    if not isinstance(config, Mapping):
        return [
            ErrorDetail(
                message=f"{_NODE_TYPE}.config must be an object",
                node_id=node_id,
                field="config",
                expected="object",
                got=config,
            )
        ]
    return _normalise(node_id, config, feature_count)[1]


def resolve_hyperparameters(
    node_id: str,
    config: Mapping[str, Any],
    *,
    feature_count: int | None,
    default_random_state: int,
) -> RFHyperparameters:
    """Defaults filled, names lowercased; a null `random_state` becomes the training block's.

    Raises GraphValidationError listing every problem.
    """
    errors = check_hyperparameters(node_id, config, feature_count)
    if errors:
        raise GraphValidationError(errors)
    values, _ = _normalise(node_id, config, feature_count)
    if values.get("random_state") is None:
        seed = _as_int(default_random_state)
        if seed is None or not 0 <= seed <= MAX_RANDOM_STATE:
            raise GraphValidationError(
                [
                    ErrorDetail(
                        message=f"training.random_state {_SEED_RULE}",
                        field="training.random_state",
                        expected=f"int in [0, {MAX_RANDOM_STATE}]",
                        got=default_random_state,
                    )
                ]
            )
        values["random_state"] = seed
    return RFHyperparameters(**values)
