"""The launcher on its own: stdlib only, and a clear exit code when the forkserver is absent.

The protocol with a live forkserver is tested in test_forkserver.py.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

LAUNCHER = Path(__file__).resolve().parents[2] / "flows" / "launcher.py"


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-I", "-S", str(LAUNCHER), *args],
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_a_missing_socket_exits_70_and_names_it(tmp_path: Path) -> None:
    sock = tmp_path / "absent.sock"

    done = _run(str(sock), "1")

    assert done.returncode == 70
    assert f"forkserver at {sock} unreachable" in done.stderr


def test_a_server_that_closes_without_a_pid_exits_70(tmp_path: Path) -> None:
    sock = tmp_path / "mute.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
        listener.bind(str(sock))
        listener.listen(1)
        launcher = subprocess.Popen(
            [sys.executable, "-I", "-S", str(LAUNCHER), str(sock)],
            stderr=subprocess.PIPE,
            text=True,
        )
        listener.settimeout(20)
        conn, _ = listener.accept()
        conn.recv(1 << 20)  # the request, then hang up without answering
        conn.close()
        _, stderr = launcher.communicate(timeout=20)

    assert launcher.returncode == 70
    assert "forkserver closed the connection" in stderr


def test_the_launcher_imports_nothing_beyond_the_stdlib() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-I",
            "-S",
            "-c",
            "import runpy, sys; runpy.run_path(sys.argv[1], run_name='launcher');"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('mlcanvas', 'flows', 'prefect', 'torch')))",
            str(LAUNCHER),
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
