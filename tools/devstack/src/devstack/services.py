"""The registry of what the local stack runs: each service knows how to start, check, stop.

``devstack up`` starts :func:`infrastructure` services, runs the :func:`setup_tasks`, then
starts :func:`applications`; ``down`` stops them in reverse. A new service (api on :8000,
inference on :8081, web on :8080) is one more :class:`ProcessService` in
:func:`applications`.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from devstack.config import DB_NAME, DB_ROLE, StackSettings
from devstack.errors import StackError
from devstack.postgres import Cluster, server_os_user
from devstack.processes import running_pid, spawn, terminate
from devstack.waiting import port_accepts, wait_until


@dataclass(frozen=True)
class Health:
    up: bool
    detail: str = ""


class Service(ABC):
    name: str
    url: str

    @property
    @abstractmethod
    def log_file(self) -> Path: ...

    @abstractmethod
    def pid(self) -> int | None: ...

    @abstractmethod
    def health(self) -> Health: ...

    @abstractmethod
    def start(self) -> bool:
        """Start unless already healthy; return once healthy. True if it was started now."""

    @abstractmethod
    def stop(self) -> bool:
        """Stop if running. True if something was stopped."""

    def extra_status(self) -> list[str]:
        """Lines shown under the service by ``devstack status``."""
        return []


class PostgresService(Service):
    def __init__(self, settings: StackSettings) -> None:
        self.settings = settings
        self.name = "postgres"
        self.url = settings.database_url
        self._cluster: Cluster | None = None

    @property
    def cluster(self) -> Cluster:
        # Resolving the server's OS user may create it; only do that when needed.
        if self._cluster is None:
            self._cluster = Cluster(
                data_dir=self.settings.pgdata,
                log_file=self.log_file,
                port=self.settings.pgport,
                host=self.settings.host,
                os_user=server_os_user(),
            )
        return self._cluster

    @property
    def log_file(self) -> Path:
        return self.settings.log_dir / "postgres.log"

    def pid(self) -> int | None:
        return self.cluster.pid if self.cluster.running else None

    def health(self) -> Health:
        if not self.cluster.running:
            if port_accepts(self.settings.host, self.settings.pgport):
                return Health(False, f"port {self.settings.pgport} is taken by another process")
            return Health(False, "not running")
        if not port_accepts(self.settings.host, self.settings.pgport):
            return Health(False, f"running but not listening on {self.settings.pgport}")
        return Health(True)

    def start(self) -> bool:
        cluster = self.cluster
        if cluster.init():
            print(f"  initialised a new cluster in {cluster.data_dir}")
        was_running = cluster.running
        cluster.start()
        if cluster.ensure_role_and_database(DB_ROLE, DB_NAME):
            print(f"  created role and database {DB_ROLE!r}")
        return not was_running

    def stop(self) -> bool:
        return self.cluster.initialised and self.cluster.stop("fast")

    def extra_status(self) -> list[str]:
        if not self.cluster.running:
            return []
        counts = self.cluster.table_row_counts(DB_ROLE, DB_NAME)
        if not counts:
            return ["no tables yet (migrations not applied)"]
        width = max(len(name) for name in counts)
        return [f"{name.ljust(width)}  {rows:>10,} rows" for name, rows in counts.items()]


@dataclass
class ProcessService(Service):
    """A long-running process answering HTTP on host:port, healthy when ``health_path`` is 2xx."""

    name: str
    command: list[str]
    host: str
    port: int
    health_path: str
    settings: StackSettings
    port_env: dict[str, str] = field(default_factory=dict)
    start_timeout: float = 60.0
    url: str = ""

    def __post_init__(self) -> None:
        self.url = self.url or f"http://{self.host}:{self.port}"

    @property
    def pid_file(self) -> Path:
        return self.settings.run_dir / f"{self.name}.pid"

    @property
    def log_file(self) -> Path:
        return self.settings.log_dir / f"{self.name}.log"

    def pid(self) -> int | None:
        return running_pid(self.pid_file)

    def _answers(self) -> bool:
        try:
            # The URL is built from host and port above: always http://.
            with urllib.request.urlopen(self.url + self.health_path, timeout=2) as response:  # noqa: S310
                return 200 <= response.status < 300
        except (urllib.error.URLError, OSError, ValueError):
            return False

    def health(self) -> Health:
        pid = self.pid()
        if pid is None:
            if port_accepts(self.host, self.port):
                return Health(False, f"port {self.port} is taken by another process")
            return Health(False, "not running")
        if not self._answers():
            return Health(False, f"pid {pid} runs but {self.health_path} does not answer")
        return Health(True)

    def start(self) -> bool:
        pid = self.pid()
        if pid is not None and self._answers():
            return False
        if pid is None and port_accepts(self.host, self.port):
            raise StackError(
                f"{self.name}: port {self.port} on {self.host} is already taken by another "
                "process; stop it or choose another port"
            )
        if pid is None:
            process = spawn(
                self.command,
                log_file=self.log_file,
                pid_file=self.pid_file,
                env={**self.settings.child_environment(), **self.port_env},
                cwd=self.settings.project_root,
            )
            pid = process.pid

        def ready() -> bool:
            if running_pid(self.pid_file) is None:
                raise StackError(f"{self.name} exited during start-up; see {self.log_file}")
            return self._answers()

        wait_until(ready, what=f"{self.name} on {self.url}", timeout=self.start_timeout)
        return True

    def stop(self) -> bool:
        pid = self.pid()
        self.pid_file.unlink(missing_ok=True)
        if pid is None:
            return False
        terminate(pid)
        return True


def s3_emulator(settings: StackSettings) -> ProcessService:
    return ProcessService(
        name="s3",
        command=[
            sys.executable,
            "-m",
            "moto.server",
            "-H",
            settings.host,
            "-p",
            str(settings.aia_s3_port),
        ],
        host=settings.host,
        port=settings.aia_s3_port,
        # moto's own API: answers only when moto (not some other server) is on the port.
        health_path="/moto-api/data.json",
        settings=settings,
    )


def infrastructure(settings: StackSettings) -> list[Service]:
    return [PostgresService(settings), s3_emulator(settings)]


@dataclass
class InferenceService(ProcessService):
    """The model server; its status line names the model version it serves."""

    def extra_status(self) -> list[str]:
        import json

        try:
            with urllib.request.urlopen(self.url + "/models/current", timeout=2) as response:  # noqa: S310
                current = json.loads(response.read())
        except (urllib.error.URLError, OSError, ValueError):
            return []
        model = current.get("model") or current
        version = model.get("version") if isinstance(model, dict) else None
        lines = [f"model version {version or 'none loaded'}"]
        problem = current.get("last_error")
        if problem:
            lines.append(f"last loading problem: {problem}")
        return lines


def inference_server(settings: StackSettings) -> ProcessService:
    command = venv_script("serve") or "serve"
    return InferenceService(
        name="inference",
        command=[command],
        host=settings.host,
        port=settings.aia_inference_port,
        health_path="/ping",
        settings=settings,
        port_env={
            "MODEL_SOURCE": "registry",
            "MODEL_SERVER_HOST": settings.host,
            "MODEL_SERVER_PORT": str(settings.aia_inference_port),
            "MODEL_SERVER_WORKERS": "2",
        },
        start_timeout=120.0,
    )


def session_secret(settings: StackSettings) -> str:
    """The local api's session secret: generated once, kept in var/session_secret (0600).

    Never a constant: sessions and CSRF tokens of one machine's stack are worthless on
    another, and the secret survives restarts so signed-in browsers stay signed in.
    """
    path = settings.var_dir / "session_secret"
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        secret = path.read_text(encoding="utf-8").strip()
        if len(secret) >= 32:
            return secret
        raise StackError(
            f"{path} holds no usable secret; delete it to generate a new one"
        ) from None
    secret = secrets.token_urlsafe(48)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(secret + "\n")
    return secret


def api_environment(settings: StackSettings) -> dict[str, str]:
    """What the api (and its seed script) read on top of the stack's environment."""
    return {
        "SESSION_SECRET": session_secret(settings),
        "INFERENCE_TRANSPORT": "http",
        "INFERENCE_URL": f"http://{settings.host}:{settings.aia_inference_port}",
        "API_HOST": settings.host,
        "API_PORT": str(settings.aia_api_port),
        "API_WORKERS": "2",
        "API_THREADS": "4",
    }


