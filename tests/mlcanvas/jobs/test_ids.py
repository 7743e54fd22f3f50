"""Job ids are checked before storage is touched: anything but 32 lowercase hex is a 404."""

from __future__ import annotations

from uuid import UUID, uuid4

import pytest

from mlcanvas.errors import NotFoundError
from mlcanvas.jobs.ids import check_job_id, flow_run_id_of, job_id_of

VALID = "0123456789abcdef0123456789abcdef"


def test_a_valid_id_comes_back_unchanged() -> None:
    assert check_job_id(VALID) == VALID


@pytest.mark.parametrize(
    "bad",
    [
        VALID.upper(),
        VALID[:-1],
        VALID + "0",
        "0123456789abcdeg0123456789abcdef",
        "01234567-89ab-cdef-0123-456789abcdef",
        "../../../etc/passwd",
        f"{VALID}\n",
        "",
        None,
        12345,
    ],
)
def test_a_malformed_id_is_not_found(bad: object) -> None:
    with pytest.raises(NotFoundError) as caught:
        check_job_id(bad)  # type: ignore[arg-type]

    assert caught.value.message == f"Unknown job_id: {bad}"


def test_the_message_names_what_was_looked_up() -> None:
    with pytest.raises(NotFoundError, match=r"^Unknown deployment_id: nope$"):
        check_job_id("nope", what="deployment_id")


def test_job_and_flow_run_ids_convert_both_ways() -> None:
    flow_run_id = uuid4()

    job_id = job_id_of(flow_run_id)

    assert job_id == flow_run_id.hex
    assert job_id_of(str(flow_run_id)) == job_id
    assert flow_run_id_of(job_id) == flow_run_id
    assert isinstance(flow_run_id_of(job_id), UUID)


def test_a_malformed_job_id_has_no_flow_run() -> None:
    with pytest.raises(NotFoundError):
        flow_run_id_of(VALID.upper())
