"""What a field's recent history says about its citizens: the service-time distribution (the
services still in progress counted as lasting at least what they have lasted so far, and
each clerk's own mean where there is enough of it), the share of called citizens who do not
come, how long a call takes to become a service, how many citizens arrived in the last hour and,
from the earlier days, how many come in each hour of a usual day.

These move slowly, so they are read once per field and kept for STATS_TTL_S (in the `now` the
caller passes), never computed per ticket from the whole history. A field with no history yet
uses its configured typical minutes until its first citizen is served (`forget`)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from sqlalchemy import bindparam, distinct, func, or_, select
from sqlalchemy.orm import Session

from motcua.engine import clock
from motcua.engine.wait_model import Cost
from motcua.models import TicketLeg
from motcua.prepared import Prepared
from motcua.sqltime import local_hour

STATS_TTL_S = 600
RECENT_DAYS = 14
RECENT_LEGS = 400
RATE_WINDOW_S = 3600
# Arrivals are counted over the last hour, divided by the part of it the office was issuing (07:40
# has seen ten minutes of arrivals, 13:40 ten minutes after the break), but over no less than this.
MIN_RATE_WINDOW_S = 600
# Today's arrivals so far against what the field's usual day had by this hour: the ratio scales
# the usual day's hours still to come, counted as if the usual day had been seen this many
# more arrivals' worth (early in the morning, the usual day as it is).
LEVEL_PRIOR_ARRIVALS = 10.0
# Without history: a spread typical of counter work (log-normal, coefficient of variation 0.75).
DEFAULT_CV = 0.75
DEFAULT_NO_SHOW = 0.03
DEFAULT_NO_SHOW_S = 60.0
DEFAULT_WALK_S = 30.0
# A clerk's own mean counts once they served this many of the field, shrunk towards the field's.
CLERK_MIN_LEGS = 15
CLERK_PRIOR_LEGS = 10
FIELD_PRIOR_LEGS = 10
MIN_SERVICE_S = 30.0

_legs = TicketLeg.__table__
_RECENT = Prepared(
    select(_legs.c.called_at, _legs.c.started_at, _legs.c.finished_at, _legs.c.clerk_id, _legs.c.outcome)
    .where(
        # office and day lead ix_ticket_legs_report: a year of legs is not scanned for two weeks'.
        _legs.c.office_id == bindparam("office_id"),
        _legs.c.business_day >= bindparam("since_day"),
        _legs.c.service_id == bindparam("service_id"),
        or_(_legs.c.outcome == "served", _legs.c.outcome == "no_show"),
        _legs.c.called_at.is_not(None),
    )
    .order_by(_legs.c.finished_at.desc())
    .limit(RECENT_LEGS)
)
# Services of the field still in progress today: a long one left out would make the mean read low.
_IN_PROGRESS = Prepared(
    select(_legs.c.started_at)
    .where(
        _legs.c.office_id == bindparam("office_id"),
        _legs.c.business_day == bindparam("day"),
        _legs.c.service_id == bindparam("service_id"),
        _legs.c.outcome.is_(None),
        _legs.c.started_at.is_not(None),
        _legs.c.started_at <= bindparam("now"),
    )
)
_ARRIVALS = Prepared(
    select(_legs.c.priority, func.count())
    .where(
        _legs.c.office_id == bindparam("office_id"),
        _legs.c.business_day == bindparam("day"),
        _legs.c.service_id == bindparam("service_id"),
        _legs.c.queued_at >= bindparam("since"),
        _legs.c.queued_at <= bindparam("now"),
    )
    .group_by(_legs.c.priority)
)


@dataclass(frozen=True)
class Usual:
    """The field's usual day, from the last RECENT_DAYS: arrivals in each local hour on an
    average day it had citizens, by class, and how busy today is against it (1: as usual)."""

    per_hour: dict[tuple[int, bool], float]  # (local hour, priority) -> arrivals in that hour
    level: float

    def rate(self, hour: int, priority: bool) -> float:
        """Arrivals per second expected in that hour today."""
        return self.per_hour.get((hour, priority), 0.0) * self.level / 3600


@dataclass(frozen=True)
class FieldStats:
    mean_s: float  # service (start → finish)
    var_s: float
    no_show: float  # share of calls that ended as no-shows
    no_show_s: float  # what a no-show costs the counter (call → marked absent)
    walk_s: float  # call → start of service
    rate_priority: float  # arrivals per second over the last hour
    rate_ordinary: float
    clerk_mean_s: dict[int, float] = field(default_factory=dict)
    from_history: bool = False
    at: datetime | None = None
    usual: Usual | None = None  # None: no earlier day to learn it from

    def cost(self, clerk_id: int | None = None) -> Cost:
        """One call's cost to a counter: a service (after the walk to the counter), or a no-show."""
        mean_s = self.clerk_mean_s.get(clerk_id, self.mean_s) if clerk_id is not None else self.mean_s
        var_s = self.var_s * (mean_s / self.mean_s) ** 2
        served = self.walk_s + mean_s
        p = self.no_show
        mean = (1 - p) * served + p * self.no_show_s
        second = (1 - p) * (var_s + served ** 2) + p * self.no_show_s ** 2
        return Cost(mean, max(second - mean ** 2, 0.0))

    def residual_s(self, elapsed_s: float, clerk_id: int | None = None) -> float:
        """Expected rest of a service that has lasted `elapsed_s`: E[S − a | S > a] under the
        log-normal with this mean and variance (a long service is likely to go on a while)."""
        mean_s = self.clerk_mean_s.get(clerk_id, self.mean_s) if clerk_id is not None else self.mean_s
        if elapsed_s <= 0:
            return mean_s
        sigma2 = math.log(1 + self.var_s / self.mean_s ** 2)
        sigma = math.sqrt(sigma2)
        mu = math.log(mean_s) - sigma2 / 2
        z = (math.log(elapsed_s) - mu) / sigma
        tail = _upper(z)
        if tail < 1e-9:
            return max(mean_s * 0.1, MIN_SERVICE_S)
        return max(mean_s * _upper(z - sigma) / tail - elapsed_s, MIN_SERVICE_S)


