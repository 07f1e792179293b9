"""An example SMS/Zalo gateway adapter: receives motcua's webhook and prints the message it would send.

    python -m motcua.gateways.example --port 8765 --secret "the notifier's secret"

and in config.toml:

    [[offices.notifiers]]
    kind = "webhook"
    url = "http://127.0.0.1:8765/"
    secret = "the notifier's secret"

What it does, and what an adapter for a real provider must keep doing:

1. Check `X-Motcua-Signature` (sha256=<hex HMAC-SHA256 of the raw body with the secret>) against
   the raw bytes received, before parsing them; answer 401 when it does not match.
2. De-duplicate by `X-Motcua-Delivery`: motcua retries a delivery whose answer it did not get,
   so the same id may arrive twice. Answer 200 again for an id already handled, without sending.
   (This example remembers ids in memory; a real adapter keeps them a day, in its own store.)
3. Answer 2xx once the provider took the message; 5xx (or 429) when the provider is down: motcua
   tries again later (10 s, 30 s, 2 min, 10 min); any other 4xx means "never send this one".

To adapt it, replace `send()` with the provider's API call: an SMS brand-name API posts `phone`
and `text`; Zalo ZNS posts `phone`, a template id the provider approved and the template's
parameters (the ticket's code, counter, people ahead) instead of free text. Never log the phone.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_BODY = 64 * 1024


def message(body: dict) -> str:
    """The text an SMS would carry, in Vietnamese."""
    t = body.get("ticket") or {}
    code, counter = t.get("code", "?"), t.get("counter")
    event = body.get("event")
    if event == "near":
        return f"Số {code} sắp đến lượt: còn {body.get('ahead', 0)} người trước bạn. Vui lòng có mặt tại {t.get('service', 'quầy')}."
    if event == "called":
        return f"Mời công dân số {code} đến quầy số {counter}." if counter else f"Mời công dân số {code} đến quầy."
    if event == "booked":
        return f"Đã đặt lịch hẹn {code} lúc {body.get('slot', '')}."
    if event == "reminder":
        return f"Nhắc lịch hẹn {code} lúc {body.get('slot', '')}. Vui lòng đến đúng giờ."
    return f"Thông báo về số {code}."


def masked(phone: str) -> str:
    return f"{phone[:2]}xx xxx {phone[-3:]}" if len(phone) >= 5 else "xx"


def send(phone: str, text: str) -> None:
    """Where a real adapter calls its provider; this one prints (the phone masked)."""
    print(f"SMS → {masked(phone)}: {text}", flush=True)


def make_handler(secret: str) -> type[BaseHTTPRequestHandler]:
    seen: set[str] = set()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                return self._answer(413, "too large")
            raw = self.rfile.read(length)
            expected = "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
            if not hmac.compare_digest(expected, self.headers.get("X-Motcua-Signature", "")):
                return self._answer(401, "bad signature")
            delivery = self.headers.get("X-Motcua-Delivery", "")
            with lock:
                if delivery and delivery in seen:
                    return self._answer(200, "duplicate")
                seen.add(delivery)
            try:
                body = json.loads(raw)
                send(str(body["phone"]), message(body))
            except (ValueError, KeyError, TypeError):
                with lock:
                    seen.discard(delivery)
                return self._answer(400, "bad body")
            return self._answer(200, "sent")

        def _answer(self, status: int, text: str) -> None:
            data = text.encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            pass  # the request line carries nothing useful, and a real gateway's log must not carry phones

    return Handler


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Example motcua SMS/Zalo gateway: prints what it would send.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--secret", required=True, help="the notifier's secret in config.toml")
    args = parser.parse_args(argv)
    server = ThreadingHTTPServer((args.host, args.port), make_handler(args.secret))
    print(f"gateway listening on http://{args.host}:{server.server_port}/", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
