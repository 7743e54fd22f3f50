"""Starts child processes in order, waits for each to be healthy, prefixes their output,
restarts the ones marked to restart, and stops them all (by PID, in reverse) on SIGTERM/Ctrl-C.

Children get PR_SET_PDEATHSIG, so a supervisor killed with -9 does not leave them behind.
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


def _die_with_parent() -> None:
    ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


@dataclass
class ChildSpec:
    name: str
    argv: list[str]
    env: dict[str, str]
    ready: Callable[[], bool] | None = None
    ready_timeout: float = 120.0
    restart: bool = False
    cwd: str | None = None
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    restarts: int = 0


class Supervisor:
    def __init__(self, *, on_tick: Callable[[], None] | None = None, tick_seconds: float = 15.0):
        self.children: list[ChildSpec] = []
        self._stopping = threading.Event()
        self._on_tick = on_tick
        self._tick_seconds = tick_seconds
        self._out_lock = threading.Lock()

    def start(self, spec: ChildSpec) -> ChildSpec:
        """Start and wait until `ready()` (or raise after ready_timeout, stopping everything)."""
        self._spawn(spec)
        self.children.append(spec)
        if spec.ready is None:
            return spec
        started = time.monotonic()
        while time.monotonic() - started < spec.ready_timeout:
            if self._stopping.is_set():
                raise KeyboardInterrupt
            if spec.process is not None and spec.process.poll() is not None:
                raise RuntimeError(f"{spec.name} exited with code {spec.process.returncode}")
            try:
                if spec.ready():
                    self._say(spec.name, f"healthy after {time.monotonic() - started:.1f} s")
                    return spec
            except Exception:  # not up yet
                pass
            time.sleep(0.2)
        raise TimeoutError(f"{spec.name} not healthy after {spec.ready_timeout:.0f} s")

    def _spawn(self, spec: ChildSpec) -> None:
        spec.process = subprocess.Popen(
            spec.argv,
            env=spec.env,
            cwd=spec.cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            preexec_fn=_die_with_parent,
        )
        threading.Thread(target=self._pump, args=(spec, spec.process), daemon=True).start()

    def _pump(self, spec: ChildSpec, process: subprocess.Popen[bytes]) -> None:
        assert process.stdout is not None
        for raw in iter(process.stdout.readline, b""):
            self._say(spec.name, raw.decode(errors="replace").rstrip())

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
        code = spec.process.returncode if spec.process else None
        if not spec.restart:
            self._say(spec.name, f"exited with code {code}; stopping the stack")
            self._stopping.set()
            return
        spec.restarts += 1
        self._say(spec.name, f"exited with code {code}; restarting (#{spec.restarts})")
        self._spawn(spec)

    def _safe_tick(self) -> None:
        try:
            assert self._on_tick is not None
            self._on_tick()
        except Exception:
            log.exception("periodic task failed")

    def stop_all(self, timeout: float = 10.0) -> None:
        for spec in reversed(self.children):
            process = spec.process
            if process is None or process.poll() is not None:
                continue
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self._say(spec.name, "did not stop in time; killing")
                process.kill()
                process.wait()
        self.children.clear()

    def stop(self) -> None:
        self._stopping.set()


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
