"""WSGI entry for gunicorn: `gunicorn -k motcua.production.WebSocketWorker -w 1 motcua.wsgi:app`
(`motcua serve --prod` runs it; under gunicorn's plain `-k gevent` websockets fail).

The gevent worker monkey-patches the process before this module loads, and motcua.realtime
then picks the gevent async mode by itself. Settings come from the environment (MOTCUA_CONFIG,
MOTCUA_INSTANCE, DATABASE_URL, REDIS_URL, ...), as for `motcua serve`."""

import gc
import logging
import os

from motcua import dayend, notify, production
from motcua.app import create_app

if not logging.getLogger().handlers:
    # gunicorn configures only its own loggers; the app's warnings (database down, print
    # failures, day-end runs) must reach the journal too.
    logging.basicConfig(level=logging.INFO, format="%(asctime)s [%(process)d] %(levelname)s %(name)s: %(message)s")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)

os.environ.setdefault("MOTCUA_PRODUCTION", "1")  # status addresses never from request headers (Motcua.status_url)
app = create_app()
GC_REFRESH_S = 3600  # see production.keep_full_collections_short


def _take_turns(wsgi_app):
    """gevent runs a greenlet until it blocks. A keep-alive client whose next request has already
    arrived never blocks its greenlet, so a few busy connections kept the worker while the others
    waited (docs/benchmarks.md). Yielding once per request gives every connection its turn."""
    import gevent

    def turn(environ, start_response):
        gevent.sleep(0)
        return wsgi_app(environ, start_response)

    return turn


gevent_worker = production.gevent_patched()
if gevent_worker:
    app.wsgi_app = _take_turns(app.wsgi_app)  # type: ignore[method-assign]
if dayend.enabled():
    dayend.start(app)  # in every process: the claim in the database lets one of them run each day end
if notify.enabled():
    notify.start(app)  # in every process: each row is claimed by one sender


# Everything loaded so far (Flask, SQLAlchemy, the rooms, translations) lives as long as the
# worker: keep it out of the collector's full passes, which otherwise walk it mid-request
# (docs/benchmarks.md).
gc.collect()
gc.freeze()
if gevent_worker:
    production.keep_full_collections_short(GC_REFRESH_S)
