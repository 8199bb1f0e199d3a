"""A real ``redis-server`` of the test's own, on a free loopback port, for the shared-crawl tests.

Never a mock: the leases, budget and claims are Lua scripts that only a real Redis runs. Started with
no persistence (``--save '' --appendonly no``) in the test's temporary directory, stopped afterwards.
Without the binary the tests skip, naming it (CI installs Debian's ``redis-server``: .ci/run).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

BINARY = "redis-server"


def redis_server_binary() -> str:
    path = shutil.which(BINARY)
    if path is None:
        pytest.skip(f"{BINARY} is not installed (apt-get install redis-server); .ci/run installs it")
    return path


def free_port() -> int:
    # Redis has no "--port 0": take a port the kernel says is free and hand it over at once.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RedisServer:
    def __init__(self, directory: Path, *extra_args: str, persistence: bool = False):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.extra_args = list(extra_args)
        # persistence: Redis's default snapshots (and one on shutdown), as a packaged redis-server runs.
        self.persistence = persistence
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> "RedisServer":
        save = "3600 1 300 100 60 10000" if self.persistence else ""
        args = [redis_server_binary(), "--port", str(self.port), "--bind", "127.0.0.1", "--save", save,
                "--appendonly", "no", "--dir", str(self.directory), "--logfile", str(self.directory / "redis.log"),
                *self.extra_args]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while not self._answers():
            if self.proc.poll() is not None:
                raise RuntimeError(f"redis-server exited with {self.proc.returncode}: "
                                   f"{(self.directory / 'redis.log').read_text(errors='replace')[-2000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError("redis-server did not answer PING within 20 s")
            time.sleep(0.02)
        return self

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def client(self):
        import redis

        return redis.Redis.from_url(self.url)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def restart(self, down_seconds: float = 0.0) -> None:
        """Stop (SIGTERM: with persistence, Redis snapshots on its way out) and start again on the same port."""
        self.stop()
        time.sleep(down_seconds)
        self.start()

    def __enter__(self) -> "RedisServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
