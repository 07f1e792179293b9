"""The demo config with the kiosk's printer pointed at a test printer and a backup."""

from __future__ import annotations

from pathlib import Path

from tests.support.env import DEMO_CONFIG

KIOSK_PRINTERS = '''
[[offices.printers]]
name = "kiosk-sanh"
connection = "network"
target = "{main}"
timeout = 1

[[offices.printers]]
name = "du-phong"
connection = "{backup_conn}"
target = "{backup}"
timeout = 1
'''


# The test printer listens on an ephemeral loopback port.
LOOPBACK_PRINTERS = '''
[printer_targets]
ports = ["1024-65535"]
'''


def config_with(tmp_path: Path, main: str, backup: str = "previews", backup_conn: str = "preview") -> Path:
    text = DEMO_CONFIG.read_text(encoding="utf-8")
    start = text.index("[[offices.printers]]")
    end = text.index("# Devices get their token")
    text = text[:start] + KIOSK_PRINTERS.format(main=main, backup=backup, backup_conn=backup_conn) + "\n" + text[end:]
    text = text.replace('printer = "kiosk-sanh"', 'printer = "kiosk-sanh"\nbackup_printer = "du-phong"')
    text = text.split("\n[printer_targets]")[0] + LOOPBACK_PRINTERS  # the demo's allow-list, wider ports
    path = tmp_path / "printing.toml"
    path.write_text(text, encoding="utf-8")
    return path
