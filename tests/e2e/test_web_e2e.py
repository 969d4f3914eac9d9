"""End to end: the real local stack (devstack) in a temporary var dir on free ports, the
trained model, and a headless Chromium driven by ``browser.mjs`` through a user's journey.

Also checked here: the committed API types match the live OpenAPI document, and the
assistant answers through the Messages API test server (a second api process reached via
ANTHROPIC_BASE_URL, behind a second web server on the same host, so the session cookie
is shared).

Needs Node.js >= 20.19 and Chromium (``/usr/bin/chromium`` or ``$CHROMIUM``); the
Makefile's ``test-e2e`` target says how to install them when they are missing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack.waiting import free_port, wait_until

ROOT = Path(__file__).resolve().parents[2]
WEB_DIR = ROOT / "containers" / "web"
VENV_BIN = Path(sys.executable).parent
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")

pytestmark = pytest.mark.e2e


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return 200 <= response.status < 300
    except (urllib.error.URLError, OSError):
        return False


@pytest.fixture(scope="session")
def stack() -> Iterator[dict[str, str]]:
    if shutil.which("node") is None:
        pytest.fail("Node.js is not installed (see `make test-e2e`)")
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is not at {CHROMIUM} (see `make test-e2e`)")
    var_dir = Path(tempfile.mkdtemp(prefix="aia-e2e-"))
    var_dir.chmod(0o755)  # the PostgreSQL server user must enter it
    ports = {
        name: str(free_port())
        for name in ("PGPORT", "AIA_S3_PORT", "AIA_INFERENCE_PORT", "AIA_API_PORT", "AIA_WEB_PORT")
    }
    env = {
        **os.environ,
        "AIA_VAR_DIR": str(var_dir),
        **ports,
        # The stack under test is offline: no key reaches the api from the caller's shell.
        "ANTHROPIC_API_KEY": "",
        "ANTHROPIC_BASE_URL": "",
    }
    devstack = str(VENV_BIN / "devstack")
    try:
        up = subprocess.run(
            [devstack, "up"],
            env=env,
            cwd=ROOT,
            text=True,
            capture_output=True,
            timeout=900,
            check=False,
        )
        if up.returncode != 0:
            pytest.fail(f"devstack up failed:\n{up.stdout[-4000:]}\n{up.stderr[-4000:]}")
        web = f"http://127.0.0.1:{ports['AIA_WEB_PORT']}"
        assert f"Open {web}" in up.stdout
        yield {
            "web": web,
            "api": f"http://127.0.0.1:{ports['AIA_API_PORT']}",
            "inference": f"http://127.0.0.1:{ports['AIA_INFERENCE_PORT']}",
            "var_dir": str(var_dir),
            "database_url": f"postgresql+psycopg://aia@127.0.0.1:{ports['PGPORT']}/aia",
            **env,
        }
    finally:
        subprocess.run(
            [devstack, "down"], env=env, cwd=ROOT, capture_output=True, timeout=120, check=False
        )
        shutil.rmtree(var_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def web_with_messages_api(stack: dict[str, str]) -> Iterator[str]:
    """A second api using the Messages API test server, and a web server in front of it."""
    sys.path.insert(0, str(ROOT / "tests" / "integration" / "api"))
    from messages_api_server import MessagesApiServer, text_reply, tool_reply

    api_port, web_port = free_port(), free_port()
    processes: list[subprocess.Popen[bytes]] = []
    logs = Path(stack["var_dir"]) / "log"
    with MessagesApiServer() as llm:
        llm.script(
            tool_reply("get_prediction", {"ticker": "AAPL"}, text="Let me look that up."),
            # 987.65 comes from no tool result: the page must mark it as unverified.
            text_reply("The model gives AAPL a slight edge; a price target of 987.65 is my guess."),
        )
        env = {
            **{k: v for k, v in stack.items() if k.isupper()},
            "ENVIRONMENT": "development",
            "DATABASE_URL": stack["database_url"],
            "SESSION_SECRET": (Path(stack["var_dir"]) / "session_secret").read_text().strip(),
            "INFERENCE_URL": stack["inference"],
            "API_HOST": "127.0.0.1",
            "API_PORT": str(api_port),
            "API_WORKERS": "1",
            "ANTHROPIC_API_KEY": "test-key",
            "ANTHROPIC_BASE_URL": llm.url,
        }
        with (
            open(logs / "api-llm.log", "wb") as api_log,
            open(logs / "web-llm.log", "wb") as web_log,
        ):
            processes.append(
                subprocess.Popen(
                    [str(VENV_BIN / "api-serve")],
                    env=env,
                    cwd=ROOT,
                    stdout=api_log,
                    stderr=subprocess.STDOUT,
                )
            )
            web_env = {**env, "WEB_PORT": str(web_port), "API_URL": f"http://127.0.0.1:{api_port}"}
            processes.append(
                subprocess.Popen(
                    ["node", str(WEB_DIR / "server.mjs")],
                    env=web_env,
                    cwd=ROOT,
                    stdout=web_log,
                    stderr=subprocess.STDOUT,
                )
            )
            try:
                wait_until(
                    lambda: _answers(f"http://127.0.0.1:{api_port}/api/health"),
                    what="the second api",
                    timeout=60,
                )
                wait_until(
                    lambda: _answers(f"http://127.0.0.1:{web_port}/"),
                    what="the second web server",
                    timeout=30,
                )
                yield f"http://127.0.0.1:{web_port}"
            finally:
                for process in processes:
                    process.terminate()
                for process in processes:
                    try:
                        process.wait(timeout=15)
                    except subprocess.TimeoutExpired:
                        process.kill()


def test_committed_api_types_match_the_live_document(stack: dict[str, str]) -> None:
    result = subprocess.run(
        ["node", "scripts/gen-api.mjs", "--check", "--url", stack["api"]],
        cwd=WEB_DIR,
        text=True,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr + result.stdout


def test_served_with_caching_headers_and_the_api_on_the_same_origin(stack: dict[str, str]) -> None:
    with urllib.request.urlopen(stack["web"] + "/portfolios/1", timeout=5) as page:
        assert page.headers["Cache-Control"] == "no-cache"
        html = page.read().decode()
    assert '<div id="root">' in html
    asset = html.split('src="', 1)[1].split('"', 1)[0]
    with urllib.request.urlopen(stack["web"] + asset, timeout=5) as script:
        assert "immutable" in script.headers["Cache-Control"]
    with urllib.request.urlopen(stack["web"] + "/api/health", timeout=10) as health:
        assert health.headers["Content-Type"].startswith("application/json")


def test_a_user_journey_in_the_browser(stack: dict[str, str], web_with_messages_api: str) -> None:
    env = {
        **os.environ,
        "WEB_URL": stack["web"],
        "WEB_LLM_URL": web_with_messages_api,
        "CHROMIUM": CHROMIUM,
        "SCREENSHOT_DIR": str(ROOT / "var" / "e2e-screenshots"),
        "METRICS_FILE": str(ROOT / "var" / "e2e-metrics.json"),
        "DOCS_SCREENSHOT": str(ROOT / "docs" / "screenshot-dashboard.png"),
    }
    result = subprocess.run(
        ["node", str(Path(__file__).with_name("browser.mjs"))],
        env=env,
        cwd=ROOT,
        text=True,
        capture_output=True,
        timeout=300,
        check=False,
    )
    print(result.stdout)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
