"""`motcua serve --prod`: gunicorn with the gevent worker, one or several processes.

One gunicorn master with one gevent worker per port. The worker is gunicorn's gevent (pywsgi)
worker with gevent-websocket's handler (`WebSocketWorker` below), so that python-engineio
writes each websocket frame with gevent-websocket: the plain gevent worker makes it fall back
to simple-websocket, which frames in pure Python (wsproto) and keeps a reader greenlet per
socket; that took about a quarter more CPU and time per display and per change.

Socket.IO's long-polling transport needs every request of a session to reach the same
process, and gunicorn hands connections to its workers blindly; so N processes are N
single-worker gunicorns on ports P, P+1, ... P+N-1, and the proxy in front keeps each client on
one of them (nginx `ip_hash`, docs/deployment.md).
Several processes need Redis: it carries each process's real-time events to the displays
connected to the others, and lets the rate limits count across processes.

The same module adjusts the app for running behind a proxy (`init_app`): the client's own
address from X-Forwarded-For (per-address rate limits), and secure cookies over HTTPS; and
bounds the integers in URLs (`init_converters`), so /counters/99999999999999999999/next is a
404 and not a database overflow.
"""

from __future__ import annotations

import builtins
import ipaddress
import logging
import os
import resource
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from functools import cache
from typing import TYPE_CHECKING

from werkzeug.routing import IntegerConverter

if TYPE_CHECKING:
    from flask import Flask

log = logging.getLogger(__name__)
DEFAULT_WORKER_CONNECTIONS = 10000  # sockets one gevent process accepts (displays + requests)
GUNICORN_TIMEOUT_S = 60  # a worker blocked this long (CPU-bound, not I/O) is restarted


class ProductionError(Exception):
    """A production setting that cannot work; the message is Vietnamese, then English."""


def gevent_patched() -> bool:
    """Whether gunicorn's gevent worker has monkey-patched this process (`--prod`)."""
    monkey = sys.modules.get("gevent.monkey")  # never imported here: a threads server has no gevent loaded
    return monkey is not None and monkey.is_module_patched("socket")


def check(workers: int, settings: dict) -> list[str]:
    """Refuse what cannot work, and return warnings about what works poorly."""
    if workers < 1:
        raise ProductionError("Số tiến trình phải từ 1 trở lên. / --workers must be 1 or more.")
    try:
        import gevent  # noqa: F401  only whether it is installed
        import geventwebsocket  # noqa: F401  likewise
        import gunicorn  # noqa: F401  likewise
    except ImportError as exc:
        raise ProductionError(
            f"Thiếu gói {exc.name}: cài bằng `pip install motcua` (gunicorn, gevent, gevent-websocket). / Missing package {exc.name}."
        ) from None
    warnings = []
    if workers > 1 and not settings.get("redis_url"):
        raise ProductionError(
            "Chạy nhiều tiến trình cần Redis (đặt REDIS_URL, ví dụ redis://127.0.0.1:6379/0): màn hình nối với "
            "tiến trình này phải nhận được lệnh gọi số từ tiến trình kia, và giới hạn tần suất phải đếm chung.\n"
            "Several processes need Redis (set REDIS_URL, e.g. redis://127.0.0.1:6379/0): displays connected to one "
            "process must receive the calls made through another, and rate limits must count across processes."
        )
    if workers > 1 and settings["database_url"].startswith("sqlite"):
        warnings.append(
            "Nhiều tiến trình dùng chung SQLite vẫn đúng nhưng chậm khi đông; cấp tỉnh hãy dùng PostgreSQL (DATABASE_URL).\n"
            "Several processes on one SQLite file stay correct but queue on its write lock; use PostgreSQL (DATABASE_URL) for a province."
        )
    return warnings


def worker_connections() -> int:
    return int(os.environ.get("MOTCUA_WORKER_CONNECTIONS") or DEFAULT_WORKER_CONNECTIONS)


WORKER_CLASS = "motcua.production.WebSocketWorker"


def __getattr__(name: str):
    """gunicorn's master loads WORKER_CLASS by name; gevent and gunicorn are imported only then,
    not by every process that imports this module (tests, `motcua serve` with threads)."""
    if name == "WebSocketWorker":
        return _websocket_worker()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@cache
