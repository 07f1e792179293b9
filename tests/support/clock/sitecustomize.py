"""Python loads this at start-up when this folder is on PYTHONPATH (`server_at` below): a
`motcua serve` started by a browser test then runs from MOTCUA_TEST_NOW on, ticking at the real
pace, so a test can open an office at 09:05 on a Monday whatever the machine's own clock says.
time.monotonic is left alone: every timeout keeps its real length."""

import os

if os.environ.get("MOTCUA_TEST_NOW"):
    import time_machine

    time_machine.travel(os.environ["MOTCUA_TEST_NOW"], tick=True).start()
