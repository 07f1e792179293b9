"""Waiting-time, service and satisfaction reports: plain functions over a session, no Flask.

- `base`: ranges of days, grouping names, the tables and shared expressions, names of things;
- `summaries`: figures per group (`summary`) and waiting times alone (`wait_stats`);
- `charts`: arrivals by weekday and hour, the waiting-time histogram;
- `out_of_order`: calls out of turn with their reasons;
- `punctuality`: how punctual appointments were (in their window, early, late, never);
- `tickets`: the per-leg log.

Callers use this package's names (`from manager import reports; reports.summary(...)`).
"""

from __future__ import annotations

from manager.reports.base import (
    GROUPS,
    MAX_DAYS,
    OUTCOMES_VI,
    WEEKDAYS_EN,
    WEEKDAYS_VI,
    Names,
    check_range,
    month_range,
    normalise_group,
    parse_day,
    rating_scale,
    satisfied,
)
from manager.reports.charts import arrivals_heatmap, wait_histogram
from manager.reports.out_of_order import OUT_OF_ORDER_COLUMNS, out_of_order_calls
from manager.reports.punctuality import PUNCTUALITY_COLUMNS, appointment_punctuality
from manager.reports.summaries import PARALLEL_FROM_DAYS, Summary, summary, wait_stats
from manager.reports.tickets import TICKET_COLUMNS, TIME_KEYS, count_legs, ticket_log, ticket_log_json

__all__ = [
    "GROUPS", "MAX_DAYS", "OUTCOMES_VI", "OUT_OF_ORDER_COLUMNS", "PARALLEL_FROM_DAYS", "PUNCTUALITY_COLUMNS", "TICKET_COLUMNS", "TIME_KEYS", "WEEKDAYS_EN",
    "WEEKDAYS_VI", "Names", "Summary", "appointment_punctuality", "arrivals_heatmap", "check_range", "count_legs", "month_range", "normalise_group",
    "out_of_order_calls", "parse_day", "rating_scale", "satisfied", "summary", "ticket_log", "ticket_log_json", "wait_histogram",
    "wait_stats",
]
