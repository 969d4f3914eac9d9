"""``api-serve`` reads its address and sizing from the environment, refusing nonsense."""

from __future__ import annotations

import pytest

from api.serve import gunicorn_options, main


def test_defaults_are_loopback_port_8000_two_workers_four_threads(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("API_HOST", "API_PORT", "API_WORKERS", "API_THREADS"):
        monkeypatch.delenv(name, raising=False)
    options = gunicorn_options()
    assert options["bind"] == ["127.0.0.1:8000"]
    assert (options["workers"], options["threads"], options["timeout"]) == (2, 4, 60)
    assert options["worker_class"] == "gthread"


def test_the_environment_sets_address_and_sizing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("API_HOST", "0.0.0.0")
    monkeypatch.setenv("API_PORT", "9123")
    monkeypatch.setenv("API_WORKERS", "3")
    monkeypatch.setenv("API_THREADS", "8")
    options = gunicorn_options()
    assert options["bind"] == ["0.0.0.0:9123"]
    assert (options["workers"], options["threads"]) == (3, 8)


@pytest.mark.parametrize(("name", "value"), [("API_PORT", "http"), ("API_WORKERS", "0")])
def test_a_bad_number_stops_start_up_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SystemExit) as stopped:
        gunicorn_options()
    assert name in str(stopped.value.code)


def test_unknown_arguments_print_the_usage(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help-me"]) == 2
    assert "usage: api-serve" in capsys.readouterr().err
