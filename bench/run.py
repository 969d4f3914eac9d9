"""`make bench`: every benchmark of the product, printed as plain figures."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

BENCHMARKS = ["trainer_bench", "inference_bench", "chat_bench", "api_bench", "web_bench"]


def main() -> None:
    selected = sys.argv[1:] or BENCHMARKS
    for name in selected:
        module = importlib.import_module(name)
        module.main()
        print()


if __name__ == "__main__":
    main()
