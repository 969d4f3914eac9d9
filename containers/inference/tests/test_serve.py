"""The ``serve`` entrypoint: arguments, gunicorn settings, one maths thread per worker."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from inference import serve
from inference.settings import InferenceSettings


def test_accepts_sagemakers_serve_argument_and_nothing_else(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert serve.main(["train"]) == 2
    assert "usage: serve" in capsys.readouterr().err
    assert serve.main(["serve", "--now"]) == 2


def test_gunicorn_settings_follow_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODEL_SERVER_WORKERS", "3")
    monkeypatch.setenv("MODEL_SERVER_TIMEOUT", "45")
    monkeypatch.setenv("MODEL_SERVER_PORT", "8081")
    monkeypatch.setenv("MODEL_SERVER_HOST", "127.0.0.1")
    options = serve.gunicorn_options(InferenceSettings())
    assert options["bind"] == ["127.0.0.1:8081"]
    assert options["workers"] == 3
    assert options["timeout"] == options["graceful_timeout"] == 45
    assert options["worker_class"] == "gthread"
    assert options["preload_app"] is True

    from gunicorn.config import Config

    known = Config().settings
    assert all(name in known for name in options), set(options) - set(known)


def test_workers_default_to_the_cpu_count(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MODEL_SERVER_WORKERS", raising=False)
    assert InferenceSettings().model_server_workers == (os.cpu_count() or 1)
    assert InferenceSettings().model_server_timeout == 60


def test_a_missing_setting_stops_start_up_with_one_line() -> None:
    env = {**os.environ, "MODEL_SERVER_PORT": "not-a-port"}
    result = subprocess.run(
        [sys.executable, "-c", "from inference.serve import main; raise SystemExit(main([]))"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip().startswith("configuration error:")
    assert "MODEL_SERVER_PORT" in result.stderr


def test_maths_libraries_get_one_thread() -> None:
    code = (
        "import os\n"
        "from inference import serve\n"
        "serve._single_threaded_maths()\n"
        "import numpy\n"
        "from threadpoolctl import threadpool_info\n"
        "print(max(p['num_threads'] for p in threadpool_info()))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "1"
