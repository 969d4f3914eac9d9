from pathlib import Path

import pytest

from devstack.config import StackSettings, find_project_root
from devstack.services import all_services, setup_tasks


def test_settings_follow_ports_and_buckets_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PGPORT", "6543")
    monkeypatch.setenv("AIA_S3_PORT", "4999")
    monkeypatch.setenv("LAKE_BUCKET", "my-lake")
    monkeypatch.setenv("AIA_VAR_DIR", str(tmp_path))

    env = StackSettings().service_environment()

    assert env["DATABASE_URL"] == "postgresql+psycopg://aia@127.0.0.1:6543/aia"
    assert env["AWS_ENDPOINT_URL"] == "http://127.0.0.1:4999"
    assert env["LAKE_BUCKET"] == "my-lake"
    assert env["AWS_ACCESS_KEY_ID"] == env["AWS_SECRET_ACCESS_KEY"] == "test"
    assert StackSettings().pgdata == tmp_path / "pgdata"


def test_state_lives_under_the_project_var_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AIA_VAR_DIR", raising=False)
    root = find_project_root()
    assert (root / "uv.lock").exists()
    assert StackSettings().var_dir == root / "var"


def test_up_order_is_database_then_emulator_then_setup() -> None:
    names = [service.name for service in all_services(StackSettings())]
    assert names[:2] == ["postgres", "s3"]
    tasks = setup_tasks()
    assert [task.is_bootstrap for task in tasks][:3] == [False, False, True]
    assert "migrations" in tasks[0].name
