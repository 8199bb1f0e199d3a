"""Write posts as Parquet parts under ``DATA_DIR/posts/site=<site>/``, a batch at a time.

Each part is written under a dot-prefixed temporary name in its final directory, fsync'd, then
renamed into place: readers (pyarrow.dataset, DuckDB globs on ``*.parquet``) only ever see whole files.
"""

from __future__ import annotations

import errno
import logging
import os
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, is_dataclass
from datetime import datetime, timezone
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from itemadapter import ItemAdapter

from scrapy.exceptions import DropItem
from scrapy.utils.defer import deferred_from_coro
from twisted.internet import task

from miata_spiders.errors import StorageError
from miata_spiders.items import PostItem
from pipelines.dataset import DataDirError, site_dir
from pipelines.schema import CONTENT_HASH_FORMAT, FIELD_NAMES, POST_SCHEMA
from pipelines.signals import page_progress, part_committed

logger = logging.getLogger(__name__)

# Columns whose values repeat from row to row (one site, one thread, a few hundred regulars):
# dictionary encoding stores each distinct value once per row group. The rest are (nearly) unique
# per post - ids, bodies, URLs, hashes, timestamps - where a dictionary would only be overhead.
DICTIONARY_COLUMNS = [
    "source",
    "thread_id",
    "thread_title",
    "thread_url",
    "forum_id",
    "forum_path.list.element",
    "author",
    "author_id",
    "edited_by",
    "signature",
    # Reddit-only columns
    "subreddit",
    "link_id",
    "domain",
    "link_flair_text",
    "author_flair_text",
    "distinguished",
    "removed_by_category",
]
TIMESTAMP_FIELDS = ("posted_at", "edited_at", "scraped_at")
# zstd: about gzip's ratio on forum text at several times the speed. Level 9 stores 7% less than
# pyarrow's default level 1 and still encodes ~70k rows/s, far above any crawl (docs/benchmarks.md).
COMPRESSION = "zstd"
COMPRESSION_LEVEL = 9


@dataclass(frozen=True)
class WrittenPart:
    path: Path
    rows: int
    site: str = ""


# Called after each part is renamed into place with the progress markers that part makes durable (in
# the order they were handed over), or with part None for markers handed over while nothing was buffered.
CommitCallback = Callable[["WrittenPart | None", list], None]


