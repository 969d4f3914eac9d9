"""``serve``: the container's entrypoint (SageMaker runs ``docker run <image> serve``).

It runs gunicorn in this very process (no shell, no second interpreter), so the process
that receives SIGTERM is gunicorn's arbiter: it stops accepting, lets every worker finish
the requests in flight (up to ``MODEL_SERVER_TIMEOUT`` seconds), then exits.

Environment (see :class:`inference.settings.InferenceSettings` and ``.env.example``):
``MODEL_SERVER_HOST`` (0.0.0.0), ``MODEL_SERVER_PORT`` or ``SAGEMAKER_BIND_TO_PORT`` (8080),
``MODEL_SERVER_WORKERS`` (CPU count), ``MODEL_SERVER_THREADS`` (4),
``MODEL_SERVER_TIMEOUT`` (60), ``MODEL_SOURCE`` (auto|dir|registry), ``SM_MODEL_DIR``,
``MODELS_BUCKET``, ``MODEL_NAME``, ``AWS_ENDPOINT_URL``, ``MODEL_POLL_SECONDS`` (2).

The model is loaded once in the arbiter before the workers fork (they share its memory
and answer /ping at once); each worker then polls the production pointer on its own
(registry source) or retries a failed first load.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Any

# One BLAS/OpenMP thread per worker: workers are the unit of parallelism, and several
# workers each spinning up one thread per core would oversubscribe the CPU. Must be set
# before numpy is first imported, hence before anything else of this package loads.
_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")

USAGE = "usage: serve [serve]  (settings come from the environment)"


def _single_threaded_maths() -> None:
    for name in _THREAD_VARIABLES:
        os.environ[name] = "1"


def _configure_logging() -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        logging.Formatter("%(asctime)s [%(process)d] [%(levelname)s] %(name)s: %(message)s")
    )
    root = logging.getLogger("inference")
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    root.propagate = False


def gunicorn_options(settings: Any) -> dict[str, Any]:
    """gunicorn settings for ``settings`` (an InferenceSettings)."""
    return {
        "bind": [f"{settings.model_server_host}:{settings.model_server_port}"],
        "workers": settings.model_server_workers,
        "worker_class": "gthread",
        "threads": settings.model_server_threads,
        "timeout": settings.model_server_timeout,
        "graceful_timeout": settings.model_server_timeout,
        "keepalive": 5,
        "preload_app": True,
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "info",
        "proc_name": "inference",
        # No control socket: nothing administers the server at run time, and two servers
        # on one machine (tests, the local stack) would fight over the default path.
        "control_socket_disable": True,
        "post_fork": _post_fork,
        "worker_exit": _worker_exit,
    }


def _post_fork(server: Any, worker: Any) -> None:
    slot = server.app.application.slot
    slot.forget_connections()
    slot.start_polling()


def _worker_exit(server: Any, worker: Any) -> None:
    server.app.application.slot.stop_polling()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args not in ([], ["serve"]):
        print(USAGE, file=sys.stderr)
        return 2
    _single_threaded_maths()
    _configure_logging()

    from gunicorn.app.base import BaseApplication

    from inference.app import InferenceApp, create_app
    from inference.settings import InferenceSettings
    from quantcore.settings import load_settings

    settings = load_settings(InferenceSettings)
    options = gunicorn_options(settings)

    class Server(BaseApplication):  # type: ignore[misc]
        def __init__(self) -> None:
            self.application: InferenceApp | None = None
            super().__init__()

        def load_config(self) -> None:
            known = self.cfg.settings
            for key, value in options.items():
                if key in known:
                    self.cfg.set(key, value)

        def load(self) -> InferenceApp:
            if self.application is None:
                app = create_app(settings)
                logging.getLogger("inference").info("model source: %s; loading", app.slot.source)
                app.slot.refresh()  # before fork; failures are retried by each worker
                self.application = app
            return self.application

    Server().run()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
