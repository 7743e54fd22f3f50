"""Cheap readiness probes for the stack's children: short timeouts, never raise.

The supervisor polls them every 0.2 s while a child starts, so a probe must answer "not yet"
quickly instead of hanging on a server that is still binding its port.
"""

from __future__ import annotations

import socket

import httpx

WILDCARD_HOSTS = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}


def reachable_host(host: str) -> str:
    """The address to connect to for a server bound to `host` (a wildcard is not one)."""
    return WILDCARD_HOSTS.get(host, host)


def http_url(host: str, port: int, path: str = "") -> str:
    """`http://host:port/path`, with IPv6 literals bracketed and wildcards made reachable."""
    address = reachable_host(host)
    if ":" in address:
        address = f"[{address}]"
    return f"http://{address}:{port}{path}"


def http_ok(url: str, timeout: float = 1.0) -> bool:
    """True when GET `url` answers 200 within `timeout` seconds."""
    try:
        return httpx.get(url, timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False


def unix_socket_accepts(path: str, timeout: float = 0.5) -> bool:
    """True when something listens on the unix socket `path` (a stale file refuses)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(timeout)
        try:
            probe.connect(path)
        except OSError:
            return False
    return True


def port_in_use(host: str, port: int, timeout: float = 0.5) -> bool:
    """True when a TCP connection to `host:port` succeeds, i.e. a server already owns it."""
    try:
        with socket.create_connection((reachable_host(host), port), timeout=timeout):
            return True
    except OSError:
        return False
