"""The e2e suite: the whole local stack and a headless Chromium (see test_web_e2e.py)."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "e2e: the whole local stack in a real headless browser")
