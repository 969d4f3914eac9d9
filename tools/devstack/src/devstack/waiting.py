"""Readiness by retries under a deadline: a check is repeated until it passes or time runs out."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable

from devstack.errors import StackError

# The pause between two tries, not a guess of how long start-up takes.
POLL_INTERVAL = 0.1


def wait_until(
    check: Callable[[], bool],
    *,
    what: str,
    timeout: float = 60.0,
    on_timeout: Callable[[], str] | None = None,
) -> None:
    """Call ``check`` until it returns True; raise StackError naming ``what`` at the deadline.

    ``check`` may raise StackError itself to give up early (e.g. the process died).
    """
    deadline = time.monotonic() + timeout
    while True:
        if check():
            return
        if time.monotonic() >= deadline:
            detail = on_timeout() if on_timeout else ""
            raise StackError(f"{what} did not become ready within {timeout:.0f}s{detail}")
        time.sleep(POLL_INTERVAL)


def port_accepts(host: str, port: int, timeout: float = 0.5) -> bool:
    """True when something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port
