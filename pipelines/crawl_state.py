"""What a forum crawl has durably collected, per thread, so the next run fetches only what changed.

One small SQLite file per site, beside the dataset (``DATA_DIR/state/<site>.sqlite``). A thread's row
is written only after the Parquet part holding its posts has been renamed into place, so the state can
never claim posts the dataset does not have; after a crash it is at worst behind, and the posts it
re-fetches are dropped by the dedupe pipeline.

Listing pages are recorded as seen (which threads they showed, whether they were the last page), so
an incremental crawl knows whether a forum was ever walked to its end before it stops early.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from miata_spiders.errors import StorageError

SCHEMA = """
CREATE TABLE IF NOT EXISTS threads (
    thread_id     TEXT PRIMARY KEY,
    forum_id      TEXT,
    thread_url    TEXT,
    last_page     INTEGER NOT NULL,  -- highest page whose posts are durably written
    last_page_url TEXT NOT NULL,     -- where to resume: that page is re-fetched, then its next links
    last_position INTEGER,           -- highest post position written
    complete      INTEGER NOT NULL,  -- the last page had no next page when it was fetched
    reply_count   INTEGER,           -- as the listing showed it when the thread was fetched
    last_post_at  TEXT,              -- ditto (ISO 8601 UTC)
    updated_at    TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS listing_pages (
    forum_id   TEXT NOT NULL,
    page       INTEGER NOT NULL,
    url        TEXT NOT NULL,
    thread_ids TEXT NOT NULL,        -- JSON list, stickies excluded
    is_last    INTEGER NOT NULL,
    seen_at    TEXT NOT NULL,
    PRIMARY KEY (forum_id, page)
);
CREATE TABLE IF NOT EXISTS moved_stubs (
    stub_id   TEXT PRIMARY KEY,          -- id a "Moved:" row carries (XenForo: its redirect thread)
    thread_id TEXT NOT NULL              -- the thread it leads to
);
"""


@dataclass(frozen=True)
class ThreadState:
    thread_id: str
    forum_id: str | None
    thread_url: str | None
    last_page: int
    last_page_url: str
    last_position: int | None
    complete: bool
    reply_count: int | None
    last_post_at: str | None


@dataclass(frozen=True)
class ThreadProgress:
    """"This thread page is done": what the crawl state records once the page's posts are durable.

    Not an item: the spider hands it to the Parquet writer (``pipelines.progress``), which queues it
    behind the rows buffered before it and reports it back once they are in a renamed part."""

    site: str
    thread_id: str
    forum_id: str | None
    thread_url: str | None
    page: int
    page_url: str
    last_position: int | None
    has_next_page: bool
    reply_count: int | None
    last_post_at: str | None


class CrawlState:
    def __init__(self, path: Path | str):
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(self.path, isolation_level=None)
            self.db.execute("PRAGMA journal_mode=WAL")
            # The state must reach the disk once committed: it vouches for Parquet data.
            self.db.execute("PRAGMA synchronous=FULL")
            self.db.executescript(SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise StorageError(f"cannot open the crawl state file {self.path}: {exc}") from exc
        # Threads are looked up one at a time (primary key): a site with a million threads costs no
        # memory here, where loading them all at start cost a Python object each.

    @classmethod
    def for_site(cls, data_dir: Path | str, site: str) -> "CrawlState":
        return cls(Path(data_dir) / "state" / f"{site}.sqlite")

    def __len__(self) -> int:
        return self.db.execute("SELECT count(*) FROM threads").fetchone()[0]

    def thread(self, thread_id: str) -> ThreadState | None:
        row = self.db.execute(
            "SELECT thread_id, forum_id, thread_url, last_page, last_page_url, last_position, complete,"
            " reply_count, last_post_at FROM threads WHERE thread_id = ?", (thread_id,)).fetchone()
        return None if row is None else ThreadState(*row[:6], bool(row[6]), row[7], row[8])

    def commit(self, progress: list[ThreadProgress], now_iso: str) -> None:
        """Record pages whose posts are durably in the dataset, in one transaction."""
        if not progress:
            return
        rows = []
        latest: dict[str, ThreadState] = {}  # threads already updated in this batch
        for p in progress:
            old = latest.get(p.thread_id) or self.thread(p.thread_id)
            if old is not None and old.last_page > p.page and not old.complete:
                continue  # never move a resume point backwards
            state = ThreadState(
                thread_id=p.thread_id, forum_id=p.forum_id, thread_url=p.thread_url or (old and old.thread_url),
                last_page=p.page, last_page_url=p.page_url,
                last_position=max(filter(None, [p.last_position, old and old.last_position]), default=None),
                complete=not p.has_next_page,
                reply_count=p.reply_count if p.reply_count is not None else (old and old.reply_count),
                last_post_at=p.last_post_at or (old and old.last_post_at),
            )
            latest[p.thread_id] = state
            rows.append((state.thread_id, state.forum_id, state.thread_url, state.last_page, state.last_page_url,
                         state.last_position, int(state.complete), state.reply_count, state.last_post_at, now_iso))
        with self._transaction():
            self.db.executemany("INSERT OR REPLACE INTO threads VALUES (?,?,?,?,?,?,?,?,?,?)", rows)

    def record_listing_page(self, forum_id: str, page: int, url: str, thread_ids: list[str], is_last: bool,
                            now_iso: str) -> None:
        with self._transaction():
            self.db.execute("INSERT OR REPLACE INTO listing_pages VALUES (?,?,?,?,?,?)",
                            (forum_id, page, url, json.dumps(thread_ids), int(is_last), now_iso))

    def stub_target(self, stub_id: str) -> str | None:
        row = self.db.execute("SELECT thread_id FROM moved_stubs WHERE stub_id = ?", (stub_id,)).fetchone()
        return row[0] if row else None

    def record_stub(self, stub_id: str, thread_id: str) -> None:
        with self._transaction():
            self.db.execute("INSERT OR REPLACE INTO moved_stubs VALUES (?, ?)", (stub_id, thread_id))

    def forum_fully_collected(self, forum_id: str) -> bool:
        """Was this forum's listing walked to its last page, with every thread it showed complete?
        Only then may an incremental crawl stop walking it early."""
        pages = self.db.execute(
            "SELECT page, thread_ids, is_last FROM listing_pages WHERE forum_id = ? ORDER BY page", (forum_id,)
        ).fetchall()
        if not pages or not pages[-1][2] or [p[0] for p in pages] != list(range(1, len(pages) + 1)):
            return False
        for _, thread_ids, _ in pages:
            for tid in json.loads(thread_ids):
                state = self.thread(tid)
                if state is None or not state.complete:
                    return False
        return True

    @contextmanager
    def _transaction(self):
        """One transaction; a failed write (disk full, I/O error) is a StorageError naming the file."""
        try:
            with self.db:
                self.db.execute("BEGIN")
                yield
        except sqlite3.Error as exc:
            raise StorageError(f"cannot write the crawl state file {self.path}: {exc}") from exc

    def close(self) -> None:
        self.db.close()
