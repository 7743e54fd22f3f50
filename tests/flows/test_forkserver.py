"""The launcher ↔ forkserver protocol with real processes and a real unix socket.

The forkserver runs in a spawned child without `warm_up()`, and its forked children run a
small stand-in for Prefect's engine (`_fake_engine`), chosen per run by the launcher's env.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import NoReturn

import pytest

from flows.forkserver import ForkServer, take_over

LAUNCHER = Path(__file__).resolve().parents[2] / "flows" / "launcher.py"


def _fake_engine(request: dict, fds: list[int]) -> NoReturn:
    """In the forked child: take the launcher's stdio, then behave as TEST_CHILD_MODE says."""
    code = 1
    try:
        env = request["env"]
        if env.get("TEST_CHILD_MODE") == "take_over":  # the real child's setup, then report it
            take_over(request, fds)
            report = f"nice {os.nice(0)} | cwd {os.getcwd()} | {','.join(os.environ)}"
            os.write(1, report.encode())
            os._exit(0)
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
            os.close(fd)
        os.write(1, f"engine for {env.get('PREFECT__FLOW_RUN_ID')} in {request['cwd']}\n".encode())
        mode = env.get("TEST_CHILD_MODE", "exit")
        if mode == "exit":
            code = int(env["TEST_EXIT_CODE"])
        elif mode == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        elif mode == "wait":
            ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG, as the real engine
            code = _wait_for_sigterm(Path(env["TEST_STATE_DIR"]))
    finally:
        os._exit(code)


def _wait_for_sigterm(state: Path) -> int:
    """Write our pid, then wait; on SIGTERM write when it came (monotonic) and exit 42."""

    def on_term(_signum: int, _frame: object) -> None:
        (state / "term.tmp").write_text(repr(time.monotonic()))
        os.replace(state / "term.tmp", state / "term")
        os._exit(42)

    signal.signal(signal.SIGTERM, on_term)
    (state / "pid.tmp").write_text(str(os.getpid()))
    os.replace(state / "pid.tmp", state / "pid")
    while True:
        time.sleep(0.05)


def _serve(path: str) -> None:
    ForkServer(path, run_child=_fake_engine).serve()


