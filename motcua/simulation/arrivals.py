"""Citizens of a simulated day: Poisson arrivals at each field's hourly rates, and what each
brings with them (drawn when they arrive, so a change of queue rule meets the same people)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from motcua.engine import clock
from motcua.simulation.scenario import FieldSpec


@dataclass(frozen=True)
class Citizen:
    at: datetime
    service: str
    priority: str | None
    service_s: float  # how long their service takes
    absent: bool  # not there when called
    transfer: bool  # sent on to another field after this one


def service_time(rng: random.Random, spec: FieldSpec) -> float:
    return rng.lognormvariate(spec.mu, spec.sigma)


def arrivals(rng: random.Random, spec: FieldSpec, day: date, tz: str, groups: list[str]) -> list[Citizen]:
    """One field's citizens of the day: exponential gaps at the hour's rate, hour by hour."""
    out = []
    for hour in sorted(spec.arrivals_per_hour):
        rate = spec.arrivals_per_hour[hour]
        if rate <= 0:
            continue
        start = datetime.combine(day, time(int(hour)), tzinfo=clock.zone(tz))
        t = rng.expovariate(rate / 3600)
        while t < 3600:
            prio = rng.choice(groups) if groups and rng.random() < spec.priority_share else None
            out.append(Citizen(start + timedelta(seconds=t), spec.service, prio, service_time(rng, spec),
                               rng.random() < spec.no_show_share, rng.random() < spec.transfer_share))
            t += rng.expovariate(rate / 3600)
    return out
