"""Moved to the core (motcua.stats), which the simulator shares; kept for the rooms' imports."""

from motcua.stats import mean, median, ms_to_min, ms_to_s, p90, p90_rank, share  # noqa: F401
