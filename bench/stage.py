"""Run one `trainer` command in this process and report its wall time and peak RSS.

Used by the benchmark so that each stage's memory is measured on its own process.
"""

from __future__ import annotations

import json
import resource
import sys
import time


def main() -> None:
    report_path, *args = sys.argv[1:]
    from trainer.cli import cli

    began = time.monotonic()
    code = 0
    try:
        cli.main(args=args, prog_name="trainer", standalone_mode=False)
    except SystemExit as exc:
        code = int(exc.code or 0)
    elapsed = time.monotonic() - began
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with open(report_path, "w") as handle:
        json.dump({"seconds": elapsed, "peak_mib": peak_kib / 1024, "exit_code": code}, handle)
    sys.exit(code)


if __name__ == "__main__":
    main()
