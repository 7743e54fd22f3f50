"""The supervisor with tiny real child processes (no servers): stop by PID, vital exits."""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path

from mlcanvas.stack.supervisor import ChildSpec, Supervisor, pid_alive

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
