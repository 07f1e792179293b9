"""A TCP proxy in front of a real service (PostgreSQL, Redis) that a test makes fail the ways a
network does, while the service itself keeps running:

- `stall()`: every connection, open or new, stays open and nothing passes either way (packets
  held on a cut link that sends no reset): the peer's reads wait and its writes are swallowed
  until the kernel's buffers fill. `resume()` lets everything through again, held bytes first.
- `reset()`: every open connection is reset (RST), as by a restarted router; new ones pass.
- `drop()`: every open connection is closed and new ones are reset at once, until `resume()`.

    with TcpProxy(("127.0.0.1", 5432)) as proxy:
        url = f"postgresql://postgres@127.0.0.1:{proxy.port}/db"
"""

from __future__ import annotations

import selectors
import socket
import struct
import threading

PASS, STALL, DROP = "pass", "stall", "drop"
_LINGER_RST = struct.pack("ii", 1, 0)  # close() then sends RST instead of FIN


def _abort(sock: socket.socket) -> None:
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RST)
    except OSError:
        pass
    sock.close()


class TcpProxy:
    def __init__(self, upstream: tuple[str, int], host: str = "127.0.0.1", port: int = 0) -> None:
        self.upstream = upstream
        self._listener = socket.create_server((host, port), reuse_port=False)
        self.host, self.port = self._listener.getsockname()[:2]
        self._mode = PASS
        self._changed = threading.Condition()
        self._pairs: set[_Pair] = set()
        self._closed = False
        self.accepted = 0
        threading.Thread(target=self._accept, name=f"proxy-{self.port}", daemon=True).start()

    # ---- what a test does ---------------------------------------------------------------

    @property
    def mode(self) -> str:
        return self._mode

    def stall(self) -> None:
        self._set(STALL)

    def resume(self) -> None:
        self._set(PASS)

    def drop(self) -> None:
        self._set(DROP)
        for pair in self._take_pairs():
            pair.close(reset=False)

    def reset(self) -> None:
        for pair in self._take_pairs():
            pair.close(reset=True)

    def open_connections(self) -> int:
        with self._changed:
            return len(self._pairs)

    def close(self) -> None:
        self._closed = True
        self._set(PASS)
        self._listener.close()
        for pair in self._take_pairs():
            pair.close(reset=True)

    def __enter__(self) -> TcpProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- the proxying -------------------------------------------------------------------

    def _set(self, mode: str) -> None:
        with self._changed:
            self._mode = mode
            self._changed.notify_all()

    def _take_pairs(self) -> list[_Pair]:
        with self._changed:
            pairs, self._pairs = list(self._pairs), set()
        return pairs

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            self.accepted += 1
            if self._mode == DROP:
                _abort(client)
                continue
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def wait_passing(self, pair: _Pair | None = None) -> bool:
        """Block while stalled; False once the connection must end (dropped, reset, closed)."""
        with self._changed:
            while self._mode == STALL and not self._closed and (pair is None or not pair.closed):
                self._changed.wait(0.5)
            return self._mode == PASS and not self._closed and (pair is None or not pair.closed)

    def _serve(self, client: socket.socket) -> None:
        if not self.wait_passing():  # a connection made during a stall waits with it
            _abort(client)
            return
        try:
            server = socket.create_connection(self.upstream, timeout=5)
        except OSError:
            _abort(client)
            return
        pair = _Pair(client, server)
        with self._changed:
            self._pairs.add(pair)
        pair.pump(self)
        with self._changed:
            self._pairs.discard(pair)


class _Pair:
    def __init__(self, client: socket.socket, server: socket.socket) -> None:
        self.client, self.server = client, server
        self.closed = False
        self._lock = threading.Lock()

    def pump(self, proxy: TcpProxy) -> None:
        peers = {self.client: self.server, self.server: self.client}
        with selectors.DefaultSelector() as sel:
            for s in peers:
                s.setblocking(True)
                sel.register(s, selectors.EVENT_READ)
            while not self.closed:
                if proxy.mode == STALL and not proxy.wait_passing(self):
                    break
                try:
                    ready = sel.select(timeout=0.2)
                except (OSError, ValueError):
                    break
                for key, _ in ready:
                    if proxy.mode == STALL:
                        break  # hold what arrived: the next loop waits for resume()
                    try:
                        data = key.fileobj.recv(65536)
                        if not data:
                            raise ConnectionError
                        peers[key.fileobj].sendall(data)
                    except OSError:
                        self.close(reset=False)
                        break
        self.close(reset=False)

    def close(self, reset: bool) -> None:
        with self._lock:
            if self.closed:
                return
            self.closed = True
        for s in (self.client, self.server):
            if reset:
                _abort(s)
            else:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()
