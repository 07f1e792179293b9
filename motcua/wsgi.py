"""WSGI entry for gunicorn: `gunicorn -k gevent -w 1 motcua.wsgi:app`.

The gevent worker monkey-patches the process before this module loads, and motcua.realtime
then picks the gevent async mode by itself."""

from motcua.app import create_app

app = create_app()
