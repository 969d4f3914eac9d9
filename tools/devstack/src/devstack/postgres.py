"""A PostgreSQL cluster run from the local ``initdb``/``pg_ctl`` binaries.

PostgreSQL refuses to run as root, so when this runs as root the cluster belongs to an
unprivileged system user (``postgres`` if it exists, else one is created with
``useradd --system``). The server listens on 127.0.0.1 only, with no Unix socket, and
trusts loopback connections: it is a local development cluster, unreachable from outside.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from devstack.errors import StackError
from devstack.waiting import port_accepts, wait_until

SUPERUSER = "postgres"
DEFAULT_OS_USER = "postgres"

# Appended to postgresql.conf at initdb. Loopback only, TCP only: a long checkout path
# would overflow the Unix socket path limit, and nothing here needs the socket.
BASE_SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "unix_socket_directories": "''",
    "max_connections": "100",
}

# For throwaway test clusters: durability is worth nothing there, speed is.
THROWAWAY_SETTINGS = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
}


@dataclass(frozen=True)
class OsUser:
    name: str
    uid: int
    gid: int


def server_os_user() -> OsUser | None:
    """The unprivileged account the server runs as; None means "the current user".

    As root: ``$AIA_PG_OS_USER`` or ``postgres``, created as a system user if missing.
    """
    if os.geteuid() != 0:
        return None
    name = os.environ.get("AIA_PG_OS_USER", DEFAULT_OS_USER)
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        if shutil.which("useradd") is None:
            raise StackError(
                f"running as root and there is no user {name!r} to run PostgreSQL as, "
                "and useradd is not available to create it"
            ) from None
        subprocess.run(
            [
                "useradd",
                "--system",
                "--user-group",
                "--no-create-home",
                "--home-dir",
                "/nonexistent",
                "--shell",
                "/usr/sbin/nologin",
                name,
            ],
            check=True,
        )
        entry = pwd.getpwnam(name)
    return OsUser(entry.pw_name, entry.pw_uid, entry.pw_gid)


def _require_binaries() -> None:
    missing = [b for b in ("initdb", "pg_ctl", "postgres") if shutil.which(b) is None]
    if missing:
        raise StackError(
            "PostgreSQL server binaries not found on PATH: "
            + ", ".join(missing)
            + " (install the postgresql server package, or put its bin/ on PATH)"
        )


def _assert_reachable(path: Path, user: OsUser) -> None:
    """The server user must be able to walk down to its data directory."""
    for parent in reversed(path.parents):
        st = parent.stat()
        if st.st_uid == user.uid:
            continue
        if st.st_mode & 0o001 or (st.st_gid == user.gid and st.st_mode & 0o010):
            continue
        raise StackError(
            f"the PostgreSQL user {user.name!r} cannot enter {parent} (mode "
            f"{oct(st.st_mode & 0o777)}); put the data directory somewhere it can reach"
        )


@dataclass
class Cluster:
    """One PostgreSQL data directory and the server started from it."""

    data_dir: Path
    log_file: Path
    port: int
    host: str = "127.0.0.1"
    os_user: OsUser | None = None

    # -- running commands as the server's user ---------------------------------------------
    def _run(self, args: list[str], *, check: bool = True) -> subprocess.CompletedProcess[str]:
        env = {
            "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
            "LC_ALL": "C",
            "LANG": "C",
        }
        user = self.os_user
        result = subprocess.run(
            args,
            cwd="/",
            env=env,
            capture_output=True,
            text=True,
            check=False,
            user=user.uid if user else None,
            group=user.gid if user else None,
            extra_groups=[] if user else None,
        )
        if check and result.returncode != 0:
            raise StackError(
                f"{' '.join(args[:1])} failed (exit {result.returncode}): "
                f"{(result.stderr or result.stdout).strip()}"
            )
        return result

    def _own(self, path: Path) -> None:
        if self.os_user is not None:
            os.chown(path, self.os_user.uid, self.os_user.gid)

    # -- lifecycle --------------------------------------------------------------------------
    @property
    def initialised(self) -> bool:
        return (self.data_dir / "PG_VERSION").exists()

    def init(self, extra_settings: dict[str, str] | None = None) -> bool:
        """initdb when the data directory holds no cluster yet; True if it created one."""
        if self.initialised:
            return False
        _require_binaries()
        self.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._own(self.data_dir)
        if self.os_user is not None:
            _assert_reachable(self.data_dir, self.os_user)
        self._run(
            [
                "initdb",
                "--pgdata",
                str(self.data_dir),
                "--username",
                SUPERUSER,
                "--auth",
                "trust",
                "--encoding",
                "UTF8",
                "--no-locale",
            ]
        )
        settings = {**BASE_SETTINGS, **(extra_settings or {})}
        lines = "".join(f"{key} = {value}\n" for key, value in settings.items())
        conf = self.data_dir / "postgresql.conf"
        with conf.open("a") as handle:
            handle.write("\n# local stack\n" + lines)
        return True

    @property
    def running(self) -> bool:
        """pg_ctl's view: a postmaster is alive for this data directory."""
        if not self.initialised:
            return False
        return (
            self._run(["pg_ctl", "status", "--pgdata", str(self.data_dir)], check=False).returncode
            == 0
        )

    @property
    def pid(self) -> int | None:
        pid_file = self.data_dir / "postmaster.pid"
        try:
            return int(pid_file.read_text().splitlines()[0])
        except (OSError, ValueError, IndexError, PermissionError):
            return None

    @property
    def running_port(self) -> int | None:
        """The port the running postmaster listens on (line 4 of postmaster.pid)."""
        try:
            return int((self.data_dir / "postmaster.pid").read_text().splitlines()[3])
        except (OSError, ValueError, IndexError):
            return None

    def start(self, timeout: float = 60.0) -> None:
        """Start the server unless it runs already; return once it accepts connections."""
        if self.running:
            if self.running_port not in (None, self.port):
                raise StackError(
                    f"PostgreSQL from {self.data_dir} already runs on port {self.running_port},"
                    f" not {self.port}; run `devstack down` first or set PGPORT={self.running_port}"
                )
        else:
            if port_accepts(self.host, self.port):
                raise StackError(
                    f"port {self.port} on {self.host} is already taken by another process "
                    f"(not the cluster in {self.data_dir}); stop it or choose another port "
                    "with PGPORT=<port>"
                )
            self.log_file.parent.mkdir(parents=True, exist_ok=True)
            self.log_file.touch()
            self._own(self.log_file)
            # pg_ctl --wait polls the new postmaster until it accepts connections or exits.
            result = self._run(
                [
                    "pg_ctl",
                    "start",
                    "--pgdata",
                    str(self.data_dir),
                    "--log",
                    str(self.log_file),
                    "--options",
                    f"-p {int(self.port)}",
                    "--wait",
                    "--timeout",
                    str(int(timeout)),
                ],
                check=False,
            )
            if result.returncode != 0:
                raise StackError(
                    f"PostgreSQL did not start on {self.host}:{self.port}: "
                    f"{(result.stderr or result.stdout).strip()}{self._log_tail()}"
                )
        self.wait_ready(timeout)

    def wait_ready(self, timeout: float = 60.0) -> None:
        def accepts() -> bool:
            try:
                with psycopg.connect(self.conninfo(SUPERUSER, "postgres"), connect_timeout=2):
                    return True
            except psycopg.OperationalError:
                return False

        wait_until(
            accepts,
            what=f"PostgreSQL on {self.host}:{self.port}",
            timeout=timeout,
            on_timeout=self._log_tail,
        )

    def _log_tail(self) -> str:
        try:
            lines = self.log_file.read_text(errors="replace").splitlines()[-15:]
        except OSError:
            return ""
        return "; last lines of " + str(self.log_file) + ":\n  " + "\n  ".join(lines)

    def stop(self, mode: str = "fast") -> bool:
        """Stop the server if it runs; True if it was running. The data stays."""
        if not self.running:
            return False
        self._run(["pg_ctl", "stop", "--pgdata", str(self.data_dir), "--mode", mode, "--wait"])
        return True

    # -- SQL ---------------------------------------------------------------------------------
    def conninfo(self, user: str, dbname: str) -> str:
        return f"host={self.host} port={self.port} user={user} dbname={dbname}"

    def url(self, user: str, dbname: str) -> str:
        """SQLAlchemy URL (psycopg 3 driver), as the services read it from DATABASE_URL."""
        return f"postgresql+psycopg://{user}@{self.host}:{self.port}/{dbname}"

    def ensure_role_and_database(self, role: str, database: str) -> bool:
        """Create a login role and a database it owns when missing; True if anything was new."""
        created = False
        with psycopg.connect(self.conninfo(SUPERUSER, "postgres"), autocommit=True) as conn:
            if (
                conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
                is None
            ):
                conn.execute(sql.SQL("CREATE ROLE {} LOGIN CREATEDB").format(sql.Identifier(role)))
                created = True
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,))
            if exists.fetchone() is None:
                conn.execute(
                    sql.SQL("CREATE DATABASE {} OWNER {}").format(
                        sql.Identifier(database), sql.Identifier(role)
                    )
                )
                created = True
        return created

    def table_row_counts(self, role: str, database: str) -> dict[str, int]:
        """Exact row counts of every table in the public schema (empty if none or no db)."""
        try:
            with psycopg.connect(self.conninfo(role, database), connect_timeout=3) as conn:
                names = [
                    row[0]
                    for row in conn.execute(
                        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                        "ORDER BY tablename"
                    )
                ]
                counts: dict[str, int] = {}
                for name in names:
                    row = conn.execute(
                        sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(name))
                    ).fetchone()
                    counts[name] = int(row[0]) if row else 0
                return counts
        except psycopg.Error:
            return {}
