"""Where a printer may send its bytes: what each connection kind's target means, and the
allow-list that whoever runs the server sets in config.toml (``[printer_targets]``).

Managers edit printers in the database. Without this check a printer of kind ``file`` could
overwrite the database, config.toml or the secret key with the next ticket, and a ``network``
printer could make the server connect to any host and port. Every printer transport admits its
target here before it opens anything, and the manager's forms ask ``check_target`` before they
save. It lives in the core so that every room can ask the same question.
"""

from __future__ import annotations

import concurrent.futures
import ipaddress
import os
import re
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from motcua.config import PrinterTargetsConfig

if TYPE_CHECKING:
    IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

RESOLVE_TIMEOUT_S = 2.0  # a printer's host name that DNS cannot answer within this is refused
_QUEUE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.@:+-]{0,127}")  # CUPS: printable, no space, "/" or "#"


class TargetRefused(ValueError):
    """A printer target outside the allow-list (or not a target of its kind at all)."""

    code = "printer_target_refused"

    def __init__(self, message: str, message_en: str) -> None:
        super().__init__(f"{message} / {message_en}")
        self.message, self.message_en = message, message_en


@dataclass(frozen=True)
class Allowlist:
    """The resolved allow-list of one server. Paths are absolute with symlinks resolved."""

    device_paths: tuple[str, ...] = PrinterTargetsConfig().device_paths
    preview_folder: Path | None = None  # None: preview printers are refused
    networks: tuple[IPNetwork, ...] = PrinterTargetsConfig().networks
    ports: tuple[tuple[int, int], ...] = PrinterTargetsConfig().port_ranges()
    cups_queues: tuple[str, ...] = PrinterTargetsConfig().cups_queues
    usb_ids: tuple[str, ...] = PrinterTargetsConfig().usb_ids
    # Never opened by a printer, whatever the patterns say: the instance folder (secret key,
    # SQLite database and its -wal/-shm/-writer files) and the config file. Previews go to
    # their own folder inside the instance folder and write only PNG files there.
    protected: tuple[Path, ...] = ()
    instance: Path | None = None  # relative preview targets are inside it

    @classmethod
    def from_config(cls, cfg: PrinterTargetsConfig, instance: Path, *, protect: Iterable[Path] = ()) -> Allowlist:
        instance = Path(os.path.realpath(instance))
        return cls(
            device_paths=tuple(cfg.device_paths),
            preview_folder=Path(os.path.realpath(instance / cfg.preview_folder)),
            networks=tuple(cfg.networks),
            ports=cfg.port_ranges(),
            cups_queues=tuple(cfg.cups_queues),
            usb_ids=tuple(p.lower() for p in cfg.usb_ids),
            protected=(instance, *(Path(os.path.realpath(p)) for p in protect)),
            instance=instance,
        )

    @classmethod
    def of(cls, st: Any) -> Allowlist:
        """The allow-list of a running app: its config, instance folder, config file and database."""
        protect = [Path(st.config_path)]
        url = str(st.settings.get("database_url") or "")
        if url.startswith("sqlite:///") and len(url) > len("sqlite:///"):
            db = Path(url.removeprefix("sqlite:///").split("?", 1)[0])
            protect += [db.with_name(db.name + s) for s in ("", "-wal", "-shm", "-journal", "-writer")]
        return cls.from_config(st.config.printer_targets, Path(st.instance), protect=protect)

    def port_allowed(self, port: int) -> bool:
        return any(lo <= port <= hi for lo, hi in self.ports)

    def address_allowed(self, address: str) -> bool:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        return any(ip.version == net.version and ip in net for net in self.networks)


# ---- what a target of each kind is ----------------------------------------------------------


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


# ---- admitting a target -----------------------------------------------------------------------


@dataclass(frozen=True)
class Admitted:
    """A target the allow-list lets through, in the form to open: connect to ``addresses`` (never
    the host name again: DNS could answer otherwise the second time), open ``path`` (symlinks
    already followed, so a link swapped later cannot redirect the job)."""

    path: Path | None = None
    addresses: tuple[str, ...] = ()
    port: int = 0
    baud: int = 0
    name: str = ""
    extra: tuple[Any, ...] = field(default=())


def _refuse(target: str, why_vi: str, why_en: str) -> TargetRefused:
    return TargetRefused(
        f"Đích máy in '{target}' bị từ chối: {why_vi} (danh sách cho phép [printer_targets] trong config.toml)",
        f"printer target '{target}' refused: {why_en} (allow-list [printer_targets] in config.toml)",
    )


def _device(raw: str, allow: Allowlist) -> Path:
    """A device path matching the allow-list once symlinks are followed, outside every protected file."""
    if not raw.startswith("/"):
        raise _refuse(raw, "cần đường dẫn tuyệt đối", "an absolute path is needed")
    if ".." in PurePosixPath(raw).parts:
        raise _refuse(raw, "không được chứa '..'", "'..' is not allowed")
    real = Path(os.path.realpath(raw))
    for p in allow.protected:
        if real == p or real.is_relative_to(p):
            raise _refuse(raw, "không bao giờ ghi vào tệp của máy chủ (cơ sở dữ liệu, khóa bí mật, cấu hình)",
                          "the server's own files (database, secret key, config) are never written by a printer")
    if not any(PurePosixPath(real).match(pattern) for pattern in allow.device_paths):
        shown = raw if str(real) == raw else f"{raw} → {real}"
        raise _refuse(shown, "không khớp mẫu thiết bị nào được phép", "matches no allowed device path")
    return real