@dataclass
class ApiService(ProcessService):
    """The Flask API under gunicorn; its secret is read (or made) only when it starts."""

    def start(self) -> bool:
        self.port_env = {**self.port_env, **api_environment(self.settings)}
        return super().start()


def api_server(settings: StackSettings) -> ProcessService:
    command = venv_script("api-serve") or "api-serve"
    return ApiService(
        name="api",
        command=[command],
        host=settings.host,
        port=settings.aia_api_port,
        # 200 while degraded too (model server down): the api itself answers.
        health_path="/api/health",
        settings=settings,
        start_timeout=60.0,
    )


@dataclass
class WebService(ProcessService):
    """The built app with /api proxied to the api (containers/web/server.mjs).

    Before it starts, ``scripts/ensure-built.mjs`` runs ``npm ci`` (only when node_modules
    is missing or package-lock.json changed) and ``npm run build`` (only when the sources
    changed), printing what it does.
    """

    def start(self) -> bool:
        if self.pid() is None:
            node = shutil.which("node")
            if node is None:
                raise StackError(
                    "web: Node.js (>= 20.19, with npm) is not installed; install it "
                    "(e.g. `apt-get install nodejs npm` or from https://nodejs.org) and retry"
                )
            web_dir = self.settings.project_root / "containers" / "web"
            _run_streaming(
                [node, str(web_dir / "scripts" / "ensure-built.mjs")],
                self.settings,
                "web build (npm ci / npm run build)",
            )
        return super().start()