def censored_mean(done: list[float], running: list[float], var: float) -> float:
    """The mean service time counting the services still in progress: each of those lasts at
    least its elapsed time, and is counted at its expected length given that (one step of the
    Kaplan–Meier-like "at least" treatment, under the log-normal fitted to the finished ones).
    Never below the finished-only mean: a service known to last longer than a moment can only
    add length."""
    base = max(sum(done) / len(done), MIN_SERVICE_S)
    if not running:
        return base
    fitted = FieldStats(base, var, 0.0, 0.0, 0.0, 0.0, 0.0)
    total = sum(done) + sum(a + fitted.residual_s(a) if a > 0 else base for a in running)
    return max(total / (len(done) + len(running)), base)


def _upper(z: float) -> float:
    """P(Z > z) for a standard normal Z."""
    return 0.5 * math.erfc(z / math.sqrt(2))


_cache: dict[tuple[str, int], FieldStats] = {}


def forget(session: Session, service_id: int) -> None:
    """A citizen of the field was served: drop its figures if they were only the configured
    defaults, so the first real service times count at once."""
    key = (str(session.get_bind().url), service_id)
    hit = _cache.get(key)
    if hit is not None and not hit.from_history:
        del _cache[key]


def field_stats(session: Session, office_id: int, service_id: int, service_minutes: float, day, now: datetime,
                issuing_s: float = RATE_WINDOW_S, *, tz: str) -> FieldStats:
    """`issuing_s`: how much of the last RATE_WINDOW_S the office was issuing tickets; `tz`: the
    office's time zone, whose hours the usual day is counted in."""
    key = (str(session.get_bind().url), service_id)
    hit = _cache.get(key)
    if hit is not None and hit.at is not None and 0 <= (now - hit.at).total_seconds() < STATS_TTL_S:
        return hit
    stats = replace(_read(session, office_id, service_id, service_minutes, day, now, issuing_s),
                    usual=_usual(session, office_id, service_id, day, now, tz))
    _cache[key] = stats
    return stats


