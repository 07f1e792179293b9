"""A Web Push service on 127.0.0.1 for tests: what FCM or Mozilla's autopush do for a browser.

`PushService.subscribe()` plays the browser's part of `pushManager.subscribe`: it makes the
ECDH P-256 key pair and the 16-byte auth secret a browser would, and returns the subscription
(`PushSubscription.toJSON()`) whose endpoint is a path on this service. A POST to that path
must carry a VAPID `Authorization: vapid t=<JWT>, k=<public key>` whose ES256 signature checks
out against `k` (and `k` must be the key the subscription was made with, when given) with this
service as audience; the aes128gcm body is then decrypted with the subscription's private key
and auth secret (RFC 8291), and the message, its headers and plaintext are recorded.
`answer(subscription, status)` makes the service refuse that subscription's messages
(410 Gone, 429, 503...).
"""

from __future__ import annotations

import base64
import json
import os
import queue
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import http_ece
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class BrowserKeys:
    """What a browser keeps for one subscription; only it can read the messages."""

    path: str
    private_key: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    auth: bytes = field(default_factory=lambda: os.urandom(16))
    server_key: str | None = None  # the applicationServerKey it was made with

    def p256dh(self) -> str:
        return b64url(self.private_key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint))


@dataclass
class Received:
    path: str
    status: int  # what the service answered
    headers: dict[str, str]
    claims: dict | None  # the VAPID JWT's claims, when its signature was good
    vapid_key: str | None
    message: dict | None  # the decrypted JSON, when it was answered 201


class PushService:
    def __init__(self) -> None:
        self.subscriptions: dict[str, BrowserKeys] = {}
        self.answers: dict[str, int] = {}
        self.received: list[Received] = []
        self.delivered: queue.Queue[Received] = queue.Queue()
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.server.daemon_threads = True
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def subscribe(self, server_key: str | None = None) -> dict:
        """A new subscription as the browser's `toJSON()` gives it."""
        keys = BrowserKeys(path=f"/wpush/v2/{secrets.token_urlsafe(24)}", server_key=server_key)
        with self.lock:
            self.subscriptions[keys.path] = keys
        return {"endpoint": self.origin + keys.path, "expirationTime": None, "keys": {"p256dh": keys.p256dh(), "auth": b64url(keys.auth)}}

    def answer(self, subscription: dict, status: int) -> None:
        self.answers[subscription["endpoint"].removeprefix(self.origin)] = status

    def wait(self, timeout: float = 10) -> Received:
        """The next message this service accepted (201)."""
        return self.delivered.get(timeout=timeout)

    def messages_for(self, subscription: dict) -> list[dict]:
        path = subscription["endpoint"].removeprefix(self.origin)
        with self.lock:
            return [r.message for r in self.received if r.path == path and r.message is not None]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # ---- what the service checks ----

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> Received:
        keys = self.subscriptions.get(path)
        claims, vapid_key = self._vapid(headers.get("authorization", ""))
        status, message = 201, None
        if keys is None:
            status = 404
        elif claims is None or (keys.server_key is not None and vapid_key != keys.server_key):
            status = 401 if claims is None else 403  # as FCM: no valid JWT, or not the key it subscribed with
        elif path in self.answers:
            status = self.answers[path]
        elif headers.get("content-encoding") != "aes128gcm" or "ttl" not in headers:
            status = 400
        else:
            plain = http_ece.decrypt(body, private_key=keys.private_key, auth_secret=keys.auth, version="aes128gcm")
            message = json.loads(plain.decode("utf-8"))
        got = Received(path, status, headers, claims, vapid_key, message)
        with self.lock:
            self.received.append(got)
        if message is not None:
            self.delivered.put(got)
        return got

    def _vapid(self, authorization: str) -> tuple[dict | None, str | None]:
        """RFC 8292: `vapid t=<JWT signed ES256>, k=<the signer's public key>`."""
        if not authorization.lower().startswith("vapid "):
            return None, None
        params = dict(part.strip().split("=", 1) for part in authorization[6:].split(",") if "=" in part)
        token, key = params.get("t", ""), params.get("k", "")
        try:
            head, body, sig = token.split(".")
            public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(key))
            raw = unb64url(sig)
            der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
            public.verify(der, f"{head}.{body}".encode(), ec.ECDSA(hashes.SHA256()))
            header, claims = json.loads(unb64url(head)), json.loads(unb64url(body))
        except (ValueError, InvalidSignature):
            return None, key or None
        good = header.get("alg") == "ES256" and claims.get("aud") == self.origin and claims.get("exp", 0) > time.time() and claims.get("sub")
        return (claims if good else None), key


def _handler(service: PushService) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            got = service.handle(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
            self.send_response(got.status)
            if got.status == 201:
                self.send_header("Location", f"{service.origin}/m/{len(service.received)}")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    return Handler
