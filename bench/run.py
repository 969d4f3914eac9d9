"""`make bench`: every benchmark of the product, printed as plain figures."""

from __future__ import annotations

import importlib
import inspect
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

BENCHMARKS = ["trainer_bench", "inference_bench", "chat_bench", "api_bench", "web_bench"]


def main() -> None:
    selected = sys.argv[1:] or BENCHMARKS
    for name in selected:
        module = importlib.import_module(name)
        # The benchmark names are this script's arguments, not the benchmark's own.
        if inspect.signature(module.main).parameters:
            module.main([])
        else:
            module.main()
        print()


if __name__ == "__main__":
    main()