def _wait_for(check: Callable[[], object], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {check}")
        time.sleep(0.02)


def _accepts(path: Path) -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        try:
            probe.connect(str(path))
        except OSError:
            return False
    return True


def _start_server(path: Path) -> BaseProcess:
    process = multiprocessing.get_context("spawn").Process(target=_serve, args=(str(path),))
    process.start()
    _wait_for(lambda: _accepts(path) or not process.is_alive(), timeout=30)
    assert process.is_alive()
    return process


def _stop_server(process: BaseProcess) -> None:
    process.terminate()
    process.join(timeout=15)
    if process.is_alive():
        process.kill()
        process.join()


@pytest.fixture(scope="module")
def server_socket(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("fs") / "fs.sock"  # short: unix socket paths are limited
    process = _start_server(path)
    try:
        yield path
    finally:
        _stop_server(process)


def _launcher_argv(sock: Path, grace: float) -> list[str]:
    return [sys.executable, "-I", "-S", str(LAUNCHER), str(sock), str(grace)]


def _env(**extra: str) -> dict[str, str]:
    return {**os.environ, "PREFECT__FLOW_RUN_ID": "not-a-real-flow-run", **extra}


def _launch(sock: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        _launcher_argv(sock, 1.0),
        env=_env(**extra),
        cwd=sock.parent,
        capture_output=True,
        text=True,
        timeout=30,
    )


def _catches_sigterm(pid: int) -> bool:
    """True once the process installed a SIGTERM handler (bit 15 of SigCgt)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("SigCgt:"):
            return bool(int(line.split()[1], 16) & (1 << (signal.SIGTERM - 1)))
    return False


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
    except OSError:
        return False


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.parametrize("code", [0, 7])
def test_the_launcher_exits_with_the_child_code_and_shares_its_stdio(
    server_socket: Path, code: int
) -> None:
    done = _launch(server_socket, TEST_EXIT_CODE=str(code))

    assert done.returncode == code, done.stderr
    assert done.stdout == f"engine for not-a-real-flow-run in {server_socket.parent}\n"


def test_a_child_takes_the_launchers_env_and_cwd_and_the_training_niceness(
    server_socket: Path, tmp_path: Path
) -> None:
    env = {
        "PATH": os.environ["PATH"],
        "MLCANVAS_TRAINING_NICE": "7",
        "TEST_CHILD_MODE": "take_over",
    }
    done = subprocess.run(
        _launcher_argv(server_socket, 1.0), env=env, cwd=tmp_path, capture_output=True, text=True
    )

    assert done.returncode == 0, done.stderr
    nice, cwd, names = done.stdout.split(" | ")
    assert nice == f"nice {min(19, os.nice(0) + 7)}"
    assert cwd == f"cwd {tmp_path}"
    assert set(env) <= set(names.split(","))  # the launcher's Python may add LC_CTYPE


def test_a_child_killed_by_a_signal_reports_128_plus_the_signal(server_socket: Path) -> None:
    done = _launch(server_socket, TEST_CHILD_MODE="kill")

    assert done.returncode == 128 + signal.SIGKILL, done.stderr


def test_a_readiness_probe_does_not_disturb_the_server(server_socket: Path) -> None:
    for _ in range(3):
        assert _accepts(server_socket)

    assert _launch(server_socket, TEST_EXIT_CODE="3").returncode == 3


def test_concurrent_runs_each_get_their_own_exit_code(server_socket: Path) -> None:
    launchers = [
        subprocess.Popen(
            _launcher_argv(server_socket, 1.0),
            env=_env(TEST_EXIT_CODE=str(code)),
            stdout=subprocess.DEVNULL,
        )
        for code in (11, 12, 13)
    ]

    assert [p.wait(timeout=30) for p in launchers] == [11, 12, 13]


def test_a_killed_launcher_leaves_the_child_the_grace_period_then_sigterm(
    server_socket: Path, tmp_path: Path
) -> None:
    grace = 1.0
    launcher = subprocess.Popen(
        _launcher_argv(server_socket, grace),
        env=_env(TEST_CHILD_MODE="wait", TEST_STATE_DIR=str(tmp_path)),
        stdout=subprocess.DEVNULL,
    )
    _wait_for(lambda: (tmp_path / "pid").exists())
    child = int((tmp_path / "pid").read_text())

    killed_at = time.monotonic()
    launcher.kill()
    launcher.wait(timeout=10)

    _wait_for(lambda: (tmp_path / "term").exists())
    assert float((tmp_path / "term").read_text()) - killed_at >= grace
    _wait_for(lambda: not _pid_alive(child))  # reaped by the forkserver


def test_sigterm_to_the_launcher_reaches_the_child_after_the_grace_period(
    server_socket: Path, tmp_path: Path
) -> None:
    grace = 0.5
    launcher = subprocess.Popen(
        _launcher_argv(server_socket, grace),
        env=_env(TEST_CHILD_MODE="wait", TEST_STATE_DIR=str(tmp_path)),
        stdout=subprocess.DEVNULL,
    )
    _wait_for(lambda: (tmp_path / "pid").exists() and _catches_sigterm(launcher.pid))

    signalled_at = time.monotonic()
    launcher.send_signal(signal.SIGTERM)

    assert launcher.wait(timeout=20) == 42  # the child's own exit code, via the forkserver
    assert float((tmp_path / "term").read_text()) - signalled_at >= grace


def test_stopping_the_server_terminates_children_and_reports_their_codes(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    sock = tmp_path_factory.mktemp("fs") / "fs.sock"
    server = _start_server(sock)
    try:
        launcher = subprocess.Popen(
            _launcher_argv(sock, 30.0),
            env=_env(TEST_CHILD_MODE="wait", TEST_STATE_DIR=str(tmp_path)),
            stdout=subprocess.DEVNULL,
        )
        _wait_for(lambda: (tmp_path / "pid").exists())
    finally:
        _stop_server(server)

    assert server.exitcode == 0
    assert launcher.wait(timeout=20) == 42  # SIGTERMed at shutdown, not after the 30 s grace
    assert not sock.exists()


def test_a_forkserver_that_dies_mid_run_makes_the_launcher_exit_70(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    sock = tmp_path_factory.mktemp("fs") / "fs.sock"
    server = _start_server(sock)
    launcher = subprocess.Popen(
        _launcher_argv(sock, 30.0),
        env=_env(TEST_CHILD_MODE="wait", TEST_STATE_DIR=str(tmp_path)),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    _wait_for(lambda: (tmp_path / "pid").exists())
    child = int((tmp_path / "pid").read_text())

    server.kill()
    server.join(timeout=10)
    _, stderr = launcher.communicate(timeout=20)

    assert launcher.returncode == 70
    _wait_for(lambda: not _pid_alive(child) or _is_zombie(child))  # died with its parent
    assert "forkserver died while the run was executing" in stderr
