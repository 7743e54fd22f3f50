"""Prefect state → contract status (contract §4 'Statuses'), for every Prefect state type."""

from __future__ import annotations

from uuid import uuid4

import pytest
from prefect.client.schemas.objects import FlowRun, State, StateType

from api.services.jobs import TERMINAL, JobView, status_of

# (state type, state name or None for Prefect's default) → (status, status once a stop is asked)
EXPECTED: dict[tuple[StateType, str | None], tuple[str, str]] = {
    (StateType.SCHEDULED, None): ("queued", "stopping"),
    (StateType.PENDING, None): ("queued", "stopping"),
    (StateType.PAUSED, None): ("queued", "stopping"),
    (StateType.RUNNING, None): ("running", "stopping"),
    (StateType.CANCELLING, None): ("stopping", "stopping"),
    (StateType.COMPLETED, None): ("completed", "completed"),
    (StateType.COMPLETED, "Stopped"): ("stopped", "stopped"),
    (StateType.CANCELLED, None): ("stopped", "stopped"),
    (StateType.FAILED, None): ("failed", "failed"),
    (StateType.CRASHED, None): ("failed", "failed"),
}


def _run(state: State | None) -> FlowRun:
    return FlowRun(flow_id=uuid4(), state=state)


def _state(type_: StateType, name: str | None) -> State:
    return State(type=type_) if name is None else State(type=type_, name=name)


def test_every_prefect_state_type_is_mapped_here() -> None:
    assert {type_ for type_, _ in EXPECTED} == set(StateType)


@pytest.mark.parametrize(("key", "statuses"), EXPECTED.items(), ids=lambda v: str(v))
def test_status_of_each_state(key: tuple[StateType, str | None], statuses: tuple[str, str]) -> None:
    run = _run(_state(*key))

    assert (status_of(run, False), status_of(run, True)) == statuses


def test_a_run_without_a_state_yet_is_queued() -> None:
    assert status_of(_run(None), False) == "queued"


@pytest.mark.parametrize(
    ("status", "terminal"),
    [
        ("queued", False),
        ("running", False),
        ("stopping", False),
        ("completed", True),
        ("stopped", True),
        ("failed", True),
    ],
)
def test_only_completed_stopped_and_failed_are_terminal(status: str, terminal: bool) -> None:
    view = JobView("a" * 32, "nn", status, None, _run(None))

    assert view.terminal is terminal
    assert (status in TERMINAL) is terminal
