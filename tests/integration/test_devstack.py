"""The local stack's building blocks behave like the real services they stand for."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import boto3
import psycopg
import pytest
from sqlalchemy.engine import make_url

from devstack.testing import Buckets, database_url
from devstack.waiting import free_port
from quantcore.lake import ObjectStore


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def test_postgres_keeps_committed_rows_across_connections(pg_url: str) -> None:
    with psycopg.connect(_libpq(pg_url)) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS holding_probe (ticker text PRIMARY KEY)")
        conn.execute("INSERT INTO holding_probe VALUES ('AAPL') ON CONFLICT DO NOTHING")
    with psycopg.connect(_libpq(pg_url)) as conn:
        rows = conn.execute("SELECT ticker FROM holding_probe").fetchall()
    assert rows == [("AAPL",)]


def test_each_test_gets_its_own_migrated_database(db_url: str, migrated_db: str) -> None:
    assert make_url(db_url).database != make_url(migrated_db).database
    with psycopg.connect(_libpq(db_url)) as conn:
        version = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        conn.execute("CREATE TABLE scratch (n int)")
    assert version is not None
    with psycopg.connect(_libpq(migrated_db)) as conn:
        leaked = conn.execute("SELECT to_regclass('public.scratch')").fetchone()
    assert leaked == (None,), "a test's writes must not reach the template"


def test_s3_emulator_round_trips_an_object_over_http(buckets: Buckets) -> None:
    store = ObjectStore.connect(buckets.lake, endpoint_url=buckets.endpoint_url)
    store.put("raw/prices/source=sample/ticker=AAPL/bars.csv", b"date,close\n2024-01-02,185.6\n")

    assert store.get("raw/prices/source=sample/ticker=AAPL/bars.csv").startswith(b"date,close")
    assert list(store.keys("raw/prices/")) == ["raw/prices/source=sample/ticker=AAPL/bars.csv"]
    # The same object over plain HTTP: a real server that keeps the bucket private and
    # honours a presigned URL, as S3 does, not an in-process mock.
    key = "raw/prices/source=sample/ticker=AAPL/bars.csv"
    with pytest.raises(urllib.error.HTTPError) as anonymous:
        urllib.request.urlopen(f"{buckets.endpoint_url}/{buckets.lake}/{key}", timeout=5)
    assert anonymous.value.code == 403
    s3 = boto3.client("s3", endpoint_url=buckets.endpoint_url, region_name=buckets.region)
    signed = s3.generate_presigned_url(
        "get_object", Params={"Bucket": buckets.lake, "Key": key}, ExpiresIn=60
    )
    with urllib.request.urlopen(signed, timeout=5) as response:
        assert response.read().endswith(b"185.6\n")


def test_buckets_are_fresh_for_each_test(buckets: Buckets) -> None:
    store = ObjectStore.connect(buckets.lake, endpoint_url=buckets.endpoint_url)
    assert list(store.keys("")) == []


@pytest.fixture
def var_dir() -> Iterator[Path]:
    # Not pytest's tmp_path: its parents are private to root, and PostgreSQL runs as an
    # unprivileged user that must reach its data directory.
    path = Path(tempfile.mkdtemp(prefix="aia-var-"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _devstack(var_dir: Path, *args: str, **ports: int) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "AIA_VAR_DIR": str(var_dir),
        "PGPORT": str(ports.get("pg", free_port())),
        "AIA_S3_PORT": str(ports.get("s3", free_port())),
    }
    return subprocess.run(
        [sys.executable, "-m", "devstack", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_status_reports_down_services_and_fails(var_dir: Path) -> None:
    result = _devstack(var_dir, "status")
    assert result.returncode == 1
    lines = {line.split()[0]: line for line in result.stdout.splitlines() if line.strip()}
    assert "down" in lines["postgres"]
    assert "down" in lines["s3"]


def test_status_names_a_port_taken_by_something_else(
    var_dir: Path, pg_url: str, s3_endpoint: str
) -> None:
    taken_pg = make_url(pg_url).port
    taken_s3 = int(s3_endpoint.rsplit(":", 1)[1])
    assert taken_pg is not None
    result = _devstack(var_dir, "status", pg=taken_pg, s3=taken_s3)
    assert result.returncode == 1
    assert f"port {taken_pg} is taken by another process" in result.stdout
    assert f"port {taken_s3} is taken by another process" in result.stdout


def test_up_down_up_keeps_the_database(var_dir: Path) -> None:
    ports = {"pg": free_port(), "s3": free_port()}
    try:
        first = _devstack(var_dir, "up", "--no-bootstrap", **ports)
        assert first.returncode == 0, first.stdout + first.stderr
        status = _devstack(var_dir, "status", **ports).stdout
        for service in ("postgres", "s3"):
            assert re.search(rf"^{service}\s+up\b", status, re.MULTILINE), status
        url = database_url(f"postgresql+psycopg://aia@127.0.0.1:{ports['pg']}/aia", "aia")
        with psycopg.connect(_libpq(url)) as conn:
            conn.execute("CREATE TABLE kept (n int)")
            conn.execute("INSERT INTO kept VALUES (42)")

        assert _devstack(var_dir, "down", **ports).returncode == 0
        assert _devstack(var_dir, "status", **ports).returncode == 1

        again = _devstack(var_dir, "up", "--no-bootstrap", **ports)
        assert again.returncode == 0, again.stdout + again.stderr
        with psycopg.connect(_libpq(url)) as conn:
            assert conn.execute("SELECT n FROM kept").fetchall() == [(42,)]
        # Already up: a second `up` changes nothing and still succeeds.
        assert "already running" in _devstack(var_dir, "up", "--no-bootstrap", **ports).stdout
    finally:
        _devstack(var_dir, "down", **ports)