def _websocket_worker() -> type:
    from geventwebsocket.handler import WebSocketHandler
    from gunicorn.workers.ggevent import GeventPyWSGIWorker, PyWSGIHandler

    class Handler(WebSocketHandler, PyWSGIHandler):
        """gevent-websocket's upgrade, with gunicorn's environ and access log (--access-logfile)
        instead of gevent-websocket's line per request on stderr."""

        log_request = PyWSGIHandler.log_request

    class WebSocketWorker(GeventPyWSGIWorker):
        wsgi_handler = Handler

    return WebSocketWorker


def gunicorn_argv(host: str, port: int) -> list[str]:
    """One gunicorn master, one gevent worker; extra options go in GUNICORN_CMD_ARGS."""
    return [
        sys.executable, "-m", "gunicorn",
        "--worker-class", WORKER_CLASS, "--workers", "1",
        "--worker-connections", str(worker_connections()),
        "--bind", f"{host}:{port}",
        "--timeout", str(GUNICORN_TIMEOUT_S), "--graceful-timeout", "10",
        "--log-level", "info",
        *_no_control_socket(),
        "motcua.wsgi:app",
    ]


def _no_control_socket() -> list[str]:
    """gunicorn 25+ opens a control socket at one fixed path per user: several processes (and
    test servers) would fight over it, and nothing here uses it."""
    from gunicorn.config import KNOWN_SETTINGS

    return ["--no-control-socket"] if any(s.name == "control_socket_disable" for s in KNOWN_SETTINGS) else []


def raise_open_files(wanted: int) -> int:
    """Each socket is a file descriptor; lift the soft limit towards the hard one."""
    inf = resource.RLIM_INFINITY
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != inf and soft < wanted:
        target = wanted if hard == inf else min(hard, wanted)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError):
            pass
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    return wanted if soft == inf else soft


def ports(port: int, workers: int) -> list[int]:
    return [port + i for i in range(workers)]


def serve(host: str, port: int, workers: int, echo=print) -> int:
    """Run the gunicorn process(es) until stopped; returns the exit code."""
    limit = raise_open_files(worker_connections() + 256)
    if limit < worker_connections():
        echo(f"Cảnh báo: giới hạn tệp mở {limit} < {worker_connections()} kết nối / warning: open-files limit {limit} "
             f"is below {worker_connections()} connections (raise LimitNOFILE or ulimit -n)")
    if workers == 1:
        argv = gunicorn_argv(host, port)
        sys.stdout.flush()
        # gunicorn takes this process's place, so signals from systemd or a terminal reach it directly.
        os.execve(argv[0], argv, {**os.environ, "MOTCUA_PORT": str(port)})
    clear_metrics_dir()
    return supervise([(p, gunicorn_argv(host, p)) for p in ports(port, workers)], echo)


def clear_metrics_dir() -> None:
    """prometheus-client's multiprocess files of an earlier run would be summed with this
    run's: empty the folder before the processes start (only here, where they all start
    together; separate units sharing it empty it in their service manager, see docs)."""
    from pathlib import Path

    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        for f in Path(folder).glob("*.db"):
            f.unlink(missing_ok=True)


def supervise(commands: Sequence[tuple[int, list[str]]], echo=print) -> int:
    """Start every gunicorn, pass stop/reload signals on, and stop all when one dies: a
    half-running set would silently send some clients nowhere, so the service manager
    (systemd) should see the failure and restart the whole unit."""
    children: list[subprocess.Popen] = []
    stopping = False

    def forward(signum: int, _frame) -> None:
        nonlocal stopping
        if signum in (signal.SIGTERM, signal.SIGINT):
            stopping = True
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM if signum == signal.SIGINT else signum)

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, forward)
    for port, argv in commands:
        children.append(subprocess.Popen(argv, env={**os.environ, "MOTCUA_PORT": str(port)}))
    code = 0
    try:
        while True:
            dead = [c for c in children if c.poll() is not None]
            if dead:
                code = 0 if stopping else (dead[0].returncode or 1)
                if not stopping:
                    echo(f"Một tiến trình đã dừng (mã {dead[0].returncode}); dừng tất cả. / A server process exited "
                         f"({dead[0].returncode}); stopping the others.")
                break
            time.sleep(0.5)
    finally:
        for child in children:
            if child.poll() is None:
                child.terminate()
        deadline = time.monotonic() + 15
        for child in children:
            try:
                child.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
    return code


