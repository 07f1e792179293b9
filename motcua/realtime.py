"""Real-time events over Socket.IO, namespace /display.

Clients join the room of their office (and devices tied to a counter also its counter room).
On connect, and whenever a client asks (it noticed a gap in sequence numbers), the server sends a
full `snapshot` (built once per office and sequence number, `SnapshotCache`); afterwards every committed change arrives as a `change` with the office's
sequence number. Calls carry the id of their log event, so a client never announces one twice.

Changes are emitted from a background task fed by a queue, so the request that issued a ticket
or called a number never waits for the fan-out to thousands of sockets. With a Redis message
queue, every process's emits reach every process's clients.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from typing import Any

from flask import Flask, request
from flask_login import current_user, user_logged_out
from flask_socketio import SocketIO, join_room

from motcua.db import Database
from motcua.devices import mark_seen
from motcua.engine.changes import Change
from motcua.state import state

log = logging.getLogger(__name__)
NAMESPACE = "/display"


def office_room(office_id: int) -> str:
    return f"office:{office_id}"


def counter_room(office_id: int, number: int) -> str:
    return f"counter:{office_id}:{number}"


def change_message(change: Change) -> dict[str, Any]:
    return {"seq": change.seq, "kind": change.kind, **change.data}


class Dispatcher:
    """Moves committed changes from request threads to one emitting task."""

    def __init__(self, socketio: SocketIO) -> None:
        self.socketio = socketio
        self.queue: queue.SimpleQueue[list[Change] | None] = queue.SimpleQueue()
        self.started = False

    def __call__(self, changes: list[Change]) -> None:
        self.queue.put(changes)

    def run(self) -> None:
        while True:
            batch = self.queue.get()
            if batch is None:
                return
            for change in batch:
                try:
                    emit_change(self.socketio, change)
                except Exception:
                    log.exception("emit failed for %s", change.kind)


def emit_change(socketio: SocketIO, change: Change) -> None:
    message = change_message(change)
    socketio.emit("change", message, to=office_room(change.office_id), namespace=NAMESPACE)
    counter = change.data.get("counter")
    if change.kind == "ticket.finished" and counter:
        # The rating pad of that counter asks the citizen now (not sequenced: a prompt, not state).
        socketio.emit("rating_request", {"ticket": change.data["ticket"]}, to=counter_room(change.office_id, counter["number"]), namespace=NAMESPACE)


def _socket_token(auth: dict | None) -> str | None:
    return (auth or {}).get("token") or request.args.get("token")


def _principal_for_socket(auth: dict | None):
    """Device token, staff session, or a citizen's public ticket id (read-only, own office)."""
    from sqlalchemy import select

    from motcua.auth import Principal, principal_from_token
    from motcua.models import Ticket

    auth = auth or {}
    token = _socket_token(auth)
    with state().db.read() as s:
        if token:
            p = principal_from_token(s, token)
            if p is None:
                return None, None
            counter_number = None
            if p.device_id is not None:
                from motcua.models import Counter, Device

                d = s.get(Device, p.device_id)
                if d.counter_id:
                    counter_number = s.get(Counter, d.counter_id).number
            return p, counter_number
        if current_user.is_authenticated:
            return Principal(current_user.id, None, current_user.role, None, current_user.office_id, "session"), None
        public_id = auth.get("ticket") or request.args.get("ticket")
        if public_id:
            office_id = s.scalar(select(Ticket.office_id).where(Ticket.public_id == public_id))
            if office_id is not None:
                return Principal(None, None, None, None, office_id, "ticket"), None
    return None, None


def _office_for_socket(p, auth: dict | None) -> int | None:
    from sqlalchemy import select

    from motcua.models import Office

    code = (auth or {}).get("office") or request.args.get("office")
    if p.office_id is not None:
        return p.office_id
    with state().db.read() as s:
        if code:
            return s.scalar(select(Office.id).where(Office.code == code))
        return s.scalar(select(Office.id).order_by(Office.id))


