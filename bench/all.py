"""Run every benchmark in turn and refresh docs/benchmarks.md: `make bench`."""

from __future__ import annotations

import importlib
import sys

BENCHMARKS = ("bench.print", "bench.issue", "bench.fanout", "bench.fanout_scale", "bench.memory", "bench.reports",
              "bench.reconnect_storm", "bench.estimates")


def main() -> None:
    for name in BENCHMARKS:
        print(f"== {name} ==", flush=True)
        module = importlib.import_module(name)
        saved, sys.argv = sys.argv, [name]
        try:
            module.main()
        finally:
            sys.argv = saved


if __name__ == "__main__":
    main()
