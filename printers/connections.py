"""Printer connections: build python-escpos printer objects and send raw jobs.

Every send is bounded by ``PrinterSpec.timeout``. Exceptions tell the spooler whether
paper may have moved:

- ``PrinterUnavailable``: nothing was sent (cannot connect / open). Safe to retry.
- ``PrintTimeout`` / ``JobInterrupted``: some bytes may have reached the printer, so a
  retry can print a second, partial or stale ticket. The spooler decides.
- ``PrinterOffline``: the whole job reached the printer, which then reported itself
  offline (paper out, cover open): the ticket sits in its buffer and prints when the
  printer recovers, possibly long after the citizen left.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal, TypeVar, get_args

from printers import layout, raster
from printers.encode import profile_for
from printers.quiet import quiet  # before escpos: undoes its import-time logging setup

# isort: split
from escpos.constants import RT_STATUS_ONLINE
from escpos.escpos import Escpos
from escpos.exceptions import DeviceNotFoundError
from escpos.printer import LP, CupsPrinter, Dummy, File, Network, Serial, Usb
from escpos.printer import cups as escpos_cups
from escpos.printer import serial as escpos_serial
from escpos.printer import usb as escpos_usb

Connection = Literal["network", "usb", "serial", "file", "cups", "lp", "preview"]
CONNECTIONS: tuple[str, ...] = get_args(Connection)
T = TypeVar("T")


class PrintError(Exception):
    """A job could not be delivered."""


class PrinterUnavailable(PrintError):
    """Could not connect to or open the printer; nothing was sent."""


class PrintTimeout(PrintError, TimeoutError):
    """The printer stopped taking data or answering within the timeout."""


class JobInterrupted(PrintError):
    """The connection broke (or the printer went silent) during the job."""


class PrinterOffline(PrintError):
    """The job was delivered but the printer reports offline right after it."""


@dataclass
class PrinterSpec:
    """One configured printer.

    ``target`` by connection: network "host[:port]" (port 9100 by default, IPv6 as
    "[addr]:port"); usb "VID:PID" in hex, optionally ":IN_EP:OUT_EP" (python-escpos
    assumes 0x82/0x01); serial "device@baud", e.g. "/dev/ttyUSB0@115200" (9600 when
    omitted; a raster ticket needs tens of seconds at 9600, so set the printer to
    115200); file: a path or device node (/dev/usb/lp0); cups/lp: the queue name;
    preview: a folder that receives one PNG per job.

    ``confirm``: after a network, USB or serial job, ask the printer for its status
    (DLE EOT 1) so that a connection that died mid-job is noticed. Turn it off only
    for printers that never answer status queries.
    """

    name: str
    connection: Connection
    target: str
    profile: str = "default"
    width_dots: int = 576
    native_qr: bool = False
    timeout: float = 4.0
    confirm: bool = True

    def __post_init__(self) -> None:
        if self.connection not in CONNECTIONS:
            raise ValueError(f"connection must be one of {', '.join(CONNECTIONS)}, got {self.connection!r}")
        if not self.target.strip():
            raise ValueError(f"printer {self.name!r}: empty target")
        if not self.timeout > 0:
            raise ValueError(f"printer {self.name!r}: timeout must be positive")
        layout.check_width(self.width_dots)
        profile_for(self.profile, self.width_dots)  # unknown or too narrow: fail at config time
        if self.connection == "network":
            network_address(self.target)
        elif self.connection == "usb":
            usb_ids(self.target)
        elif self.connection == "serial":
            serial_port(self.target)


def network_address(target: str) -> tuple[str, int]:
    m = re.fullmatch(r"\[(?P<v6>[^\]]+)\](?::(?P<p6>\d+))?|(?P<host>[^:\s]+)(?::(?P<port>\d+))?", target.strip())
    if not m:
        raise ValueError(f"network target must be host[:port], got {target!r}")
    host = m["v6"] or m["host"]
    port = int(m["p6"] or m["port"] or 9100)
    if not 0 < port < 65536:
        raise ValueError(f"bad TCP port in {target!r}")
    return host, port


def usb_ids(target: str) -> tuple[int, int, int | None, int | None]:
    """(vendor, product, in_ep, out_ep) from "04b8:0e15" or "0x04b8:0x0e15:81:03"."""
    parts = target.strip().split(":")
    if len(parts) not in (2, 4):
        raise ValueError(f"usb target must be VID:PID or VID:PID:IN_EP:OUT_EP in hex, got {target!r}")
    try:
        nums = [int(p, 16) for p in parts]
    except ValueError:
        raise ValueError(f"usb target must be hexadecimal, got {target!r}") from None
    return nums[0], nums[1], (nums[2] if len(nums) == 4 else None), (nums[3] if len(nums) == 4 else None)


def serial_port(target: str) -> tuple[str, int]:
    m = re.fullmatch(r"(?P<dev>.+?)(?:@(?P<baud>\d+))?", target.strip())
    if not m or not m["dev"]:
        raise ValueError(f"serial target must be device@baud, got {target!r}")
    return m["dev"], int(m["baud"] or 9600)


def open_connection(spec: PrinterSpec, *, job_name: str = "motcua") -> Escpos:
    """An opened python-escpos printer for ``spec`` (a Dummy for previews).

    Raises PrinterUnavailable with a reason a person can act on.
    """
    profile = profile_for(spec.profile, spec.width_dots)
    printer: Escpos
    with quiet():
        try:
            if spec.connection == "network":
                host, port = network_address(spec.target)
                # escpos' own default timeout is 60 s
                printer = Network(host, port, timeout=spec.timeout, profile=profile)
                printer.open()
            elif spec.connection == "usb":
                if not escpos_usb.is_usable():
                    raise PrinterUnavailable("usb printers need pyusb (pip install python-escpos[usb])")
                vid, pid, in_ep, out_ep = usb_ids(spec.target)
                eps = {k: v for k, v in (("in_ep", in_ep), ("out_ep", out_ep)) if v is not None}
                # pyusb timeouts are in milliseconds; escpos' default 0 waits forever.
                printer = Usb(vid, pid, timeout=int(spec.timeout * 1000), profile=profile, **eps)
                printer.open()
                printer.device.default_timeout = int(spec.timeout * 1000)  # reads (status)
            elif spec.connection == "serial":
                if not escpos_serial.is_usable():
                    raise PrinterUnavailable("serial printers need pyserial (pip install python-escpos[serial])")
                dev, baud = serial_port(spec.target)
                printer = Serial(dev, baudrate=baud, timeout=spec.timeout, profile=profile)
                printer.open()
            elif spec.connection == "file":
                printer = File(spec.target, profile=profile)
                printer.open()
            elif spec.connection == "cups":
                if not escpos_cups.is_usable():
                    raise PrinterUnavailable(
                        f"printer {spec.name!r}: the 'cups' connection needs pycups, which is not "
                        "installed (pip install pycups; it builds against libcups2-dev). "
                        "The 'lp' connection needs only the lp command."
                    )
                printer = CupsPrinter(spec.target, profile=profile)
                printer.open(job_name=job_name)
            elif spec.connection == "lp":
                _require_lp()
                printer = LP(spec.target, profile=profile)
                printer.open(job_name=job_name)
            else:
                printer = Dummy(profile=profile)
        except DeviceNotFoundError as exc:
            raise PrinterUnavailable(f"printer {spec.name!r} ({spec.connection} {spec.target}): {exc}") from exc
        except (OSError, RuntimeError, ValueError) as exc:  # pyusb (NoBackendError is a ValueError), pyserial, lpstat
            raise PrinterUnavailable(f"printer {spec.name!r} ({spec.connection} {spec.target}): {exc}") from exc
    return printer


def close_quietly(printer: Escpos) -> None:
    """Close, ignoring errors: a broken connection must not mask the job's own error."""
    with quiet(), contextlib.suppress(Exception):
        printer.close()