class SnapshotCache:
    """One snapshot per office and sequence number, shared by every socket of the office that
    needs one. After a restart every display of the province reconnects at once, and a snapshot
    built per socket (a handful of queries and every field's estimate) made kiosks and clerks
    wait behind a thousand identical builds. A socket's request costs one small read (the
    office's sequence number) when the snapshot at that number is built already; the sockets of
    one office that connect together wait for the first one's build instead of each building.
    A snapshot is shared for MAX_AGE_S at most, as its `at` and its estimates follow the clock."""

    MAX_AGE_S = 5.0

    def __init__(self, db: Database) -> None:
        self.db = db
        self._snaps: dict[int, tuple[int, float, dict]] = {}  # office id -> (seq, built at, snapshot)
        self._locks: dict[int, threading.Lock] = {}
        self._guard = threading.Lock()
        self.built = 0

    def get(self, office_id: int) -> dict:
        from sqlalchemy import select

        from motcua.models import Office

        with self.db.read() as s:
            seq = s.scalar(select(Office.event_seq).where(Office.id == office_id))
        snap = self._fresh(office_id, seq)
        if snap is not None:
            return snap
        with self._guard:
            lock = self._locks.setdefault(office_id, threading.Lock())
        with lock:
            snap = self._fresh(office_id, seq)  # built by the socket this one waited for
            if snap is None:
                snap = self._build(office_id)
        return snap

    def _fresh(self, office_id: int, seq: int | None) -> dict | None:
        entry = self._snaps.get(office_id)
        if entry is not None and entry[0] >= (seq or 0) and time.monotonic() - entry[1] < self.MAX_AGE_S:
            return entry[2]
        return None

    def _build(self, office_id: int) -> dict:
        from motcua.engine.snapshot import snapshot
        from motcua.models import Office

        built_at = time.monotonic()
        with self.db.read() as s:
            snap = snapshot(s, s.get(Office, office_id))
        self._snaps[office_id] = (snap["seq"] or 0, built_at, snap)
        self.built += 1
        return snap


def send_snapshot(socketio: SocketIO, office_id: int) -> None:
    from flask import current_app

    snap = current_app.extensions["motcua.snapshots"].get(office_id)
    socketio.emit("snapshot", snap, to=request.sid, namespace=NAMESPACE)


class Presence:
    """Devices with an open socket in this process; their last_seen_at is refreshed every
    minute, so a display that is connected but idle is never reported offline. Sockets opened
    with a token are cut when the token is revoked or replaced, and staff pages' sockets when
    their session ends (sign-out, deactivation, a new password or role: motcua.sessions): at
    once in the process where it happened (cut_revoked),
    within TOKEN_CHECK_S in every other."""

    INTERVAL_S = 60
    TOKEN_CHECK_S = 10
    TOUCH_S = 1.0  # devices that connected are marked seen together, one write per TOUCH_S

    def __init__(self, socketio: SocketIO, db: Database) -> None:
        self.socketio, self.db = socketio, db
        self.connected: dict[str, int] = {}
        self.touched: set[int] = set()  # devices connected since the last write
        self.tokens: dict[str, str] = {}  # sid -> digest of the token the socket opened with
        self.users: dict[str, tuple[int, int | None]] = {}  # sid -> (user, session version) of a staff page's socket

    def cut_revoked(self) -> int:
        """Disconnect this process's sockets whose token or user no longer opens the door."""
        from motcua.auth import live_sessions, live_token_digests

        tokens, users = dict(self.tokens), dict(self.users)
        if not tokens and not users:
            return 0
        with self.db.read() as s:
            live = live_token_digests(s, sorted(set(tokens.values())))
            active = live_sessions(s, list(set(users.values())))
        cut = [sid for sid, digest in tokens.items() if digest not in live]
        cut += [sid for sid, signed_in in users.items() if signed_in not in active]
        for sid in cut:
            self.tokens.pop(sid, None)
            self.users.pop(sid, None)
            self.socketio.server.disconnect(sid, namespace=NAMESPACE)
        return len(cut)

    def guard(self) -> None:
        while not self.db.disposed:  # an app torn down (tests make many) leaves no loop behind
            self.socketio.sleep(self.TOKEN_CHECK_S)
            try:
                self.cut_revoked()
            except Exception:
                log.warning("could not check the sockets' tokens", exc_info=True)

    def run(self) -> None:
        while not self.db.disposed:
            self.socketio.sleep(self.INTERVAL_S)
            self._mark_seen(set(self.connected.values()))

    def touch_connected(self) -> None:
        """A write per connecting display queued a thousand writers behind kiosks and clerks
        when every display reconnected at once: the devices that connected are marked seen
        together instead, within TOUCH_S."""
        while not self.db.disposed:
            self.socketio.sleep(self.TOUCH_S)
            if self.touched:
                ids, self.touched = self.touched, set()
                self._mark_seen(ids)

    def _mark_seen(self, ids: set[int]) -> None:
        if not ids:
            return
        try:
            with self.db.write() as s:
                mark_seen(s, *ids)
        except Exception:
            log.warning("could not refresh device presence", exc_info=True)


