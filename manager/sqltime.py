"""Moved to the core (motcua.sqltime), which the simulator shares; kept for the rooms' imports."""

from motcua.sqltime import iso_weekday, local_hour, ms_between, offset_periods, utc_bounds  # noqa: F401
