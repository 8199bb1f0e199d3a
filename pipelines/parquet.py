"""Write posts as Parquet parts under ``DATA_DIR/posts/site=<site>/``, a batch at a time.

Each part is written under a dot-prefixed temporary name in its final directory, fsync'd, then
renamed into place: readers (pyarrow.dataset, DuckDB globs on ``*.parquet``) only ever see whole files.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from dataclasses import asdict, dataclass, is_dataclass
from datetime import datetime, timezone
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from itemadapter import ItemAdapter

from miata_spiders.items import PostItem
from pipelines.crawl_state import ThreadProgress
from pipelines.dataset import DataDirError, site_dir
from pipelines.schema import CONTENT_HASH_FORMAT, FIELD_NAMES, POST_SCHEMA, content_hash
from pipelines.signals import part_committed

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


class ParquetBatchWriter:
    """Buffers post rows of one site and writes them as Parquet parts of ``batch_size`` rows."""

    def __init__(self, data_dir: str | os.PathLike, site: str, batch_size: int, commit_delay: float = 0.0):
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        self.site = site
        self.batch_size = batch_size
        # Seconds between writing a part and renaming it into place. Only crash tests set it, to kill
        # a crawl while a part is half-committed.
        self.commit_delay = commit_delay
        self.directory = site_dir(data_dir, site)
        _prepare_directory(self.directory)
        self.parts: list[WrittenPart] = []
        self._rows: list[dict] = []

    @property
    def pending(self) -> int:
        return len(self._rows)

    def add(self, row: dict) -> WrittenPart | None:
        """Buffer one row (keys from POST_SCHEMA); returns the part written if the batch filled up.

        A row that does not fit the schema raises ValueError here, so it cannot make the whole
        batch fail to write later.
        """
        _check_row(row)
        self._rows.append(row)
        if len(self._rows) >= self.batch_size:
            return self.flush()
        return None

    def flush(self) -> WrittenPart | None:
        """Write the buffered rows as one part; the rows stay buffered if writing fails."""
        if not self._rows:
            return None
        # The site is the partition directory (site=<name>/), not a column in the file: the Hive
        # convention, which lets pandas, pyarrow and DuckDB read the directory with their defaults.
        table = pa.Table.from_pylist(self._rows, schema=POST_SCHEMA).drop_columns(["site"])
        part = WrittenPart(self._write_atomically(table), table.num_rows)
        self._rows = []
        self.parts.append(part)
        return part

    def close(self) -> WrittenPart | None:
        return self.flush()

    def _write_atomically(self, table: pa.Table) -> Path:
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
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        _fsync_directory(self.directory)  # makes the rename itself survive a power cut
        return final


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


def _fsync_directory(directory: Path) -> None:
    if not hasattr(os, "O_DIRECTORY"):  # Windows cannot open a directory; its rename is durable enough
        return
    descriptor = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def item_to_row(item, default_site: str) -> dict:
    """A PostItem (or dict with its keys) as a POST_SCHEMA row, filling what a spider may leave empty."""
    if isinstance(item, PostItem):
        # Flat, with plain values: skip ItemAdapter's recursive walk, as costly as parsing the page.
        row = {name: getattr(item, name) for name in FIELD_NAMES}
        row["quotes"] = [asdict(q) if is_dataclass(q) else q for q in row["quotes"] or ()]
    else:
        row = ItemAdapter(item).asdict()
    row["site"] = row.get("site") or default_site
    if not row.get("content_hash"):
        row["content_hash"] = content_hash(
            row.get("body_text"), row.get("quotes"), row.get("images"), bool(row.get("is_deleted"))
        )
    if row.get("scraped_at") is None:
        row["scraped_at"] = datetime.now(timezone.utc)
    return row


class ParquetPipeline:
    """Scrapy item pipeline: one ParquetBatchWriter per site, ``miata/parquet/*`` stats."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.data_dir = crawler.settings.get("MIATA_DATA_DIR")
        if not self.data_dir:
            raise DataDirError("MIATA_DATA_DIR is not set: it names the directory the dataset is written to")
        self.batch_size = crawler.settings.getint("MIATA_PARQUET_BATCH_SIZE")
        if self.batch_size < 1:
            raise ValueError(f"MIATA_PARQUET_BATCH_SIZE must be at least 1, got {self.batch_size}")
        self._writers: dict[str, ParquetBatchWriter] = {}

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def open_spider(self) -> None:
        # Fails here, before any request, if MIATA_DATA_DIR cannot take the output.
        self._writer_for(self.crawler.spider.name)

    def _writer_for(self, site: str) -> ParquetBatchWriter:
        if site not in self._writers:
            try:
                self._writers[site] = ParquetBatchWriter(
                    self.data_dir, site, self.batch_size,
                    commit_delay=self.crawler.settings.getfloat("MIATA_PARQUET_COMMIT_DELAY"))
            except DataDirError as error:
                raise DataDirError(f"MIATA_DATA_DIR={self.data_dir!r} is unusable: {error}") from error
        return self._writers[site]

    def process_item(self, item):
        if isinstance(item, ThreadProgress):
            return item  # a crawl-progress marker, not a row: the progress pipeline handles it
        row = item_to_row(item, default_site=self.crawler.spider.name)
        part = self._writer_for(row["site"]).add(row)
        if part is not None:
            self._count(part)
        return item

    def close_spider(self) -> None:
        failure = None
        for writer in self._writers.values():
            try:
                part = writer.close()
            except Exception as error:  # still close the other sites' writers, then report
                logger.error(
                    "parquet: could not write the last %d rows of site %r: %s",
                    writer.pending,
                    writer.site,
                    error,
                )
                failure = failure or error
            else:
                if part is not None:
                    self._count(part)
            for written in writer.parts:
                logger.info("parquet: wrote %s (%d rows)", written.path, written.rows)
        if failure is not None:
            raise failure

    def pending_rows(self) -> int:
        """Rows accepted but not yet in a committed part."""
        return sum(writer.pending for writer in self._writers.values())

    def _count(self, part: WrittenPart) -> None:
        # Tell whoever vouches for written data (the crawl state) that these rows are now durable.
        self.crawler.signals.send_catch_log(part_committed, part=part)
        self.crawler.stats.inc_value("miata/parquet/rows_written", part.rows)
        self.crawler.stats.inc_value("miata/parquet/files_written")
