"""The supervisor with tiny real child processes (no servers): readiness, output, restarts,
periodic ticks, stop by PID, vital exits."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from mlcanvas.stack.supervisor import ChildSpec, Supervisor, pid_alive

SLEEPER = [sys.executable, "-c", "import time; time.sleep(60)"]

# A child that leaves a grandchild in its process group, writes the grandchild's pid, waits.
PARENT = """
import subprocess, sys, time
grandchild = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
open(sys.argv[1], "w").write(str(grandchild.pid))
time.sleep(60)
"""


def _wait_for(check, timeout: float = 10.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return False


def test_stop_all_stops_children_and_what_they_left_behind(tmp_path: Path) -> None:
    pid_file = tmp_path / "grandchild.pid"
    supervisor = Supervisor()
    spec = supervisor.start(
        ChildSpec(
            name="parent",
            argv=[sys.executable, "-c", PARENT, str(pid_file)],
            env=dict(os.environ),
            ready=lambda: pid_file.exists() and pid_file.read_text() != "",
            ready_timeout=20,
        )
    )
    assert spec.process is not None
    grandchild = int(pid_file.read_text())
    assert os.getpgid(grandchild) == spec.process.pid  # the child leads its own group

    supervisor.stop_all(timeout=5)

    assert spec.process.poll() is not None
    assert _wait_for(lambda: not pid_alive(grandchild) or _is_zombie(grandchild))
    assert supervisor.children == []


def test_a_vital_child_exiting_stops_the_stack_and_says_why() -> None:
    supervisor = Supervisor()
    supervisor.start(
        ChildSpec(
            name="vital",
            argv=[sys.executable, "-c", "import time, sys; time.sleep(0.3); sys.exit(3)"],
            env=dict(os.environ),
        )
    )
    runner = threading.Thread(target=supervisor.run, daemon=True)
    runner.start()
    runner.join(timeout=15)

    assert not runner.is_alive()
    assert supervisor.failed == "vital exited with code 3"


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
    except OSError:
        return False


def _spec(name: str, argv: list[str], **kwargs: object) -> ChildSpec:
    return ChildSpec(name=name, argv=argv, env=dict(os.environ), **kwargs)  # type: ignore[arg-type]


@contextmanager
def _running(supervisor: Supervisor) -> Iterator[threading.Thread]:
    """`run()` in a thread, stopped and joined on the way out."""
    runner = threading.Thread(target=supervisor.run, daemon=True)
    runner.start()
    try:
        yield runner
    finally:
        supervisor.stop()
        runner.join(timeout=20)
        assert not runner.is_alive()


def _collect(capsys: pytest.CaptureFixture[str]) -> Callable[[str], bool]:
    """A check for `_wait_for` that accumulates captured stdout until `text` shows up."""
    seen: list[str] = []

    def has(text: str) -> bool:
        seen.append(capsys.readouterr().out)
        return text in "".join(seen)

    return has


def test_a_child_that_exits_before_it_is_ready_fails_the_start() -> None:
    supervisor = Supervisor()
    spec = _spec("early", [sys.executable, "-c", "raise SystemExit(4)"], ready=lambda: False)

    with pytest.raises(RuntimeError, match="^early exited with code 4$"):
        supervisor.start(spec)

    assert supervisor.children == [spec]


def test_a_child_not_ready_in_time_raises_and_is_still_stopped() -> None:
    supervisor = Supervisor()
    spec = _spec("slow", SLEEPER, ready=lambda: False, ready_timeout=0.3)

    with pytest.raises(TimeoutError, match="^slow not healthy after 0 s$"):
        supervisor.start(spec)
    supervisor.stop_all()

    assert spec.process is not None and spec.process.returncode == -signal.SIGTERM


def test_a_probe_that_raises_means_not_ready_yet(capsys: pytest.CaptureFixture[str]) -> None:
    calls = [0]

    def probe() -> bool:
        calls[0] += 1
        if calls[0] < 3:
            raise ConnectionRefusedError("not listening yet")
        return True

    supervisor = Supervisor()
    try:
        supervisor.start(_spec("probed", SLEEPER, ready=probe))
    finally:
        supervisor.stop_all()

    assert calls[0] == 3
    assert "[probed] healthy after" in capsys.readouterr().out


def test_a_group_starts_together_before_any_readiness_wait() -> None:
    supervisor = Supervisor()
    second = _spec("second", SLEEPER)
    first = _spec("first", SLEEPER, ready=lambda: second.process is not None, ready_timeout=5)
    try:
        supervisor.start_group([first, second])
    finally:
        supervisor.stop_all()

    assert first.process is not None and second.process is not None


def test_child_output_is_prefixed_with_its_name(capsys: pytest.CaptureFixture[str]) -> None:
    supervisor = Supervisor()
    has = _collect(capsys)
    try:
        supervisor.start(_spec("echo", [sys.executable, "-c", "print('hello', flush=True)"]))
        assert _wait_for(lambda: has("[echo] hello\n"))
    finally:
        supervisor.stop_all()


def test_quiet_child_output_goes_to_the_debug_log(
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    supervisor = Supervisor()
    with caplog.at_level(logging.DEBUG, logger="mlcanvas.stack.supervisor"):
        spec = supervisor.start(
            _spec("quiet", [sys.executable, "-c", "print('psst', flush=True)"], echo_output=False)
        )
        assert _wait_for(lambda: "[quiet] psst" in caplog.text)
    supervisor.stop_all()

    assert spec.process is not None
    assert "psst" not in capsys.readouterr().out


def test_a_restartable_child_is_restarted_with_back_off(
    capsys: pytest.CaptureFixture[str],
) -> None:
    supervisor = Supervisor()
    spec = supervisor.start(
        _spec("flaky", [sys.executable, "-c", "raise SystemExit(2)"], restart=True)
    )
    has = _collect(capsys)

    with _running(supervisor):
        assert _wait_for(lambda: spec.restarts >= 1, timeout=20)

    assert spec.crash_streak >= 1  # it crashed at once, so the next start was delayed
    assert supervisor.failed is None
    assert has("[flaky] exited with code 2; restarting in 1.0 s (#1)")


def test_a_child_that_ignores_sigterm_is_killed_after_its_stop_timeout(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ready = tmp_path / "ready"
    stubborn = (
        "import signal, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN);"
        "open(sys.argv[1], 'w').close(); time.sleep(60)"
    )
    supervisor = Supervisor()
    spec = supervisor.start(
        _spec(
            "stubborn",
            [sys.executable, "-c", stubborn, str(ready)],
            ready=ready.exists,
            stop_timeout=0.3,
        )
    )

    supervisor.stop_all()

    assert spec.process is not None and spec.process.returncode == -signal.SIGKILL
    assert "[stubborn] did not stop in time; killing" in capsys.readouterr().out


def test_the_periodic_tick_runs_and_a_failing_tick_is_only_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    ticks = [0]

    def tick() -> None:
        ticks[0] += 1
        if ticks[0] == 1:
            raise RuntimeError("sweep failed")

    supervisor = Supervisor(on_tick=tick, tick_seconds=0.0)
    with caplog.at_level(logging.ERROR, logger="mlcanvas.stack.supervisor"):
        with _running(supervisor):
            assert _wait_for(lambda: ticks[0] >= 2)

    assert "periodic task failed" in caplog.text
    assert supervisor.failed is None


def test_pid_alive_tells_a_live_process_from_a_reaped_one() -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait(timeout=20)

    assert pid_alive(os.getpid())
    assert not pid_alive(child.pid)
