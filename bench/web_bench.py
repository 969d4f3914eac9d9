"""Web figures: the JavaScript a first visit downloads, and how fast the dashboard shows.

    .venv/bin/python bench/web_bench.py
    .venv/bin/python bench/web_bench.py --dist containers/web/dist --metrics var/e2e-metrics.json

- initial JS (gzip): the scripts ``dist/index.html`` loads (its module entry and the
  chunks it preloads), each gzip-compressed at level 9 as the web server sends them;
  target <= 300 KB. Routes loaded on demand (charts) are listed apart.
- first contentful paint and the time until the dashboard shows its data, as recorded
  from the browser's Performance API by the e2e run (``make test-e2e``) in
  ``var/e2e-metrics.json``; target <= 1 s each.

Build the app first (``make up`` or ``npm run build`` in containers/web).
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
JS_TARGET_KB = 300.0
TIMING_TARGET_MS = 1000.0
_LOADED = re.compile(
    r'<(?:script[^>]*\bsrc|link[^>]*rel="modulepreload"[^>]*\bhref)="/?([^"]+\.js)"'
)


def gzip_kb(path: Path) -> float:
    return len(gzip.compress(path.read_bytes(), compresslevel=9)) / 1024


def initial_scripts(dist: Path) -> list[Path]:
    html = (dist / "index.html").read_text(encoding="utf-8")
    return [dist / name for name in dict.fromkeys(_LOADED.findall(html))]


def _verdict(value: float, target: float) -> str:
    return "ok" if value <= target else "OVER TARGET"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dist", type=Path, default=ROOT / "containers" / "web" / "dist")
    parser.add_argument("--metrics", type=Path, default=ROOT / "var" / "e2e-metrics.json")
    args = parser.parse_args(argv)

    print("web")
    if not (args.dist / "index.html").is_file():
        print(f"  initial JS: not available ({args.dist} is not built: npm run build)")
    else:
        initial = initial_scripts(args.dist)
        total = sum(gzip_kb(path) for path in initial)
        print(
            f"  initial JS (gzip): {total:.1f} KB in {len(initial)} file(s), "
            f"target <= {JS_TARGET_KB:.0f} KB: {_verdict(total, JS_TARGET_KB)}"
        )
        lazy = sorted(set((args.dist / "assets").glob("*.js")) - set(initial))
        lazy_kb = sum(gzip_kb(path) for path in lazy)
        print(f"  loaded on demand (gzip): {lazy_kb:.1f} KB in {len(lazy)} chunk(s)")
    if not args.metrics.is_file():
        print(f"  timings: not available ({args.metrics} missing: run make test-e2e)")
        return
    metrics = json.loads(args.metrics.read_text(encoding="utf-8"))
    for key, label in (
        ("first_contentful_paint_ms", "first contentful paint"),
        ("dashboard_data_shown_ms", "dashboard with its data"),
    ):
        value = metrics.get(key)
        if isinstance(value, int | float):
            print(
                f"  {label}: {value:.0f} ms, target <= {TIMING_TARGET_MS:.0f} ms: "
                f"{_verdict(value, TIMING_TARGET_MS)}"
            )
        else:
            print(f"  {label}: not recorded")
    print(f"  (timings measured {metrics.get('measured_at', '?')} on loopback, headless Chromium)")


if __name__ == "__main__":
    main()