class ParquetBatchWriter:
    """Buffers post rows of one site and writes them as Parquet parts.

    A part is written when ``batch_size`` rows are buffered or ``flush_seconds`` have passed since the
    first of them (checked on every ``add`` and by ``flush_if_due``, which a timer calls), whichever
    comes first: a crash loses at most that much work. Progress markers handed over with
    ``add_progress`` are queued behind the rows buffered so far and given to ``on_commit`` once those
    rows are in a renamed part, never before.

    A failed write raises ``StorageError`` naming the directory and the errno; the rows stay buffered
    and their markers unreported. Once a part is renamed into place its rows are written, whatever
    happens next: they are never buffered to be written again.
    """

    def __init__(self, data_dir: str | os.PathLike, site: str, batch_size: int, *,
                 flush_seconds: float | None = None, on_commit: CommitCallback | None = None,
                 clock: Callable[[], float] = time.monotonic, commit_delay: float = 0.0,
                 shared_dir: bool = False):
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        if flush_seconds is not None and flush_seconds <= 0:
            raise ValueError(f"flush_seconds must be positive, got {flush_seconds}")
        self.site = site
        self.batch_size = batch_size
        self.flush_seconds = flush_seconds
        self.on_commit = on_commit
        self.clock = clock
        # Seconds between writing a part and renaming it into place. Only crash tests set it, to kill
        # a crawl while a part is half-committed.
        self.commit_delay = commit_delay
        self.directory = site_dir(data_dir, site)
        _prepare_directory(self.directory)
        # shared_dir: other processes (workers of a shared crawl) may be committing parts here right now.
        self.removed_leftovers = 0 if shared_dir else _remove_leftover_parts(self.directory)
        self.parts: list[WrittenPart] = []
        self._rows: list[dict] = []
        self._progress: list = []  # markers waiting for the rows buffered before them
        self._first_row_at: float | None = None

    @property
    def pending(self) -> int:
        return len(self._rows)

    def add(self, row: dict) -> WrittenPart | None:
        """Buffer one row (keys from POST_SCHEMA); returns the part written if the batch is due.

        A row that does not fit the schema raises ValueError here, so it cannot make the whole
        batch fail to write later.
        """
        _check_row(row)
        if not self._rows:
            self._first_row_at = self.clock()
        self._rows.append(row)
        return self.flush_if_due()

    def add_progress(self, marker) -> None:
        """Queue ``marker`` behind every row buffered so far; with nothing buffered it is durable now."""
        if not self._rows:
            if self.on_commit is not None:
                self.on_commit(None, [marker])
            return
        self._progress.append(marker)

    def due(self) -> bool:
        if not self._rows:
            return False
        if len(self._rows) >= self.batch_size:
            return True
        return self.flush_seconds is not None and self.clock() - self._first_row_at >= self.flush_seconds

    def flush_if_due(self) -> WrittenPart | None:
        return self.flush() if self.due() else None

    def flush(self) -> WrittenPart | None:
        """Write the buffered rows as one part; the rows stay buffered if writing fails."""
        if not self._rows:
            return None
        # The site is the partition directory (site=<name>/), not a column in the file: the Hive
        # convention, which lets pandas, pyarrow and DuckDB read the directory with their defaults.
        table = pa.Table.from_pylist(self._rows, schema=POST_SCHEMA).drop_columns(["site"])
        final = self._write_and_rename(table)
        # Renamed into place: these rows are in the dataset now. Forget them before anything else
        # can fail, so they are never written twice.
        part = WrittenPart(final, table.num_rows, self.site)
        progress, self._rows, self._progress, self._first_row_at = self._progress, [], [], None
        self.parts.append(part)
        try:
            _fsync_directory(self.directory)  # makes the rename itself survive a power cut
        except OSError as error:
            # The part exists but its rename may not survive a power cut: vouch for none of its progress
            # (the pages are fetched again next run and their posts dropped as already stored).
            raise _storage_error(f"wrote {final.name} but could not sync its directory", self.directory,
                                 error, part) from error
        if self.on_commit is not None:
            self.on_commit(part, progress)
        return part

    def close(self) -> WrittenPart | None:
        return self.flush()

    def _write_and_rename(self, table: pa.Table) -> Path:
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
        final = self.directory / f"part-{stamp}-{uuid.uuid4().hex}.parquet"
        temporary = final.with_name(f".{final.name}.tmp")
        try:
            with open(temporary, "wb") as file:
                pq.write_table(table, file, compression=COMPRESSION, compression_level=COMPRESSION_LEVEL,
                               use_dictionary=DICTIONARY_COLUMNS)
                file.flush()
                os.fsync(file.fileno())
            if self.commit_delay:
                time.sleep(self.commit_delay)
            os.replace(temporary, final)
        except BaseException as error:
            try:
                temporary.unlink(missing_ok=True)
            except OSError:
                pass  # removed at the next start (_remove_leftover_parts)
            if isinstance(error, OSError):
                raise _storage_error(f"could not write {table.num_rows} rows", self.directory, error) from error
            raise
        return final


def _storage_error(what: str, directory: Path, error: OSError, part: WrittenPart | None = None) -> StorageError:
    """StorageError naming the directory and the errno, e.g. '... [ENOSPC] No space left on device'."""
    code = errno.errorcode.get(error.errno, str(error.errno)) if error.errno else "?"
    failure = StorageError(f"parquet: {what} to {directory}: [{code}] {error.strerror or error}")
    failure.errno = error.errno
    failure.part = part  # the part that did get renamed into place, if any
    return failure


def _python_check(arrow_type: pa.DataType):
    """A cheap Python test that a value fits ``arrow_type`` (None is handled by the caller).

    Converting each row to a one-row Arrow batch to find out cost as much as parsing its page; these
    checks cover the schema's types, and ``flush`` still converts the batch as a whole.
    """
    if pa.types.is_string(arrow_type):
        return lambda v: isinstance(v, str)
    if pa.types.is_int32(arrow_type):
        return lambda v: isinstance(v, int) and not isinstance(v, bool) and -2**31 <= v < 2**31
    if pa.types.is_boolean(arrow_type):
        return lambda v: isinstance(v, bool)
    if pa.types.is_timestamp(arrow_type):
        return lambda v: isinstance(v, datetime)
    if pa.types.is_list(arrow_type):
        item = _python_check(arrow_type.value_type)
        return lambda v: isinstance(v, (list, tuple)) and all(x is None or item(x) for x in v)
    if pa.types.is_struct(arrow_type):
        fields = {f.name: _python_check(f.type) for f in arrow_type}
        return lambda v: isinstance(v, dict) and v.keys() <= fields.keys() and all(
            v[k] is None or fields[k](v[k]) for k in v)
    raise TypeError(f"no check for {arrow_type}")


_FIELD_CHECKS = {field.name: _python_check(field.type) for field in POST_SCHEMA}
_REQUIRED = [field.name for field in POST_SCHEMA if not field.nullable]


