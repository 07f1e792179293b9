"""Which address a citizen's phone can open: the QR code on every ticket points at the
server, and 127.0.0.1 on a phone is the phone itself."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit


def lan_address() -> str | None:
    """This machine's address on its local network, or None. A UDP socket "connected" to a
    documentation address picks the outgoing interface without sending a packet."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("192.0.2.1", 9))
            addr = s.getsockname()[0]
    except OSError:
        return None
    return None if ipaddress.ip_address(addr).is_loopback or addr == "0.0.0.0" else addr


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def public_url_hint(settings: dict, host: str, port: int) -> list[str]:
    """Lines telling the user how phones can open ticket QR codes, or none when public_url
    already names an address other machines can reach."""
    public = settings.get("public_url")
    if public and not _loopback(urlsplit(public).hostname or ""):
        return []
    lan = lan_address()
    example = f"http://{lan or '192.168.1.10'}:{port}"
    lines = [
        "",
        "!! Mã QR trên phiếu đang trỏ tới địa chỉ chỉ máy này mở được: điện thoại của công dân không mở được.",
        "!! Ticket QR codes point to an address only this machine can open: citizens' phones cannot follow them.",
        "   Đặt public_url trong mục [server] của config.toml (hoặc biến MOTCUA_PUBLIC_URL), ví dụ / Set public_url",
        "   in config.toml's [server] section (or MOTCUA_PUBLIC_URL), for example:",
        f'       public_url = "{example}"' + ("   # địa chỉ LAN của máy này / this machine's LAN address" if lan else ""),
    ]
    if _loopback(host):
        lines.append('   và cho máy chủ nghe trên mạng LAN / and let the server listen on the LAN: host = "0.0.0.0" (hoặc / or MOTCUA_HOST=0.0.0.0)')
    return lines
