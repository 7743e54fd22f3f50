"""Flow-run creation turns Prefect's client retries off for itself only, cheaply."""

from __future__ import annotations

from typing import Any, cast

from prefect.settings import PREFECT_CLIENT_MAX_RETRIES

from api.services.jobs import JobService
from mlcanvas.settings import Settings


def test_client_retries_are_off_inside_the_creation_context_only(tmp_path: Any) -> None:
    service = JobService(cast(Any, None), Settings(data_dir=tmp_path), cast(Any, None))
    default = PREFECT_CLIENT_MAX_RETRIES.value()
    assert default > 0

    with service._without_client_retries():
        assert PREFECT_CLIENT_MAX_RETRIES.value() == 0
    assert PREFECT_CLIENT_MAX_RETRIES.value() == default

    first = service._without_client_retries().settings
    assert service._without_client_retries().settings is first  # prepared once, not per call