def _check_row(row: dict) -> None:
    unknown = row.keys() - _FIELD_CHECKS.keys()
    if unknown:
        raise ValueError(f"fields not in POST_SCHEMA: {sorted(unknown)}")
    empty = [name for name in _REQUIRED if row.get(name) is None]
    if empty:
        raise ValueError(f"required fields are empty: {empty}")
    wrong = [name for name, value in row.items() if value is not None and not _FIELD_CHECKS[name](value)]
    if wrong:
        raise ValueError(f"row does not fit POST_SCHEMA: {', '.join(f'{n}={row[n]!r}' for n in wrong)}")
    if not CONTENT_HASH_FORMAT.fullmatch(row["content_hash"]):
        # Dedupe reads back a prefix of every stored hash: only content_hash()'s form is stored.
        raise ValueError(f"content_hash must be a SHA-256 hex digest, got {row['content_hash']!r}")
    for name in TIMESTAMP_FIELDS:
        value = row.get(name)
        # A naive datetime would be stored as if it were UTC; refuse it rather than guess.
        if isinstance(value, datetime) and value.utcoffset() is None:
            raise ValueError(f"{name} must be timezone-aware, got naive {value!r}")


def _prepare_directory(directory: Path) -> None:
    """Create the partition directory and prove a file can be created in it, or raise DataDirError."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        probe = directory / f".write-probe-{uuid.uuid4().hex}"
        probe.touch()
        probe.unlink()
    except OSError as error:
        raise DataDirError(f"cannot write Parquet parts to {directory}: {error}") from error


def _remove_leftover_parts(directory: Path) -> int:
    """Delete temporary parts a killed writer left behind (only one writer per site runs: lock.py)."""
    removed = 0
    for leftover in directory.glob(".part-*.tmp"):
        try:
            leftover.unlink()
            removed += 1
        except FileNotFoundError:
            pass
    if removed:
        logger.info("parquet: removed %d unfinished temporary part(s) left in %s by an interrupted run",
                    removed, directory)
    return removed


def _fsync_directory(directory: Path) -> None:
    if not hasattr(os, "O_DIRECTORY"):  # Windows cannot open a directory; its rename is durable enough
        return
    descriptor = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def item_to_row(item, default_site: str) -> dict:
    """A PostItem (or dict with its keys) as a POST_SCHEMA row, filling what a spider may leave empty.

    ``content_hash`` is computed once, where the item is built (``PostItem.__post_init__``, for the
    spider and the Reddit mapping alike); an item without one is refused by the writer rather than
    hashed a second way here.
    """
    if isinstance(item, PostItem):
        # Flat, with plain values: skip ItemAdapter's recursive walk, as costly as parsing the page.
        row = {name: getattr(item, name) for name in FIELD_NAMES}
        row["quotes"] = [asdict(q) if is_dataclass(q) else q for q in row["quotes"] or ()]
    else:
        row = ItemAdapter(item).asdict()
    row["site"] = row.get("site") or default_site
    if row.get("scraped_at") is None:
        row["scraped_at"] = datetime.now(timezone.utc)
    return row


class ParquetPipeline:
    """Scrapy item pipeline: one ParquetBatchWriter per site, ``miata/parquet/*`` stats.

    Thread-page progress reaches it through the ``page_progress`` signal (``pipelines.progress``) and
    leaves, once durable, with ``part_committed``. A failed write stops the crawl (close reason
    ``storage_error``): later items are dropped, their pages never recorded, so the next run fetches
    them again.
    """

    def __init__(self, crawler):
        self.crawler = crawler
        settings = crawler.settings
        self.data_dir = settings.get("MIATA_DATA_DIR")
        if not self.data_dir:
            raise DataDirError("MIATA_DATA_DIR is not set: it names the directory the dataset is written to")
        self.batch_size = settings.getint("MIATA_PARQUET_BATCH_SIZE")
        if self.batch_size < 1:
            raise ValueError(f"MIATA_PARQUET_BATCH_SIZE must be at least 1, got {self.batch_size}")
        self.flush_seconds = settings.getfloat("MIATA_PARQUET_FLUSH_SECONDS", 60.0)
        if self.flush_seconds <= 0:
            raise ValueError(f"MIATA_PARQUET_FLUSH_SECONDS must be positive, got {self.flush_seconds}")
        self.clock = time.monotonic
        self.failure: StorageError | None = None
        self._writers: dict[str, ParquetBatchWriter] = {}
        self._timer: task.LoopingCall | None = None
        crawler.signals.connect(self._page_progress, signal=page_progress)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def open_spider(self) -> None:
        # Fails here, before any request, if MIATA_DATA_DIR cannot take the output.
        self._writer_for(self.crawler.spider.name)
        if running_engine(self.crawler) is not None:  # a real crawl: a reactor runs timers
            self.start_timer()

    def start_timer(self, clock=None) -> None:
        """Check the age of the buffered rows between items too: a slow crawl (one page a minute, or
        a long Retry-After pause) must not hold rows unwritten for longer than MIATA_PARQUET_FLUSH_SECONDS."""
        self._timer = task.LoopingCall(self.flush_due)
        if clock is not None:
            self._timer.clock = clock
        self._timer.start(self.timer_interval, now=False)

    @property
    def timer_interval(self) -> float:
        # A few checks per flush period: a part is at most a quarter period late, at negligible cost.
        return max(0.5, min(5.0, self.flush_seconds / 4))

    def _writer_for(self, site: str) -> ParquetBatchWriter:
        if site not in self._writers:
            try:
                self._writers[site] = ParquetBatchWriter(
                    self.data_dir, site, self.batch_size, flush_seconds=self.flush_seconds,
                    on_commit=self._committed, clock=lambda: self.clock(),
                    commit_delay=self.crawler.settings.getfloat("MIATA_PARQUET_COMMIT_DELAY"),
                    shared_dir=self.crawler.settings.getbool("MIATA_PARQUET_SHARED_DIR"))
            except DataDirError as error:
                raise DataDirError(f"MIATA_DATA_DIR={self.data_dir!r} is unusable: {error}") from error
            removed = self._writers[site].removed_leftovers
            if removed:
                self.crawler.stats.inc_value("miata/parquet/leftover_parts_removed", removed)
        return self._writers[site]

    def process_item(self, item):
        if self.failure is not None:
            raise DropItem("not stored: the dataset cannot be written (storage_error); "
                           "fetched again by the next run", log_level="DEBUG")
        row = item_to_row(item, default_site=self.crawler.spider.name)
        writer = self._writer_for(row["site"])
        try:
            writer.add(row)
        except StorageError as error:
            self._fail(error)  # the row stays buffered: written at close if the disk has recovered
        return item

    def flush_due(self) -> None:
        """Write every site's buffer that has waited MIATA_PARQUET_FLUSH_SECONDS (the timer's call)."""
        if self.failure is not None:
            return
        for writer in self._writers.values():
            try:
                writer.flush_if_due()
            except StorageError as error:
                self._fail(error)
                return

    def _page_progress(self, progress) -> None:
        if self.failure is not None:
            return  # nothing after a failed write is vouched for
        self._writer_for(progress.site).add_progress(progress)

    def _committed(self, part: WrittenPart | None, progress: list) -> None:
        if part is not None:
            self._count(part)
        self.crawler.signals.send_catch_log(part_committed, part=part, progress=progress)

    def _fail(self, error: StorageError) -> None:
        if getattr(error, "part", None) is not None:
            self._count(error.part)  # renamed into place before the failure: written
        if self.failure is not None:
            return
        self.failure = error
        self.crawler.stats.inc_value("miata/parquet/write_errors")
        logger.error("%s; stopping the crawl (close reason storage_error). Parts already written are "
                     "intact; free space (or fix the disk) and run the same command again to collect the rest",
                     error.message)
        stop_crawl(self.crawler, StorageError.close_reason)

    def close_spider(self) -> None:
        if self._timer is not None and self._timer.running:
            self._timer.stop()
        for writer in self._writers.values():
            try:
                part = writer.close()  # after a failure too: the disk may have recovered since
            except StorageError as error:
                if getattr(error, "part", None) is not None:
                    self._count(error.part)
                self.crawler.stats.inc_value("miata/parquet/write_errors")
                logger.error("%s: %d rows of site %r not written; their pages are not recorded as done, "
                             "so the next run fetches them again", error.message, writer.pending, writer.site)
                self.failure = self.failure or error
            else:
                if part is not None and self.failure is not None:
                    logger.info("parquet: the rows buffered at the failure were written at close")
            for written in writer.parts:
                logger.info("parquet: wrote %s (%d rows)", written.path, written.rows)

    def _count(self, part: WrittenPart) -> None:
        self.crawler.stats.inc_value("miata/parquet/rows_written", part.rows)
        self.crawler.stats.inc_value("miata/parquet/files_written")



def running_engine(crawler):
    """The crawler's engine once the crawl has started, else None (a pipeline built in a unit test)."""
    try:
        return crawler.engine
    except (AttributeError, RuntimeError):  # Scrapy raises until the crawl starts
        return None


def stop_crawl(crawler, reason: str) -> None:
    """Close the running spider with ``reason`` (no-op outside a crawl)."""
    engine = running_engine(crawler)
    if engine is not None and getattr(engine, "spider", None) is not None:
        deferred_from_coro(engine.close_spider_async(reason=reason))
