"""One writer per site: an OS file lock at ``DATA_DIR/locks/<site>.lock``.

Taken by the forum crawl (when the spider is created), by ``miata reparse`` into a data directory and
by the Reddit collector (site ``reddit``). Two processes writing one site at once would each load the
stored post versions, each decide a post is new, and each store it: every post twice.

``fcntl.flock`` rather than a pid file: the kernel drops the lock when its holder dies, even on
``kill -9``, so a crash never leaves a stale lock behind. The file is never deleted (deleting it while
another process waits on it would let two processes hold two different files); it only says who holds
it (pid, start time, command line), for the message the second process prints.
"""

from __future__ import annotations

import fcntl
import json
import os
import sys
from datetime import datetime, timezone
from pathlib import Path

from miata_spiders.errors import SiteLockedError
from pipelines.dataset import DataDirError

LOCKS_DIR_NAME = "locks"


def lock_path(data_dir: str | os.PathLike, site: str) -> Path:
    return Path(data_dir) / LOCKS_DIR_NAME / f"{site}.lock"


class SiteLock:
    """``SiteLock(data_dir, site).acquire()`` or raise SiteLockedError naming the holder; ``release()``."""

    def __init__(self, data_dir: str | os.PathLike, site: str, *, shared: bool = False):
        self.site = site
        self.path = lock_path(data_dir, site)
        # shared: the workers of one shared crawl (MIATA_REDIS_URL) hold it together; Redis keeps them
        # from writing a post twice, and the lock keeps a standalone crawl or reparse out meanwhile.
        self.shared = shared
        self._file = None

    @property
    def held(self) -> bool:
        return self._file is not None

    def acquire(self) -> "SiteLock":
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # "a+": never truncate what the holder wrote before we know we hold the lock.
            file = open(self.path, "a+", encoding="utf-8")
        except OSError as error:
            raise DataDirError(f"cannot create the site lock {self.path}: {error}") from error
        try:
            fcntl.flock(file, (fcntl.LOCK_SH if self.shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
        except BlockingIOError:
            file.seek(0)
            text = file.read()
            if self.shared:
                holder = f"a standalone crawl or reparse: {describe_holder(text)}"
            elif not text.strip():  # shared holders write no description
                holder = "workers of a shared crawl (MIATA_REDIS_URL, docs/scaling.md), or a process just starting"
            else:
                holder = describe_holder(text)
            file.close()
            raise SiteLockedError(
                f"site {self.site!r} is being written by another process ({holder}); not starting. "
                f"Lock file: {self.path}") from None
        if self.shared:  # several holders: the file names none of them (see docs/scaling.md)
            self._file = file
            return self
        file.seek(0)
        file.truncate()
        json.dump({"pid": os.getpid(), "since": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                   "command": command_line()}, file)
        file.write("\n")
        file.flush()
        self._file = file
        return self

    def release(self) -> None:
        if self._file is None:
            return
        try:
            if not self.shared:
                self._file.seek(0)
                self._file.truncate()  # no holder any more: a stale description would mislead
        except OSError:
            pass  # the lock itself is released by close() below whatever happens here
        self._file.close()  # closing the descriptor releases the flock
        self._file = None

    def __enter__(self) -> "SiteLock":
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


def command_line() -> str:
    """This process's command line as typed (sys.argv is rewritten by Scrapy: `crawl` goes missing)."""
    try:
        raw = Path("/proc/self/cmdline").read_bytes()
    except OSError:  # not Linux
        return " ".join([sys.executable, *sys.argv])
    return raw.rstrip(b"\0").replace(b"\0", b" ").decode("utf-8", "replace")


def describe_holder(text: str) -> str:
    """'pid 4242, since 2026-11-25T03:17:02+00:00, command: scrapy crawl miataturbo' from the lock file."""
    try:
        holder = json.loads(text)
        command = holder["command"] if len(holder["command"]) <= 300 else holder["command"][:300] + "..."
        return f"pid {holder['pid']}, since {holder['since']}, command: {command}"
    except (ValueError, KeyError, TypeError):
        return "holder not recorded yet" if not text.strip() else f"holder: {text.strip()[:200]}"