def _require_lp() -> str:
    path = shutil.which("lp")
    if path is None:
        raise PrinterUnavailable("the lp command is not installed (Debian: apt install cups-client)")
    return path


def send(spec: PrinterSpec, data: bytes, *, name: str | None = None) -> Path | None:
    """Deliver ``data`` to the printer within ``spec.timeout`` and close.

    ``name`` names the job (CUPS title, preview file). Returns the written PNG for
    preview connections, None otherwise.
    """
    if spec.connection == "preview":
        return _send_preview(spec, data, name)
    if spec.connection == "network":
        _send_network(spec, data)
    elif spec.connection == "lp":
        _send_lp(spec, data, name)
    elif spec.connection == "serial":
        off_the_hub(lambda: _send_serial(spec, data))
    elif spec.connection == "usb":
        off_the_hub(lambda: _send_usb(spec, data))
    else:  # file, cups: blocking calls without a timeout of their own
        run_with_deadline(lambda: _send_plain(spec, data, name), spec.timeout, f"{spec.connection} {spec.target}")
    return None


def _send_network(spec: PrinterSpec, data: bytes) -> None:
    deadline = time.monotonic() + spec.timeout
    printer = open_connection(spec)
    sock: socket.socket = printer.device  # type: ignore[assignment]
    try:
        sock.settimeout(_remaining(deadline))
        sock.sendall(data)
        if spec.confirm:
            sock.settimeout(_remaining(deadline))
            sock.sendall(RT_STATUS_ONLINE)
            reply = sock.recv(1)
            if not reply:
                raise JobInterrupted(f"printer {spec.name!r} closed the connection during the job")
            _drain(sock)
            _check_after_job(spec, reply)
        else:
            _drain(sock)
    except TimeoutError as exc:
        raise PrintTimeout(f"printer {spec.name!r} did not take the job within {spec.timeout:g} s") from exc
    except OSError as exc:  # reset, broken pipe
        raise JobInterrupted(f"printer {spec.name!r}: connection lost during the job: {exc}") from exc
    finally:
        close_quietly(printer)


