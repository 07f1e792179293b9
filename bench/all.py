"""Run every benchmark in turn and refresh docs/benchmarks.md: `make bench`."""

from __future__ import annotations

import importlib
import sys

BENCHMARKS = (("bench.print",), ("bench.issue",), ("bench.fanout",), ("bench.fanout_scale",), ("bench.memory",),
              ("bench.reports",), ("bench.reconnect_storm",), ("bench.estimates",), ("bench.estimates", "--week"),
              ("bench.estimate_bound",), ("bench.estimate_bound", "--week"))


def main() -> None:
    for name, *args in BENCHMARKS:
        print(f"== {' '.join((name, *args))} ==", flush=True)
        module = importlib.import_module(name)
        saved, sys.argv = sys.argv, [name, *args]
        try:
            module.main()
        finally:
            sys.argv = saved


if __name__ == "__main__":
    main()
