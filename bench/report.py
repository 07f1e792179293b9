"""Shared output for benchmarks: one markdown file, one section per benchmark.

Each benchmark owns the text between ``<!-- bench:TITLE -->`` and
``<!-- /bench:TITLE -->``; running it again replaces only that section.
"""

from __future__ import annotations

import os
import platform
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEADER = (
    "# Benchmarks\n\n"
    "Written by `make bench` (bench/*.py); each section is replaced when its benchmark runs "
    "again. Figures depend on the machine line under each title.\n"
)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_line() -> str:
    """CPU count and model, Python, OS and date, for the figures under it."""
    return (
        f"Machine: {os.cpu_count()} CPUs ({_cpu_model()}), "
        f"{platform.python_implementation()} {platform.python_version()}, "
        f"{platform.system()} {platform.release()}, {datetime.now().astimezone():%Y-%m-%d %H:%M %z}"
    )


def write_section(title: str, markdown: str, path: str | os.PathLike[str] = "docs/benchmarks.md") -> Path:
    """Create ``path`` if needed and replace (or append) the section ``title``.

    A relative ``path`` is taken from the repository root, wherever the benchmark runs.
    Returns the file written.
    """
    if "-->" in title or "\n" in title or not title.strip():
        raise ValueError(f"unusable section title {title!r}")
    target = Path(path)
    if not target.is_absolute():
        target = ROOT / target
    target.parent.mkdir(parents=True, exist_ok=True)
    start, end = f"<!-- bench:{title} -->", f"<!-- /bench:{title} -->"
    section = f"{start}\n## {title}\n\n_{machine_line()}_\n\n{markdown.strip()}\n{end}"
    with open(target, "a+", encoding="utf-8") as fh:
        _lock(fh)  # benchmarks may run in parallel processes
        fh.seek(0)
        text = fh.read() or HEADER
        head, found, rest = text.partition(start)
        if found and end in rest:
            text = head + section + rest.split(end, 1)[1]
        else:
            text = text.rstrip("\n") + "\n\n" + section + "\n"
        fh.seek(0)
        fh.truncate()
        fh.write(text)
    return target


def pct(share: float | None) -> str:
    """A share as the tables print it: '84.2 %', or '—' when there is none."""
    return "—" if share is None else f"{share * 100:.1f} %"


def _lock(fh: object) -> None:
    try:
        import fcntl
    except ImportError:  # Windows: benchmarks run one at a time there
        return
    fcntl.flock(fh.fileno(), fcntl.LOCK_EX)  # type: ignore[attr-defined]
