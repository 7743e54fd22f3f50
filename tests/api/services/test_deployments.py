"""Pure parts of the deployments service: the target rule and the quiet access log."""

from __future__ import annotations

import logging

import pytest

from api.services.deployments import QuietInferAccessLog, normalise_target
from mlcanvas.errors import InvalidInputError

INFER = f"/api/deploy/{'a' * 32}/infer"


def access_record(method: str, path: str, status: int) -> logging.LogRecord:
    return logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", method, path, "1.1", status), None,
    )  # fmt: skip


@pytest.mark.parametrize("target", ["local", " LOCAL ", "Local", None])
def test_local_targets_are_normalised(target: str | None) -> None:
    assert normalise_target(target) == "local"


@pytest.mark.parametrize("target", ["remote", "modal", "", "loc al"])
def test_other_targets_are_refused_with_the_contract_message(target: str) -> None:
    with pytest.raises(InvalidInputError, match="Only local deployment is supported right now"):
        normalise_target(target)


def test_only_successful_infer_calls_leave_the_access_log() -> None:
    quiet = QuietInferAccessLog()
    assert not quiet.filter(access_record("POST", INFER, 200))
    assert quiet.filter(access_record("POST", INFER, 400))
    assert quiet.filter(access_record("POST", INFER, 500))
    assert quiet.filter(access_record("POST", f"{INFER}?x=1", 200))
    assert quiet.filter(access_record("POST", "/api/deploy", 200))
    assert quiet.filter(access_record("GET", "/api/deploy/list", 200))
    assert quiet.filter(logging.LogRecord("x", logging.INFO, __file__, 1, "plain", None, None))
