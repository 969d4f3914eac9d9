"""``api-serve``: the API under gunicorn, started in this very process.

No shell and no second interpreter: the process that receives SIGTERM is gunicorn's
arbiter, which stops accepting, lets the workers finish the requests in flight (up to the
timeout) and exits. The settings are read (and refused, with one line naming the
problem) before anything binds a port.

Environment: ``API_HOST`` (127.0.0.1), ``API_PORT`` (8000), ``API_WORKERS`` (2),
``API_THREADS`` (4), plus the application's settings (see ``.env.example``).
"""

from __future__ import annotations

import os
import sys
from typing import Any

USAGE = "usage: api-serve  (settings come from the environment)"
TIMEOUT_SECONDS = 60


def _int_from_env(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SystemExit(
            f"configuration error: {name} must be a whole number, not {raw!r}"
        ) from None
    if value < 1:
        raise SystemExit(f"configuration error: {name} must be at least 1, not {value}")
    return value


def gunicorn_options() -> dict[str, Any]:
    host = os.environ.get("API_HOST", "").strip() or "127.0.0.1"
    port = _int_from_env("API_PORT", 8000)
    return {
        "bind": [f"{host}:{port}"],
        "workers": _int_from_env("API_WORKERS", 2),
        "worker_class": "gthread",
        "threads": _int_from_env("API_THREADS", 4),
        "timeout": TIMEOUT_SECONDS,
        "graceful_timeout": TIMEOUT_SECONDS,
        "keepalive": 5,
        # Imported and built once in the arbiter, then forked: workers start at once and
        # share the code's memory. The engine has opened no connection yet at that point,
        # and each worker drops the inherited pool anyway (``_post_fork``).
        "preload_app": True,
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "info",
        "proc_name": "api",
        # No control socket: two servers on one machine (tests, the local stack) would
        # otherwise fight over its default path.
        "control_socket_disable": True,
        # Behind App Runner/CloudFront the proxy speaks for the client.
        "forwarded_allow_ips": os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1"),
        "post_fork": _post_fork,
    }


def _post_fork(server: Any, worker: Any) -> None:
    # A connection must never be used by two processes: forget (without closing, which
    # would close the parent's socket) whatever the pool inherited.
    app = server.app.application
    if app is not None:
        app.extensions["db_engine"].dispose(close=False)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args not in ([], ["serve"]):
        print(USAGE, file=sys.stderr)
        return 2

    from gunicorn.app.base import BaseApplication

    from api.app import create_app
    from api.settings import get_settings

    settings = get_settings()  # exits with one line naming a missing or placeholder setting
    options = gunicorn_options()

    class Server(BaseApplication):  # type: ignore[misc]
        def __init__(self) -> None:
            self.application: Any = None
            super().__init__()

        def load_config(self) -> None:
            known = self.cfg.settings
            for key, value in options.items():
                if key in known:
                    self.cfg.set(key, value)

        def load(self) -> Any:
            if self.application is None:
                self.application = create_app(settings)
            return self.application

    Server().run()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