def _check_after_job(spec: PrinterSpec, reply: bytes) -> None:
    from printers.status import parse_printer_status  # status imports this module

    try:
        online = parse_printer_status(reply[0])
    except ValueError:
        return  # an answer all the same: the connection carried the whole job
    if not online:
        raise PrinterOffline(
            f"printer {spec.name!r} took the job but reports offline (paper out or cover open?); "
            "it prints when the printer recovers"
        )


def _drain(sock: socket.socket) -> None:
    """Read what the printer sent unasked (status back, late replies): closing a socket
    with unread input sends a TCP reset, and a reset can make the printer drop the end
    of the job still in its buffer."""
    sock.setblocking(False)
    with contextlib.suppress(OSError):  # nothing more to read, or already gone: job is done
        while sock.recv(4096):
            pass


def _send_serial(spec: PrinterSpec, data: bytes) -> None:
    import serial  # pyserial; present when the serial driver is usable

    _, baud = serial_port(spec.target)
    printer = open_connection(spec)
    port = printer.device
    try:
        # 10 bits per byte on the wire: at 9600 baud a 40 KB ticket takes ~42 s.
        port.write_timeout = spec.timeout + len(data) * 10 / baud
        port.write(data)
        if spec.confirm:
            port.timeout = spec.timeout
            port.reset_input_buffer()
            port.write(RT_STATUS_ONLINE)
            # read(1), not escpos' _read(): read(16) always waits out the timeout.
            reply = port.read(1)
            if not reply:
                raise JobInterrupted(f"printer {spec.name!r} did not answer after the job (off or unplugged?)")
            _check_after_job(spec, reply)
    except serial.SerialTimeoutException as exc:
        raise PrintTimeout(f"printer {spec.name!r}: serial write timed out") from exc
    except serial.SerialException as exc:
        raise JobInterrupted(f"printer {spec.name!r}: {exc}") from exc
    finally:
        close_quietly(printer)


def _send_usb(spec: PrinterSpec, data: bytes) -> None:
    import usb.core  # pyusb; present when the usb driver is usable

    printer = open_connection(spec)
    try:
        printer._raw(data)
        if spec.confirm:
            printer._raw(RT_STATUS_ONLINE)
            reply = bytes(printer._read())
            if not reply:
                raise JobInterrupted(f"printer {spec.name!r} did not answer after the job")
            _check_after_job(spec, reply)
    except usb.core.USBTimeoutError as exc:
        raise PrintTimeout(f"printer {spec.name!r}: USB transfer timed out") from exc
    except usb.core.USBError as exc:
        raise JobInterrupted(f"printer {spec.name!r}: {exc}") from exc
    finally:
        close_quietly(printer)


