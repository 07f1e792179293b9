"""Displays that connect together share their office's snapshot: it is built once per office
and sequence number (motcua.realtime.SnapshotCache), so a restart that reconnects every display
of the province does not build a thousand identical snapshots while kiosks and clerks wait."""

from __future__ import annotations

from motcua.realtime import NAMESPACE, get_socketio
from tests.support.realtime import comparable


def snapshots_of(client) -> list[dict]:
    return [m["args"][0] for m in client.get_received(NAMESPACE) if m["name"] == "snapshot"]


def test_displays_of_one_office_share_a_snapshot_per_sequence_number(app, demo) -> None:
    socketio, cache = get_socketio(app), app.extensions["motcua.snapshots"]
    hall = demo.devices["Màn hình sảnh"]
    http = app.test_client()
    displays = [socketio.test_client(app, namespace=NAMESPACE, auth={"token": hall}) for _ in range(10)]
    first = [snapshots_of(d) for d in displays]
    assert all(len(s) == 1 for s in first)
    assert all(s[0] == first[0][0] for s in first)  # the very same snapshot
    assert cache.built == 1

    r = http.post("/api/v1/tickets", json={"service": "HT"}, headers=demo.kiosk)
    assert r.status_code == 201
    late = socketio.test_client(app, namespace=NAMESPACE, auth={"token": hall})
    (snap,) = snapshots_of(late)
    assert snap["seq"] == first[0][0]["seq"] + 1  # a new sequence number: built anew, never a stale one
    assert cache.built == 2
    queue = http.get("/api/v1/queue", headers=demo.device_headers("Màn hình sảnh")).json
    assert comparable(snap) == comparable(queue)

    displays[0].emit("snapshot", namespace=NAMESPACE)  # a display that saw a gap asks again: shared too
    (again,) = snapshots_of(displays[0])
    assert again == snap and cache.built == 2
    for d in [*displays, late]:
        d.disconnect(namespace=NAMESPACE)
