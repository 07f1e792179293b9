"""`python -m display.agent --server URL --token TOKEN [--counter N] --driver stdout|serial`."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import time

import requests

from display.agent.client import DisplayAgent, TokenRefused
from display.agent.drivers import SerialDriver, StdoutDriver


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m display.agent",
        description="Giữ bảng LED / màn hình không trình duyệt khớp với máy chủ motcua. "
        "Keeps an LED board or a browserless box in step with a motcua server.",
    )
    p.add_argument("--server", required=True, help="e.g. http://192.168.1.10:8000")
    p.add_argument("--token", required=True, help="display or counter-display device token (dev_…)")
    p.add_argument("--counter", type=int, help="show one counter (a board above that counter)")
    p.add_argument("--driver", choices=("stdout", "serial"), default="stdout")
    p.add_argument("--port", default="/dev/ttyUSB0", help="serial port or pyserial URL (serial driver)")
    p.add_argument("--baud", type=int, default=9600, help="serial speed (serial driver)")
    p.add_argument("--width", type=int, help="characters per line (default: stdout 32, serial 20)")
    p.add_argument("--lines", type=int, help="lines on the board (default: stdout 4, serial 2)")
    p.add_argument("--grace", type=float, default=3.0, help="seconds of disconnection before MAT KET NOI")
    p.add_argument("--play", help='play each announcement with this command, e.g. "aplay -q {file}"')
    p.add_argument("-v", "--verbose", action="store_true")
    return p.parse_args(argv)


def make_driver(args: argparse.Namespace):
    if args.driver == "serial":
        return SerialDriver(args.port, args.baud, width=args.width or 20, height=args.lines or 2)
    return StdoutDriver(width=args.width or 32, height=args.lines or 4)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        driver = make_driver(args)
    except Exception as exc:
        print(f"Không mở được bảng / cannot open the board ({args.driver} {args.port}): {exc}", file=sys.stderr)
        return 3
    agent = DisplayAgent(args.server, args.token, driver, counter=args.counter, grace=args.grace, play=args.play)
    try:
        # A wrong token is a setup error: say so and stop, instead of retrying for ever.
        while True:
            try:
                agent.check_token()
                break
            except TokenRefused as exc:
                print(f"Mã thiết bị không hợp lệ hoặc đã bị thu hồi / the device token was refused: {exc}", file=sys.stderr)
                driver.show(["MÃ THIẾT BỊ SAI", "TOKEN REFUSED"])
                driver.close()
                return 2
            except requests.RequestException as exc:
                logging.getLogger("display.agent").warning("server unreachable (%s); retrying", exc)
                driver.show(["MẤT KẾT NỐI"])
                time.sleep(3)
        signal.signal(signal.SIGTERM, lambda *_: agent.stop())
        agent.run()
        if agent.refused:
            # Revoked or replaced while running: a supervisor must not restart it in a loop
            # unnoticed; the board already says so.
            print(f"Mã thiết bị đã bị thu hồi hoặc thay / the device token was revoked or replaced: {agent.refused}", file=sys.stderr)
            agent.stop()
            return 2
    except KeyboardInterrupt:
        agent.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