def _resolve(host: str, port: int, timeout: float) -> list[str]:
    try:
        return [str(ipaddress.ip_address(host))]
    except ValueError:
        pass
    # getaddrinfo has no timeout of its own: a dead DNS server must not hang the printer's queue.
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="printer-dns")
    try:
        infos = pool.submit(socket.getaddrinfo, host, port, 0, socket.SOCK_STREAM).result(timeout=timeout)
    except concurrent.futures.TimeoutError:
        raise _refuse(host, f"không phân giải được tên trong {timeout:g} giây", f"name not resolved within {timeout:g} s") from None
    except OSError as exc:
        raise _refuse(host, "không phân giải được tên", f"name not resolved ({exc})") from None
    finally:
        pool.shutdown(wait=False)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _network(target: str, allow: Allowlist, timeout: float) -> Admitted:
    host, port = network_address(target)
    if not allow.port_allowed(port):
        raise _refuse(target, f"cổng {port} không được phép", f"port {port} is not allowed")
    addresses = tuple(a for a in _resolve(host, port, timeout) if allow.address_allowed(a))
    if not addresses:
        raise _refuse(target, "địa chỉ nằm ngoài các dải mạng được phép", "the address is outside the allowed networks")
    return Admitted(addresses=addresses, port=port)


def _usb(target: str, allow: Allowlist, timeout: float) -> Admitted:
    vid, pid, in_ep, out_ep = usb_ids(target)
    ids = f"{vid:04x}:{pid:04x}"
    if not any(PurePosixPath(ids).match(p) for p in allow.usb_ids):
        raise _refuse(target, "mã USB không được phép", "USB id not allowed")
    return Admitted(extra=(vid, pid, in_ep, out_ep))


def _serial(target: str, allow: Allowlist, timeout: float) -> Admitted:
    dev, baud = serial_port(target)
    return Admitted(path=_device(dev, allow), baud=baud)


def _file(target: str, allow: Allowlist, timeout: float) -> Admitted:
    return Admitted(path=_device(target.strip(), allow))


def _queue(target: str, allow: Allowlist, timeout: float) -> Admitted:
    name = target.strip()
    if not _QUEUE.fullmatch(name):
        raise _refuse(target, "tên hàng đợi in không hợp lệ", "not a print queue name")
    if not any(PurePosixPath(name).match(p) for p in allow.cups_queues):
        raise _refuse(target, "hàng đợi in không được phép", "print queue not allowed")
    return Admitted(name=name)


def _preview(target: str, allow: Allowlist, timeout: float) -> Admitted:
    if allow.preview_folder is None:
        raise _refuse(target, "chưa đặt thư mục xem thử", "no preview folder is set")
    if ".." in PurePosixPath(target).parts:
        raise _refuse(target, "không được chứa '..'", "'..' is not allowed")
    folder = Path(target.strip())
    if not folder.is_absolute() and allow.instance is not None:  # as stored in the printers table
        folder = allow.instance / folder
    real = Path(os.path.realpath(folder))
    if not (real == allow.preview_folder or real.is_relative_to(allow.preview_folder)):
        raise _refuse(target, f"ảnh xem thử chỉ được ghi trong {allow.preview_folder}",
                      f"previews are written only inside {allow.preview_folder}")
    return Admitted(path=real)


# kind -> (what a well-formed target is, how the allow-list admits it). The printers room has one
# transport per kind; these are the same kinds (PrinterConfig.connection lists them for config.toml).
RULES: dict[str, tuple[Callable[[str], object], Callable[[str, Allowlist, float], Admitted]]] = {
    "network": (network_address, _network),
    "usb": (usb_ids, _usb),
    "serial": (serial_port, _serial),
    "file": (str.strip, _file),
    "cups": (str.strip, _queue),
    "lp": (str.strip, _queue),
    "preview": (str.strip, _preview),
}
KINDS: tuple[str, ...] = tuple(RULES)


def parse_target(kind: str, target: str) -> None:
    """Raise ValueError when ``target`` is not a target of ``kind`` at all (config-time check)."""
    if kind not in RULES:
        raise ValueError(f"connection must be one of {', '.join(KINDS)}, got {kind!r}")
    RULES[kind][0](target)


def admit(kind: str, target: str, allow: Allowlist, *, timeout: float = RESOLVE_TIMEOUT_S) -> Admitted:
    """The target in the form to open, or TargetRefused. Never slower than ``timeout`` (DNS)."""
    if kind not in RULES:
        raise TargetRefused(f"Kiểu kết nối máy in không có: {kind}", f"unknown printer connection kind: {kind}")
    try:
        return RULES[kind][1](target, allow, timeout)
    except TargetRefused:
        raise
    except ValueError as exc:  # not a target of this kind at all
        raise _refuse(target, "sai dạng", str(exc)) from None


def check_target(kind: str, target: str, allow: Allowlist, *, timeout: float = RESOLVE_TIMEOUT_S) -> TargetRefused | None:
    """For form validation: the refusal (``code``, ``message``, ``message_en``) or None when allowed."""
    try:
        admit(kind, target, allow, timeout=timeout)
    except TargetRefused as exc:
        return exc
    return None
