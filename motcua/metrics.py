"""Prometheus metrics at `/metrics` (prometheus-client).

Several processes serve one province, and a scrape reaches only one of them; so whatever the
database knows is read from the database at scrape time and is the same whichever process
answers:

- `motcua_tickets_issued_total{office,field}`: tickets ever issued (never deleted, so the
  count only grows); earlier days' counts are cached per process, today's are counted live;
- `motcua_waiting{office,field}`: citizens waiting now (today's business day, per office);
- `motcua_counters{office,status}`: counters open, paused, closed;
- `motcua_print_failures_total{office,printer,outcome}`: print jobs that ended failed, or
  dropped as too old to print, by their printer; `motcua_print_jobs_pending{office,printer}`;
- `motcua_database_up`: 0 when the database did not answer the scrape.

Only the call latency is measured in the process: `motcua_call_latency_seconds{action}`, the
time of POST /api/v1/counters/<n>/next (and /call). With several processes set
PROMETHEUS_MULTIPROC_DIR (an empty folder, emptied at each start; `motcua serve --prod` does
that) and every process's histogram is summed in each scrape.

The page is not public: loopback requests that did not come through a proxy, or a bearer
token equal to MOTCUA_METRICS_TOKEN.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
import threading
import time
from collections.abc import Iterator
from datetime import date

from flask import Flask, Response, g, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from motcua.json_errors import error_response
from motcua.state import state

log = logging.getLogger(__name__)

CALL_ENDPOINTS = {"api.counter_next": "next", "api.counter_call": "call"}
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
PROXY_HEADERS = ("X-Forwarded-For", "X-Real-IP", "Forwarded")

_shared_histogram: Histogram | None = None  # multiprocess mode: one per process, files shared
_shared_lock = threading.Lock()


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or os.environ.get("prometheus_multiproc_dir")


def _histogram(registry: CollectorRegistry | None) -> Histogram:
    return Histogram("motcua_call_latency_seconds", "Time to answer a clerk's call-next (or call-a-number) request",
                     ["action"], buckets=LATENCY_BUCKETS, registry=registry)


class DatabaseCollector(Collector):
    """Reads the figures every process agrees on from the database, at each scrape."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self._past: tuple[date, dict[tuple[int, int], int]] | None = None
        self._lock = threading.Lock()

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("motcua_database_up", "1 when the database answered this scrape")
        try:
            with state(self.app).db.read() as s:
                families = list(self._families(s))
        except Exception as exc:
            log.warning("metrics: database unavailable: %s", exc)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families

    def _families(self, s) -> Iterator[Metric]:
        from motcua.engine import clock
        from motcua.models import Counter, Office, Printer, PrintJob, Service, Ticket, TicketStatus

        now = clock.now()
        offices = {o.id: (o.code, clock.business_day(now, o.timezone)) for o in s.scalars(select(Office))}
        if not offices:
            return
        fields = dict(s.execute(select(Service.id, Service.code)).all())
        cutoff = min(day for _, day in offices.values())

        issued = CounterMetricFamily("motcua_tickets_issued", "Tickets issued, by office and field (series)", labels=["office", "field"])
        totals = dict(self._past_counts(s, cutoff))
        live = s.execute(
            select(Ticket.office_id, Ticket.series_id, func.count())
            .where(Ticket.office_id.in_(list(offices)), Ticket.business_day >= cutoff)
            .group_by(Ticket.office_id, Ticket.series_id)
        )
        for office_id, series_id, n in live:
            totals[(office_id, series_id)] = totals.get((office_id, series_id), 0) + n
        for (office_id, series_id), n in sorted(totals.items()):
            if office_id in offices:
                issued.add_metric([offices[office_id][0], fields.get(series_id, "?")], n)
        yield issued

        waiting = GaugeMetricFamily("motcua_waiting", "Citizens waiting now, by office and field", labels=["office", "field"])
        rows = s.execute(
            select(Ticket.office_id, Ticket.service_id, Ticket.business_day, func.count())
            .where(Ticket.office_id.in_(list(offices)), Ticket.business_day >= cutoff, Ticket.status == TicketStatus.waiting)
            .group_by(Ticket.office_id, Ticket.service_id, Ticket.business_day)
        )
        counts: dict[tuple[int, int], int] = {}
        for office_id, service_id, day, n in rows:
            if day == offices[office_id][1]:  # that office's own today (offices may be in other zones)
                counts[(office_id, service_id)] = counts.get((office_id, service_id), 0) + n
        for sid, office_id in s.execute(select(Service.id, Service.office_id).where(Service.active)):
            if office_id in offices:
                waiting.add_metric([offices[office_id][0], fields[sid]], counts.get((office_id, sid), 0))
        yield waiting

        counters = GaugeMetricFamily("motcua_counters", "Counters by status", labels=["office", "status"])
        by_status = {(o, _value(st)): n for o, st, n in s.execute(
            select(Counter.office_id, Counter.status, func.count()).where(Counter.active).group_by(Counter.office_id, Counter.status))}
        for office_id, (code, _) in sorted(offices.items()):
            for st in ("open", "paused", "closed"):
                counters.add_metric([code, st], by_status.get((office_id, st), 0))
        yield counters

        printers = {pid: (offices.get(oid, ("?", None))[0], name) for pid, oid, name in s.execute(select(Printer.id, Printer.office_id, Printer.name))}
        failures = CounterMetricFamily("motcua_print_failures", "Print jobs that failed, or were dropped as too old, by their printer",
                                       labels=["office", "printer", "outcome"])
        pending: dict[tuple[str, str], int] = {}
        for printer_id, status, n in s.execute(
            select(PrintJob.printer_id, PrintJob.status, func.count())
            .where(PrintJob.status.in_(("failed", "dropped", "pending", "printing")))  # few rows: the status index
            .group_by(PrintJob.printer_id, PrintJob.status)
        ):
            office, name = printers.get(printer_id, ("?", "?"))
            if status in ("failed", "dropped"):
                failures.add_metric([office, name, status], n)
            else:
                pending[(office, name)] = pending.get((office, name), 0) + n
        yield failures
        pending_family = GaugeMetricFamily("motcua_print_jobs_pending", "Print jobs waiting or printing", labels=["office", "printer"])
        for (office, name), n in sorted(pending.items()):
            pending_family.add_metric([office, name], n)
        yield pending_family

    def _past_counts(self, s, cutoff: date) -> dict[tuple[int, int], int]:
        """Tickets of days before `cutoff`: they never change, so counted once per day."""
        from motcua.models import Ticket

        with self._lock:
            if self._past is not None and self._past[0] == cutoff:
                return self._past[1]
        rows = s.execute(
            select(Ticket.office_id, Ticket.series_id, func.count()).where(Ticket.business_day < cutoff).group_by(Ticket.office_id, Ticket.series_id)
        )
        counts = {(o, sid): n for o, sid, n in rows}
        with self._lock:
            self._past = (cutoff, counts)
        return counts


