"""The process work pool's job command: hand this flow run to the warm forkserver.

Stdlib only and started with `python -I -S`, so it is up in milliseconds instead of paying
~8 s of imports. It passes its environment (PREFECT__FLOW_RUN_ID, the worker's control-channel
settings, ...) and its stdio to the forkserver, which forks a pre-imported child that runs
Prefect's engine. This process stands in for that child towards the worker: it exits with the
child's exit code, and a SIGTERM from the worker (Prefect cancel) reaches the child after a
grace period in which the child can notice the cancel itself and save its partial model.

usage: python -I -S launcher.py SOCKET_PATH [GRACE_SECONDS]
"""

import ctypes
import json
import os
import signal
import socket
import sys
import threading
import time

PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    try:
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


def _terminate(pid: int, grace: float) -> None:
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if not _alive(pid):
            return
        time.sleep(0.1)
    for sig, wait in ((signal.SIGTERM, 3.0), (signal.SIGKILL, 0.0)):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
        end = time.monotonic() + wait
        while time.monotonic() < end and _alive(pid):
            time.sleep(0.05)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def main() -> int:
    _die_with_parent()
    sock_path = sys.argv[1]
    grace = float(sys.argv[2]) if len(sys.argv) > 2 else 30.0
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        conn.connect(sock_path)
    except OSError as exc:
        sys.stderr.write(f"mlcanvas launcher: forkserver at {sock_path} unreachable: {exc}\n")
        return 70
    request = json.dumps({"env": dict(os.environ), "cwd": os.getcwd(), "grace": grace}).encode()
    socket.send_fds(conn, [len(request).to_bytes(8, "big") + request], [0, 1, 2])
    reader = conn.makefile("r")
    first = reader.readline()
    if not first:
        sys.stderr.write("mlcanvas launcher: forkserver closed the connection\n")
        return 70
    child_pid = json.loads(first)["pid"]

    def on_signal(signum: int, _frame: object) -> None:
        threading.Thread(target=_terminate, args=(child_pid, grace), daemon=True).start()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    last = reader.readline()
    if not last:
        sys.stderr.write("mlcanvas launcher: forkserver died while the run was executing\n")
        return 70
    return int(json.loads(last)["exit_code"])


if __name__ == "__main__":
    sys.exit(main())
