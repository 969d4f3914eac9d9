"""Settings: a missing setting stops start-up with one line naming it."""

from __future__ import annotations

import pytest

from quantcore.settings import DatabaseSettings, load_settings


def test_missing_database_url_is_one_line_naming_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: object
) -> None:
    for name in ("DATABASE_URL", "DATABASE_HOST", "DATABASE_USER"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no .env here
    with pytest.raises(SystemExit) as stopped:
        load_settings(DatabaseSettings)
    assert stopped.value.code == 2
    message = capsys.readouterr().err.strip()
    assert message.count("\n") == 0
    assert "DATABASE_URL" in message


def test_url_is_built_from_rotated_parts(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("DATABASE_HOST", "db.internal")
    monkeypatch.setenv("DATABASE_PORT", "5433")
    monkeypatch.setenv("DATABASE_NAME", "aia")
    monkeypatch.setenv("DATABASE_USER", "app")
    monkeypatch.setenv("DATABASE_PASSWORD", "p@ss:word/1")
    url = DatabaseSettings().database_url  # type: ignore[call-arg]
    assert url == "postgresql+psycopg://app:p%40ss%3Aword%2F1@db.internal:5433/aia?sslmode=require"


def test_an_explicit_url_wins(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://a@h/db")
    monkeypatch.setenv("DATABASE_HOST", "other")
    monkeypatch.setenv("DATABASE_USER", "x")
    assert DatabaseSettings().database_url == "postgresql+psycopg://a@h/db"  # type: ignore[call-arg]
