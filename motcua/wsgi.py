"""WSGI entry for gunicorn: `gunicorn -k gevent -w 1 motcua.wsgi:app` (`motcua serve --prod` runs it).

The gevent worker monkey-patches the process before this module loads, and motcua.realtime
then picks the gevent async mode by itself. Settings come from the environment (MOTCUA_CONFIG,
MOTCUA_INSTANCE, DATABASE_URL, REDIS_URL, ...), as for `motcua serve`."""

import logging

from motcua import dayend
from motcua.app import create_app

if not logging.getLogger().handlers:
    # gunicorn configures only its own loggers; the app's warnings (database down, print
    # failures, day-end runs) must reach the journal too.
    logging.basicConfig(level=logging.INFO, format="%(asctime)s [%(process)d] %(levelname)s %(name)s: %(message)s")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)

app = create_app()
if dayend.enabled():
    dayend.start(app)  # in every process: the claim in the database lets one of them run each day end