def _send_plain(spec: PrinterSpec, data: bytes, name: str | None) -> None:
    printer = open_connection(spec, job_name=name or "motcua")
    try:
        with quiet():
            printer._raw(data)
    except OSError as exc:
        raise JobInterrupted(f"printer {spec.name!r}: {exc}") from exc
    finally:
        close_quietly(printer)  # CupsPrinter submits the job here


def _send_lp(spec: PrinterSpec, data: bytes, name: str | None) -> None:
    # Not escpos' LP: it waits on lp without a timeout and ignores its exit status.
    cmd = [_require_lp(), "-d", spec.target, "-o", "raw", "-t", name or "motcua"]
    try:
        done = subprocess.run(cmd, input=data, capture_output=True, timeout=spec.timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        raise PrintTimeout(f"printer {spec.name!r}: lp did not finish within {spec.timeout:g} s") from exc
    if done.returncode != 0:
        reason = done.stderr.decode(errors="replace").strip() or f"exit status {done.returncode}"
        raise PrinterUnavailable(f"printer {spec.name!r}: lp: {reason}")


def safe_name(name: str) -> str:
    """A file name from a job or ticket name: ASCII letters, digits, dot, dash, underscore."""
    ascii_name = unicodedata.normalize("NFKD", name.replace("đ", "d").replace("Đ", "D"))
    ascii_name = ascii_name.encode("ascii", "ignore").decode()
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", ascii_name).strip("._")
    return cleaned[:100] or "job"


def _send_preview(spec: PrinterSpec, data: bytes, name: str | None) -> Path:
    try:
        img = raster.decode(data, width=spec.width_dots)
    except ValueError as exc:
        raise PrintError(f"preview {spec.name!r}: {exc}") from exc
    folder = Path(spec.target)
    folder.mkdir(parents=True, exist_ok=True)
    stem = safe_name(name or f"{spec.name}-{datetime.now():%Y%m%d-%H%M%S-%f}")
    path = folder / f"{stem}.png"
    # Write then rename: a viewer polling the folder never sees half a PNG.
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{stem}.", suffix=".png")
    try:
        with os.fdopen(fd, "wb") as fh:
            img.save(fh, format="PNG", optimize=False)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _remaining(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("deadline passed")
    return left


def _gevent_pool():  # noqa: ANN202
    """gevent's pool of native threads when gevent has patched this process (`--prod`), else None."""
    from motcua.production import gevent_patched

    if not gevent_patched():
        return None
    import gevent

    return gevent.get_hub().threadpool


def off_the_hub(fn: Callable[[], T]) -> T:
    """Run device I/O that waits in the kernel (USB, serial): under gevent a greenlet doing it
    would stop the whole process, so a native thread of gevent's pool does it there."""
    pool = _gevent_pool()
    return pool.apply(fn) if pool is not None else fn()


def run_with_deadline(fn: Callable[[], T], timeout: float, what: str) -> T:
    """Run a blocking call in a worker thread and stop waiting after ``timeout``.

    For calls with no timeout of their own (a write to /dev/usb/lp0 of a printer that
    is off, a CUPS submission). A stuck call keeps its thread; the caller gets
    PrintTimeout and should stop sending to that printer until it recovers. Under gevent
    the thread is a native one of gevent's pool (see off_the_hub).
    """
    pool = _gevent_pool()
    if pool is not None:
        import gevent

        try:
            return pool.spawn(fn).get(timeout=timeout)
        except gevent.Timeout:
            raise PrintTimeout(f"{what}: no progress within {timeout:g} s") from None
    outcome: dict[str, object] = {}

    def run() -> None:
        try:
            outcome["value"] = fn()
        except BaseException as exc:  # handed to the caller below
            outcome["error"] = exc

    worker = threading.Thread(target=run, name=f"printers:{what}", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise PrintTimeout(f"{what}: no progress within {timeout:g} s")
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome.get("value")  # type: ignore[return-value]