def web_server(settings: StackSettings) -> ProcessService:
    return WebService(
        name="web",
        command=["node", str(settings.project_root / "containers" / "web" / "server.mjs")],
        host=settings.host,
        port=settings.aia_web_port,
        health_path="/",
        settings=settings,
        port_env={
            "WEB_HOST": settings.host,
            "WEB_PORT": str(settings.aia_web_port),
            "API_URL": f"http://{settings.host}:{settings.aia_api_port}",
        },
        start_timeout=30.0,
    )


def applications(settings: StackSettings) -> list[Service]:
    """The product's own services, started after the setup tasks."""
    return [inference_server(settings), api_server(settings), web_server(settings)]


def all_services(settings: StackSettings) -> list[Service]:
    return [*infrastructure(settings), *applications(settings)]


# -- one-shot setup tasks run by `devstack up` between infrastructure and applications ------


@dataclass(frozen=True)
class SetupTask:
    name: str
    run: Callable[[StackSettings], None]
    # The slow step that fills the lake and trains; `devstack up --no-bootstrap` skips it.
    is_bootstrap: bool = False


def venv_script(name: str) -> str | None:
    """A console script of the environment devstack runs in, else one on PATH."""
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    return shutil.which(name)


def _run_streaming(command: list[str], settings: StackSettings, what: str) -> None:
    result = subprocess.run(
        command, env=settings.child_environment(), cwd=settings.project_root, check=False
    )
    if result.returncode != 0:
        raise StackError(f"{what} failed (exit {result.returncode}); see its output above")


def apply_migrations(settings: StackSettings) -> None:
    script = venv_script("quantcore-db")
    if script is None:
        raise StackError("quantcore-db is not installed; run `make install`")
    _run_streaming([script, "upgrade"], settings, "quantcore-db upgrade")


def create_buckets(settings: StackSettings) -> None:
    from quantcore.lake import ObjectStore

    # boto3 in this process signs with whatever credentials it finds: use the emulator's.
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        os.environ[key] = settings.service_environment()[key]
    for bucket in (settings.lake_bucket, settings.models_bucket):
        ObjectStore.connect(
            bucket, endpoint_url=settings.s3_endpoint, region=settings.aws_region
        ).ensure_bucket()
        print(f"  bucket s3://{bucket}")


def bootstrap_trainer(settings: StackSettings) -> None:
    script = venv_script("trainer")
    if script is None:
        raise StackError("trainer is not installed; run `make install`")
    _run_streaming([script, "bootstrap"], settings, "trainer bootstrap")


def seed_demo_account(settings: StackSettings) -> None:
    """``api-seed``: the demo account (it prints its credentials) on the bootstrapped data."""
    import importlib.util

    script = venv_script("api-seed")
    if script is None or importlib.util.find_spec("api.seed") is None:
        print("  skipped: this version of the api has no seed script")
        return
    result = subprocess.run(
        [script],
        env={**settings.child_environment(), **api_environment(settings)},
        cwd=settings.project_root,
        check=False,
    )
    if result.returncode != 0:
        raise StackError(f"api-seed failed (exit {result.returncode}); see its output above")


def setup_tasks() -> list[SetupTask]:
    return [
        SetupTask("migrations (quantcore-db upgrade)", apply_migrations),
        SetupTask("buckets", create_buckets),
        SetupTask("lake + model (trainer bootstrap)", bootstrap_trainer, is_bootstrap=True),
        # Needs the bootstrapped prices for its demo portfolio, so it is skipped with them.
        SetupTask("demo account (api-seed)", seed_demo_account, is_bootstrap=True),
    ]
