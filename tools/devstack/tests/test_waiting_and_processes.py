import subprocess
import sys
from pathlib import Path

import pytest

from devstack.errors import StackError
from devstack.processes import running_pid, spawn, terminate
from devstack.waiting import free_port, port_accepts, wait_until


def test_wait_until_names_what_did_not_come_up() -> None:
    with pytest.raises(StackError, match="the thing did not become ready"):
        wait_until(lambda: False, what="the thing", timeout=0.2)


def test_wait_until_returns_as_soon_as_the_check_passes() -> None:
    calls = iter([False, False, True])
    wait_until(lambda: next(calls), what="x", timeout=5)


def test_a_free_port_accepts_nothing() -> None:
    assert not port_accepts("127.0.0.1", free_port())


def test_spawned_process_is_tracked_by_pid_file_and_terminated(tmp_path: Path) -> None:
    pid_file = tmp_path / "run" / "sleeper.pid"
    process = spawn(
        [sys.executable, "-c", "import time; time.sleep(60)"],
        log_file=tmp_path / "log" / "sleeper.log",
        pid_file=pid_file,
    )
    assert running_pid(pid_file) == process.pid
    terminate(process.pid, timeout=5)
    process.wait(timeout=5)
    assert running_pid(pid_file) is None


def test_terminate_tolerates_a_process_that_is_already_gone() -> None:
    finished = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    terminate(int(finished.stdout), timeout=1)