CONNECTS_AT_ONCE = 32


def _admitted(handler):
    """At most CONNECTS_AT_ONCE sockets of this process go through their connect handler at a
    time; the others wait parked. After a restart a thousand displays connect within a second:
    each connect waits on the database a few times, and under gevent every such wait sent it,
    and a kiosk's request with it, to the back of a queue of a thousand ready greenlets, so a
    ticket waited seconds. Parked, they leave requests a short queue; they still all get their
    snapshot within seconds (bench/reconnect_storm.py)."""
    gate = threading.BoundedSemaphore(CONNECTS_AT_ONCE)

    def admitted(auth=None):
        with gate:
            return handler(auth)

    return admitted


def _register_handlers(socketio: SocketIO, presence: Presence) -> None:
    @socketio.on("connect", namespace=NAMESPACE)
    @_admitted
    def _connect(auth=None):
        p, counter_number = _principal_for_socket(auth)
        if p is None:
            return False  # refuses the connection
        office_id = _office_for_socket(p, auth)
        if office_id is None:
            return False
        join_room(office_room(office_id))
        if counter_number is None and isinstance(auth, dict) and auth.get("counter") and p.via != "ticket":
            counter_number = int(auth["counter"])
        if counter_number is not None:
            join_room(counter_room(office_id, counter_number))
        from flask import session as flask_session

        flask_session["socket_office"] = office_id
        if p.device_id is not None:
            presence.touched.add(p.device_id)
            presence.connected[request.sid] = p.device_id
        if p.via == "token":
            from motcua.security import token_hash

            presence.tokens[request.sid] = token_hash(_socket_token(auth))
        elif p.via == "session":
            from motcua.sessions import SESSION_KEY

            presence.users[request.sid] = (p.user_id, flask_session.get(SESSION_KEY))
        send_snapshot(socketio, office_id)

    @socketio.on("disconnect", namespace=NAMESPACE)
    def _disconnect(*_args):
        presence.connected.pop(request.sid, None)
        presence.tokens.pop(request.sid, None)
        presence.users.pop(request.sid, None)

    @socketio.on("snapshot", namespace=NAMESPACE)
    def _snapshot(_data=None):
        from flask import session as flask_session

        office_id = flask_session.get("socket_office")
        if office_id is not None:
            send_snapshot(socketio, office_id)


def cut_revoked(app: Flask) -> int:
    """After a token was revoked or replaced, or a user's session ended: close the sockets they
    opened in this process."""
    presence = app.extensions.get("motcua.presence")
    return presence.cut_revoked() if presence is not None else 0


def get_socketio(app: Flask) -> SocketIO:
    return app.extensions["motcua.socketio"]


def init_app(app: Flask, db: Database, *, redis_url: str | None = None) -> SocketIO:
    """One SocketIO per app, so tests can run several apps in one process."""
    # A sign-out ends the session's version (motcua.sessions): its open pages lose their sockets.
    user_logged_out.connect(lambda sender, **_: cut_revoked(sender), app, weak=False)
    async_mode = os.environ.get("MOTCUA_ASYNC_MODE") or _detect_async_mode()
    socketio = SocketIO(
        app,
        async_mode=async_mode,
        message_queue=redis_url,
        channel=f"motcua-{db.deployment}",  # two deployments on one Redis never see each other's calls
        cors_allowed_origins=[],  # same origin only
        ping_interval=10,
        ping_timeout=10,
        logger=False,
        engineio_logger=False,
    )
    if async_mode == "gevent":
        from motcua import writer_queue

        writer_queue.install(socketio.server.eio)
    presence = Presence(socketio, db)
    _register_handlers(socketio, presence)
    socketio.start_background_task(presence.run)
    socketio.start_background_task(presence.guard)
    socketio.start_background_task(presence.touch_connected)
    dispatcher = Dispatcher(socketio)
    db.subscribe(dispatcher)
    socketio.start_background_task(dispatcher.run)
    app.extensions["motcua.socketio"] = socketio
    app.extensions["motcua.dispatcher"] = dispatcher
    app.extensions["motcua.presence"] = presence
    app.extensions["motcua.snapshots"] = SnapshotCache(db)
    return socketio


def _detect_async_mode() -> str:
    """gevent when gunicorn's gevent worker patched the process, threads otherwise."""
    from motcua.production import gevent_patched

    return "gevent" if gevent_patched() else "threading"
