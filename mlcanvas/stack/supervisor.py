"""Starts child processes in order, waits for each to be healthy, prefixes their output,
restarts the ones marked to restart, and stops them all (by PID, in reverse) on SIGTERM/Ctrl-C.

Children get PR_SET_PDEATHSIG, so a supervisor killed with -9 does not leave them behind.
Each child leads its own session: a terminal Ctrl-C reaches only the supervisor, which stops
the children in reverse start order (API before executor before servers), and anything a child
left behind in its process group is killed after it exits.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

PR_SET_PDEATHSIG = 1
STABLE_SECONDS = 30.0  # a child that ran this long before exiting is restarted at once
MAX_RESTART_DELAY = 30.0  # the back-off of a child that keeps crashing stops growing here


def _die_with_parent() -> None:
    # SIGKILL: a child that traps SIGTERM (Prefect's worker does) must not outlive us.
    ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


@dataclass
class ChildSpec:
    name: str
    argv: list[str]
    env: dict[str, str]
    ready: Callable[[], bool] | None = None
    ready_timeout: float = 120.0
    restart: bool = False
    cwd: str | None = None
    stop_timeout: float = 10.0
    echo_output: bool = True  # False: its lines go to the debug log, not to stdout
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    restarts: int = 0
    started_at: float = 0.0
    crash_streak: int = 0
    restart_at: float | None = None


class Supervisor:
    def __init__(self, *, on_tick: Callable[[], None] | None = None, tick_seconds: float = 15.0):
        self.children: list[ChildSpec] = []
        self._stopping = threading.Event()
        self._on_tick = on_tick
        self._tick_seconds = tick_seconds
        self._out_lock = threading.Lock()
        self.failed: str | None = None

    def start(self, spec: ChildSpec) -> ChildSpec:
        """Start and wait until `ready()`; raise if it exits or is not ready in ready_timeout.

        On a raise the child stays registered, so the caller's `stop_all()` stops it too.
        """
        self.start_group([spec])
        return spec

    def start_group(self, specs: list[ChildSpec]) -> None:
        """Start children that do not depend on each other at once, then wait for each to be
        ready: their start-up times overlap instead of adding up."""
        for spec in specs:
            self._spawn(spec)
            self.children.append(spec)
        for spec in specs:
            self._wait_ready(spec)

    def _wait_ready(self, spec: ChildSpec) -> None:
        """Poll `ready()` until it answers; it is asked at least once, even past the timeout,
        since a child of a group may have been ready long before its turn came."""
        if spec.ready is None:
            return
        while True:
            if self._stopping.is_set():
                raise KeyboardInterrupt
            if spec.process is not None and spec.process.poll() is not None:
                raise RuntimeError(f"{spec.name} exited with code {spec.process.returncode}")
            if _is_ready(spec.ready):
                self._report(spec, f"healthy after {time.monotonic() - spec.started_at:.1f} s")
                return
            if time.monotonic() - spec.started_at > spec.ready_timeout:
                raise TimeoutError(f"{spec.name} not healthy after {spec.ready_timeout:.0f} s")
            time.sleep(0.2)

    def _spawn(self, spec: ChildSpec) -> None:
        spec.process = subprocess.Popen(
            spec.argv,
            env=spec.env,
            cwd=spec.cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            preexec_fn=_die_with_parent,
            start_new_session=True,
        )
        spec.started_at = time.monotonic()
        threading.Thread(target=self._pump, args=(spec, spec.process), daemon=True).start()

    def _pump(self, spec: ChildSpec, process: subprocess.Popen[bytes]) -> None:
        assert process.stdout is not None
        for raw in iter(process.stdout.readline, b""):
            self._report(spec, raw.decode(errors="replace").rstrip())

    def _report(self, spec: ChildSpec, line: str) -> None:
        if spec.echo_output:
            self._say(spec.name, line)
        else:
            log.debug("[%s] %s", spec.name, line)

    def _say(self, name: str, line: str) -> None:
        with self._out_lock:
            sys.stdout.write(f"[{name}] {line}\n")
            sys.stdout.flush()

    def install_signal_handlers(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: self._stopping.set())

    def run(self) -> None:
        """Watch children until asked to stop; restart those marked `restart`."""
        last_tick = time.monotonic()
        try:
            while not self._stopping.wait(0.5):
                for spec in self.children:
                    if spec.process is not None and spec.process.poll() is not None:
                        self._child_exited(spec)
                if self._on_tick and time.monotonic() - last_tick > self._tick_seconds:
                    last_tick = time.monotonic()
                    self._safe_tick()
        finally:
            self.stop_all()

    def _child_exited(self, spec: ChildSpec) -> None:
        """Stop everything for a vital child; restart the others, backing off if they crash."""
        code = spec.process.returncode if spec.process else None
        if not spec.restart:
            self._say(spec.name, f"exited with code {code}; stopping the stack")
            self.failed = f"{spec.name} exited with code {code}"
            self._stopping.set()
            return
        now = time.monotonic()
        if spec.restart_at is None:
            is_stable = now - spec.started_at > STABLE_SECONDS
            spec.crash_streak = 0 if is_stable else spec.crash_streak + 1
            delay = min(MAX_RESTART_DELAY, 0.5 * 2**spec.crash_streak) if spec.crash_streak else 0
            spec.restart_at = now + delay
            self._say(
                spec.name,
                f"exited with code {code}; restarting in {delay:.1f} s (#{spec.restarts + 1})",
            )
        if now >= spec.restart_at:
            spec.restart_at = None
            spec.restarts += 1
            self._spawn(spec)

    def _safe_tick(self) -> None:
        try:
            assert self._on_tick is not None
            self._on_tick()
        except Exception:
            log.exception("periodic task failed")

    def stop_all(self, timeout: float | None = None) -> None:
        """SIGTERM each child by PID, newest first; SIGKILL it after `timeout` (default: its
        `stop_timeout`), then whatever it left behind in its process group."""
        if any(s.echo_output and s.process and s.process.poll() is None for s in self.children):
            self._say("supervisor", "stopping every child, newest first")
        for spec in reversed(self.children):
            process = spec.process
            if process is None or process.poll() is not None:
                continue
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=spec.stop_timeout if timeout is None else timeout)
            except subprocess.TimeoutExpired:
                self._say(spec.name, "did not stop in time; killing")
                process.kill()
                process.wait()
            _kill_leftovers(process.pid)
        self.children.clear()

    def stop(self) -> None:
        self._stopping.set()


def _is_ready(ready: Callable[[], bool]) -> bool:
    try:
        return bool(ready())
    except Exception:  # a probe that raises means "not up yet"
        return False


def _kill_leftovers(group: int, grace: float = 2.0) -> None:
    """Orphans in the process group a stopped child led: SIGTERM, then SIGKILL after `grace`."""
    if not _signal_group(group, signal.SIGTERM):
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        time.sleep(0.05)
        if not _signal_group(group, 0):
            return
    _signal_group(group, signal.SIGKILL)


def _signal_group(group: int, sig: int) -> bool:
    """False once the group is empty (or no longer ours)."""
    try:
        os.killpg(group, sig)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