def _read(session: Session, office_id: int, service_id: int, service_minutes: float, day, now: datetime,
          issuing_s: float = RATE_WINDOW_S) -> FieldStats:
    conn = session.connection()
    rows = _RECENT.all(conn, {"office_id": office_id, "since_day": day - timedelta(days=RECENT_DAYS), "service_id": service_id})
    rates = {bool(p): n for p, n in _ARRIVALS.all(conn, {"office_id": office_id, "day": day, "service_id": service_id,
                                                        "since": now - timedelta(seconds=RATE_WINDOW_S), "now": now})}
    services, walks, absent = [], [], []
    by_clerk: dict[int, list[float]] = {}
    for called, started, finished, clerk, outcome in rows:
        if finished is None or finished > now:
            continue
        if outcome == "no_show":
            absent.append((finished - called).total_seconds())
        elif started is not None:
            s = max((finished - started).total_seconds(), 1.0)
            services.append(s)
            walks.append((started - called).total_seconds())
            if clerk is not None:
                by_clerk.setdefault(clerk, []).append(s)
    running = [(now - started).total_seconds() for (started,) in _IN_PROGRESS.all(
        conn, {"office_id": office_id, "day": day, "service_id": service_id, "now": now})]
    window = min(max(issuing_s, MIN_RATE_WINDOW_S), RATE_WINDOW_S)
    per_s = {p: n / window for p, n in rates.items()}
    calls = len(services) + len(absent)
    if len(services) < 3:
        mean = max(service_minutes * 60, MIN_SERVICE_S)
        return FieldStats(mean, (DEFAULT_CV * mean) ** 2, DEFAULT_NO_SHOW, DEFAULT_NO_SHOW_S, DEFAULT_WALK_S,
                          per_s.get(True, 0.0), per_s.get(False, 0.0), {}, False, now)
    done_mean = max(sum(services) / len(services), MIN_SERVICE_S)
    # A handful of services says little about their spread (and understates a long tail): the
    # default spread around the mean counts as FIELD_PRIOR_LEGS services already seen.
    squares = sum((s - done_mean) ** 2 for s in services)
    var = (squares + FIELD_PRIOR_LEGS * (DEFAULT_CV * done_mean) ** 2) / (len(services) - 1 + FIELD_PRIOR_LEGS)
    mean = censored_mean(services, running, var)
    clerks = {c: (sum(v) + CLERK_PRIOR_LEGS * mean) / (len(v) + CLERK_PRIOR_LEGS) for c, v in by_clerk.items() if len(v) >= CLERK_MIN_LEGS}
    # A few no-shows say little: the share is smoothed with the default as one prior call in 30.
    no_show = (len(absent) + DEFAULT_NO_SHOW * 30) / (calls + 30)
    return FieldStats(
        mean, var, no_show,
        sum(absent) / len(absent) if absent else DEFAULT_NO_SHOW_S,
        max(sum(walks) / len(walks), 0.0) if walks else DEFAULT_WALK_S,
        per_s.get(True, 0.0), per_s.get(False, 0.0), clerks, True, now,
    )


def _usual(session: Session, office_id: int, service_id: int, day, now: datetime, tz: str) -> Usual | None:
    """The field's usual day (see Usual); None when it has no earlier day in RECENT_DAYS."""
    since = day - timedelta(days=RECENT_DAYS)
    dialect = session.get_bind().dialect.name
    field_legs = (_legs.c.office_id == office_id, _legs.c.service_id == service_id)
    days = session.scalar(select(func.count(distinct(_legs.c.business_day)))
                          .where(*field_legs, _legs.c.business_day >= since, _legs.c.business_day < day))
    if not days:
        return None
    hour = local_hour(_legs.c.queued_at, tz, since, day, dialect)
    per_hour = {(int(h), bool(p)): n / days for h, p, n in session.execute(
        select(hour, _legs.c.priority, func.count())
        .where(*field_legs, _legs.c.business_day >= since, _legs.c.business_day < day)
        .group_by(hour, _legs.c.priority))}
    today = session.scalar(select(func.count()).where(*field_legs, _legs.c.business_day == day, _legs.c.queued_at <= now)) or 0
    local = now.astimezone(clock.zone(tz))
    into = (local - local.replace(minute=0, second=0, microsecond=0)).total_seconds() / 3600
    expected = sum(n * (1.0 if h < local.hour else into if h == local.hour else 0.0) for (h, _p), n in per_hour.items())
    return Usual(per_hour, (today + LEVEL_PRIOR_ARRIVALS) / (expected + LEVEL_PRIOR_ARRIVALS))
