"""`motcua serve` in a child process, as the live_server fixtures start it."""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import requests

from tests.support.demo import Demo
from tests.support.env import REPO


@dataclass
class LiveServer:
    url: str
    process: subprocess.Popen
    env: dict
    demos: dict[str, Demo]
    log: Path

    @property
    def demo(self) -> Demo:
        return self.demos["demo"]

    def stop(self, sig: int | None = None) -> None:
        if self.process.poll() is None:
            if sig is None:
                self.process.terminate()
            else:
                self.process.send_signal(sig)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)

    def start(self) -> None:
        """(Re)start on the same port and database."""
        self.process = spawn(self.env, self.log)
        wait_for_http(self.url + "/api/v1/services", self.process, self.log)


def spawn(env: dict, log: Path) -> subprocess.Popen:
    out = open(log, "ab")
    return subprocess.Popen([sys.executable, "-m", "motcua", "serve"], env=env, stdout=out, stderr=subprocess.STDOUT, cwd=REPO)


def wait_for_http(url: str, process: subprocess.Popen, log: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            if requests.get(url, timeout=1).status_code < 500:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"server did not answer at {url}:\n{log.read_text(errors='replace')[-3000:]}")