class TrustedProxyFix:
    """werkzeug's ProxyFix for requests that come from a trusted proxy's address; from anywhere
    else the X-Forwarded-* headers are dropped, so a client that reaches the process directly
    cannot pick the address the rate limits count, nor the host the pages name."""

    def __init__(self, wsgi_app, proxies: int, trusted: list[str]) -> None:
        from werkzeug.middleware.proxy_fix import ProxyFix

        self.plain = wsgi_app
        self.fixed = ProxyFix(wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies, x_prefix=proxies)
        self.networks = [ipaddress.ip_network(n) for n in trusted]

    def trusts(self, address: str | None) -> bool:
        try:
            ip = ipaddress.ip_address((address or "").split("%")[0])
        except ValueError:
            return False
        return any(ip in net for net in self.networks if net.version == ip.version)

    def __call__(self, environ, start_response):
        if self.trusts(environ.get("REMOTE_ADDR")):
            return self.fixed(environ, start_response)
        for key in [k for k in environ if k.startswith("HTTP_X_FORWARDED_")]:
            del environ[key]
        return self.plain(environ, start_response)


def init_app(app: Flask) -> None:
    """Behind nginx: trust its X-Forwarded-* headers (MOTCUA_PROXIES = how many proxies), from
    the proxies' own addresses only (`trusted_proxies`), so per-address rate limits see
    citizens' addresses and not the proxy's; secure cookies when the public address is HTTPS."""
    settings = app.extensions["motcua"].settings
    proxies = int(os.environ.get("MOTCUA_PROXIES") or 0)
    if proxies > 0:
        app.wsgi_app = TrustedProxyFix(app.wsgi_app, proxies, settings["trusted_proxies"])  # type: ignore[method-assign]
    public_url = settings.get("public_url") or ""
    if public_url.startswith("https://"):
        app.config["SESSION_COOKIE_SECURE"] = True
    if settings.get("production") and not public_url:
        log.warning(
            "Chưa đặt public_url (MOTCUA_PUBLIC_URL): mã QR trên phiếu sẽ trỏ tới http://%s:%s/, hãy đặt địa chỉ mà điện "
            "thoại của người dân mở được. / public_url is not set: ticket QR codes will point at http://%s:%s/; set the "
            "address citizens' phones can open.", settings["host"], settings["port"], settings["host"], settings["port"])


DB_INT_MAX = 2**31 - 1  # INTEGER columns (ids, counter numbers) on PostgreSQL


class BoundedIntegerConverter(IntegerConverter):
    """`<int:...>` that never matches a number no INTEGER column can hold."""

    def __init__(self, map, fixed_digits: int = 0, min: int | None = None, max: int | None = None, signed: bool = False) -> None:
        bound = DB_INT_MAX if max is None else builtins.min(max, DB_INT_MAX)
        super().__init__(map, fixed_digits, min, bound, signed)


def init_converters(app: Flask) -> None:
    """Before any route is added: every room's `<int:...>` gets the bound."""
    app.url_map.converters["int"] = BoundedIntegerConverter


def keep_full_collections_short(refresh_s: float):
    """The collector's full passes walk every object the worker holds: with a thousand displays
    connected they are long and frequent, and a call whose fan-out one hits reaches its last
    displays that much later (docs/benchmarks.md). After each full pass, what survived it is long-lived (the
    app, the sockets of connected displays): freeze it, so the next passes walk only what is
    newer. A cycle that dies once frozen is not reclaimed by those passes; once every
    `refresh_s` everything is unfrozen and collected in one pass, then frozen again."""
    import gc

    import gevent

    def after_full_pass(phase: str, info: dict) -> None:
        if phase == "stop" and info["generation"] == 2:
            gc.freeze()

    def refresh() -> None:
        while True:
            gevent.sleep(refresh_s)
            gc.unfreeze()
            gc.collect()  # freezes again through the callback

    gc.callbacks.append(after_full_pass)
    return gevent.spawn(refresh)
