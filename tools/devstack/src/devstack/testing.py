"""Throwaway services for test suites: their own PostgreSQL and S3 emulator on free ports.

Never the developer's running stack: every server here lives in a temporary directory,
listens on a port the OS picked, and is stopped and removed on exit.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from devstack.errors import StackError
from devstack.postgres import SUPERUSER, THROWAWAY_SETTINGS, Cluster, server_os_user
from devstack.processes import spawn, terminate
from devstack.waiting import free_port, wait_until

TEST_ROLE = "aia"
TEST_DATABASE = "aia"
_PORT_ATTEMPTS = 3


@contextmanager
def postgres_server(
    base_dir: Path | None = None, *, role: str = TEST_ROLE, database: str = TEST_DATABASE
) -> Iterator[str]:
    """Run a fresh cluster; yield a SQLAlchemy URL of ``database`` owned by ``role``.

    ``role`` may create databases (tests clone a migrated template per test). The cluster
    lives in a new directory under ``base_dir`` (default: the system temp dir), which the
    unprivileged server user must be able to enter.
    """
    os_user = server_os_user()
    parent = Path(base_dir) if base_dir is not None else Path(tempfile.gettempdir())
    parent.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="aia-pg-", dir=parent))
    workdir.chmod(0o755)
    cluster = Cluster(
        data_dir=workdir / "pgdata", log_file=workdir / "postgres.log", port=0, os_user=os_user
    )
    try:
        cluster.init(extra_settings=THROWAWAY_SETTINGS)
        for attempt in range(_PORT_ATTEMPTS):
            cluster.port = free_port()
            try:
                cluster.start(timeout=60)
                break
            except StackError:
                # Another process may have taken the port between picking and binding.
                if attempt == _PORT_ATTEMPTS - 1:
                    raise
        cluster.ensure_role_and_database(role, database)
        yield cluster.url(role, database)
    finally:
        try:
            cluster.stop("immediate")
        finally:
            shutil.rmtree(workdir, ignore_errors=True)


def _conninfo(url: str) -> str:
    """libpq connection string from a SQLAlchemy URL (drops the ``+psycopg`` driver)."""
    parsed = make_url(url).set(drivername="postgresql")
    return parsed.render_as_string(hide_password=False)


def database_url(url: str, database: str) -> str:
    """The same server and role as ``url``, another database."""
    return make_url(url).set(database=database).render_as_string(hide_password=False)


def create_database(url: str, name: str, *, template: str | None = None) -> str:
    """CREATE DATABASE ``name`` (optionally as a copy of ``template``); return its URL.

    Copying a template needs it to have no open connections: any left are ended first.
    """
    with psycopg.connect(_conninfo(url), autocommit=True) as conn:
        if template is None:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        else:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                (template,),
            )
            conn.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                    sql.Identifier(name), sql.Identifier(template)
                )
            )
    return database_url(url, name)


def drop_database(url: str) -> None:
    """DROP the database ``url`` names, ending its connections (run from its server's db)."""
    target = make_url(url).database
    if not target:
        raise ValueError(f"no database in {url!r}")
    admin = database_url(url, "postgres")
    with psycopg.connect(_conninfo(admin), autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(target))
        )


def superuser_url(url: str) -> str:
    """The cluster superuser on the same server (for tests that must inspect everything)."""
    return make_url(url).set(username=SUPERUSER).render_as_string(hide_password=False)


@dataclass(frozen=True)
class Buckets:
    """The buckets one test works with, on the suite's S3 emulator."""

    lake: str
    models: str
    endpoint_url: str
    region: str = "us-east-1"


def _moto_answers(endpoint: str) -> bool:
    try:
        with urllib.request.urlopen(f"{endpoint}/moto-api/data.json", timeout=2) as response:  # noqa: S310
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _start_moto(port: int, log_file: Path) -> subprocess.Popen[bytes]:
    endpoint = f"http://127.0.0.1:{port}"
    process = spawn(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        log_file=log_file,
    )

    def ready() -> bool:
        if process.poll() is not None:
            raise StackError(f"moto exited with {process.returncode}; see {log_file}")
        return _moto_answers(endpoint)

    try:
        wait_until(ready, what=f"moto S3 on {endpoint}", timeout=60)
    except StackError:
        terminate(process.pid)
        process.wait()
        raise
    return process


@contextmanager
def moto_s3_server(log_dir: Path | None = None) -> Iterator[str]:
    """Run a real moto server process on a free port; yield its endpoint URL."""
    workdir = Path(tempfile.mkdtemp(prefix="aia-moto-", dir=log_dir))
    process: subprocess.Popen[bytes] | None = None
    try:
        for attempt in range(_PORT_ATTEMPTS):
            port = free_port()
            try:
                process = _start_moto(port, workdir / "moto.log")
                break
            except StackError:
                # Another process may have taken the port between picking and binding.
                if attempt == _PORT_ATTEMPTS - 1:
                    raise
        assert process is not None
        yield f"http://127.0.0.1:{port}"
    finally:
        if process is not None:
            terminate(process.pid)
            process.wait()
        shutil.rmtree(workdir, ignore_errors=True)