def _value(status) -> str:
    return getattr(status, "value", status)


def _is_loopback(addr: str | None) -> bool:
    try:
        return addr is not None and ipaddress.ip_address(addr).is_loopback
    except ValueError:
        return False


def allowed() -> tuple[bool, int]:
    """(allowed, status when not): a bearer equal to MOTCUA_METRICS_TOKEN, or a direct loopback request."""
    token = os.environ.get("MOTCUA_METRICS_TOKEN")
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        if token and hmac.compare_digest(header[7:].strip().encode(), token.encode()):
            return True, 200
        return False, 401
    if _is_loopback(request.remote_addr) and not any(h in request.headers for h in PROXY_HEADERS):
        return True, 200
    return False, 403


def init_app(app: Flask) -> None:
    mp_dir = multiprocess_dir()
    registry = CollectorRegistry()
    if mp_dir:
        from prometheus_client import multiprocess

        global _shared_histogram
        with _shared_lock:
            if _shared_histogram is None:
                _shared_histogram = _histogram(None)
        histogram = _shared_histogram
        multiprocess.MultiProcessCollector(registry, path=mp_dir)
    else:
        histogram = _histogram(registry)
    registry.register(DatabaseCollector(app))
    app.extensions["motcua.metrics"] = registry

    @app.before_request
    def _start_timer() -> None:
        if request.endpoint in CALL_ENDPOINTS:
            g.motcua_call_started = time.perf_counter()

    @app.after_request
    def _observe(resp):
        started = g.pop("motcua_call_started", None)
        if started is not None:
            histogram.labels(CALL_ENDPOINTS[request.endpoint]).observe(time.perf_counter() - started)
        return resp

    @app.get("/metrics")
    def metrics():
        ok, status = allowed()
        if not ok:
            if status == 401:
                return error_response("bad_token", "Mã truy cập số liệu không đúng.", "The metrics token is wrong.", 401)
            return error_response("forbidden", "Số liệu chỉ xem được từ máy chủ hoặc với mã truy cập (MOTCUA_METRICS_TOKEN).",
                                  "Metrics are served to the server itself or with the token (MOTCUA_METRICS_TOKEN).", 403)
        return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)
