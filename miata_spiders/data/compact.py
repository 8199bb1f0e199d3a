"""``miata data compact``: rewrite a site's many small parts as a few large ones, atomically.

A crawl writes a part every ``MIATA_PARQUET_BATCH_SIZE`` rows or flush period, so a site collected over
months is thousands of small files. Compaction rewrites them (every version, or with ``--latest`` only
the latest version of each post) into files of about ``--target-size``, sorted by thread and position.

The swap protocol (docs/data.md, "Compaction"): under the site's lock (pipelines/lock.py, so no crawl,
reparse or Reddit run writes meanwhile)

1. the new parts are written into a staging directory ``DATA_DIR/.compact/<site>-<token>/site=<site>/``
   (outside ``posts/``: no reader, glob or dedupe load ever lists it), each one fsync'd, then the
   directory;
2. they are verified against the old set: row count, and the multiset of (site, post_id, content_hash)
   equal to that of every old row (or of the latest versions, with ``--latest``);
3. the staging directory and ``posts/site=<site>/`` are exchanged in one ``renameat2(RENAME_EXCHANGE)``
   call: a reader listing the site sees the old set or the new set, never both and never neither;
4. the old set (now in the staging directory) is deleted.

A crash before 3 leaves the old set; after 3, the new set; either way the next ``compact`` deletes the
leftover staging directory. Where the filesystem cannot exchange two directories, two renames are used
with a journal, and the next ``compact`` finishes a swap that a crash cut between them (see
``_recover``); the docs say so.
"""

from __future__ import annotations

import ctypes
import errno
import json
import os
import re
import shutil
import signal
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from miata_spiders.data.source import (DataError, bound_memory, known_sites, part_problem, progress_bar,
                                      resolve_data_dir, site_parts)
from pipelines.dataset import posts_dir, site_dir
from pipelines.parquet import COMPRESSION, COMPRESSION_LEVEL, DICTIONARY_COLUMNS, _fsync_directory
from pipelines.schema import POST_SCHEMA

STAGING_DIR_NAME = ".compact"
JOURNAL_NAME = "compact.json"
# Parts on disk carry no site column: the site is the partition directory (pipelines/parquet.py).
PART_SCHEMA = pa.schema([f for f in POST_SCHEMA if f.name != "site"])
# A test (or an operator rehearsing a power cut) names a point of the swap: the process kills itself
# there with SIGKILL, exactly as a crash would, leaving whatever is on disk at that moment.
CRASH_POINT_ENV = "MIATA_COMPACT_CRASH_AT"
CRASH_POINTS = ("written", "verified", "old-moved-aside", "swapped")
DEFAULT_TARGET_SIZE = 256 * 1024**2
ROWS_PER_BATCH = 65_536  # one Parquet row group each: a few tens of MB of posts in memory at most
_SIZE = re.compile(r"(?i)\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*")


def parse_size(text: str) -> int:
    """'256MB', '1g', '500k', '1048576' -> bytes (binary multiples)."""
    match = _SIZE.fullmatch(text)
    if not match:
        raise ValueError(f"not a size: {text!r} (e.g. 256MB, 1GB)")
    number, unit = match.groups()
    size = int(float(number) * 1024 ** "_kmgt".index(unit.lower() or "_"))
    if size < 1:
        raise ValueError(f"size must be positive: {text!r}")
    return size


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "compact", help="rewrite a site's parts as a few large files (every version, or --latest), atomically",
        description=__doc__.split("\n\n")[1])
    p.add_argument("--data-dir", help="dataset root (default: setting MIATA_DATA_DIR)")
    p.add_argument("--site", action="append", help="site to compact (repeatable; default: every site)")
    p.add_argument("--latest", action="store_true",
                   help="keep only the latest version of each post (older versions of edited posts are dropped)")
    p.add_argument("--target-size", type=_size_arg, default=DEFAULT_TARGET_SIZE, metavar="SIZE",
                   help="size of each new file, e.g. 128MB, 1GB (default: 256MB)")
    p.set_defaults(func=cmd_compact)


def _size_arg(text: str) -> int:
    import argparse

    try:
        return parse_size(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def cmd_compact(args) -> int:
    from miata_spiders.errors import SiteLockedError

    data_dir = resolve_data_dir(args.data_dir)
    try:
        if not posts_dir(data_dir).is_dir():
            raise DataError(f"no dataset at {data_dir}: {posts_dir(data_dir)} does not exist "
                            "(set --data-dir or MIATA_DATA_DIR)")
        recover_interrupted(data_dir)
        sites = args.site or known_sites(data_dir)
        available = known_sites(data_dir)
        for site in sites:
            if site not in available:
                raise DataError(f"unknown site {site!r} in {data_dir}; sites there: {', '.join(available) or 'none'}")
        if not sites:
            raise DataError(f"no sites under {posts_dir(data_dir)}")
        for site in sites:
            result = compact_site(data_dir, site, latest=args.latest, target_size=args.target_size)
            print(result.summary())
    except (DataError, SiteLockedError) as exc:
        print(f"miata data compact: {exc}", file=sys.stderr)
        return 2
    return 0


@dataclass
class CompactResult:
    site: str
    old_parts: int
    old_bytes: int
    new_parts: int
    new_bytes: int
    rows_before: int
    rows_after: int
    latest: bool
    seconds: float
    skipped: str | None = None

    def summary(self) -> str:
        if self.skipped:
            return f"compact {self.site}: {self.skipped}"
        mode = "latest versions only" if self.latest else "every version"
        return (f"compact {self.site}: {self.old_parts} parts ({_mb(self.old_bytes)}) -> {self.new_parts} "
                f"({_mb(self.new_bytes)}), {self.rows_before} rows -> {self.rows_after} ({mode}), "
                f"verified, {self.seconds:.1f}s")


def _mb(n: int) -> str:
    return f"{n / 1024**2:.1f} MB"


def compact_site(data_dir: Path, site: str, *, latest: bool = False,
                 target_size: int = DEFAULT_TARGET_SIZE) -> CompactResult:
    from pipelines.lock import SiteLock

    started = time.monotonic()
    with SiteLock(data_dir, site):
        _recover(data_dir, site)
        live = site_dir(data_dir, site)
        old = site_parts(data_dir, site)
        damaged = [(p, problem) for p in old if (problem := part_problem(p))]
        if damaged:
            path, problem = damaged[0]
            raise DataError(f"damaged part {path}: {problem}; compact rewrites only sound parts "
                            "(move it out of the dataset first)")
        old_bytes = sum(p.stat().st_size for p in old)
        if not old:
            return CompactResult(site, 0, 0, 0, 0, 0, 0, latest, 0.0, skipped="no parts, nothing to do")
        if len(old) == 1 and not latest:
            rows = pq.ParquetFile(old[0]).metadata.num_rows
            return CompactResult(site, 1, old_bytes, 1, old_bytes, rows, rows, latest, 0.0,
                                 skipped="already one part, nothing to do")

        staging = posts_dir(data_dir).parent / STAGING_DIR_NAME / f"{site}-{uuid.uuid4().hex[:12]}"
        new_dir = staging / live.name
        new_dir.mkdir(parents=True)
        journal = Journal(staging / JOURNAL_NAME, site, [p.name for p in old])
        journal.write("writing")
        try:
            new_parts, rows_before, rows_after = _write_new_parts(old, new_dir, latest, target_size, site)
            new_bytes = sum(p.stat().st_size for p in new_parts)
            _fsync_directory(new_dir)
            _crash_point("written")
            _verify(old, new_parts, latest, site)
            # Files a person put next to the parts (not parts, not a writer's temporaries) move with them.
            for extra in live.iterdir():
                if extra.is_file() and not extra.name.startswith((".", "_")) and not extra.name.endswith(".parquet"):
                    os.link(extra, new_dir / extra.name)
            _fsync_directory(new_dir)
            journal.write("verified", new=[p.name for p in new_parts])
            _crash_point("verified")
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)  # the old set was never touched
            _remove_empty(staging.parent)
            raise
        _swap(live, new_dir, journal)
        _crash_point("swapped")
        shutil.rmtree(staging, ignore_errors=True)  # the old set; a crash here leaves it for the next run
        _remove_empty(staging.parent)
        return CompactResult(site, len(old), old_bytes, len(new_parts), new_bytes, rows_before, rows_after, latest,
                             time.monotonic() - started)


class Journal:
    """What a compaction is doing, beside its staging directory, so a later run can finish or undo it."""

    def __init__(self, path: Path, site: str, old: list[str]):
        self.path, self.site, self.old, self.new = path, site, old, []

    def write(self, phase: str, new: list[str] | None = None) -> None:
        if new is not None:
            self.new = new
        temporary = self.path.with_name(f".{self.path.name}.tmp")
        with open(temporary, "w", encoding="utf-8") as file:
            json.dump({"site": self.site, "phase": phase, "old": self.old, "new": self.new,
                       "at": datetime.now(timezone.utc).isoformat(timespec="seconds")}, file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, self.path)
        _fsync_directory(self.path.parent)


def _write_new_parts(old: list[Path], new_dir: Path, latest: bool, target_size: int,
                     site: str) -> tuple[list[Path], int, int]:
    """Stream the old parts through DuckDB, sorted by thread and position, into files of ~target_size."""
    con, columns = _old_relation(old)
    rows_before = con.execute("SELECT count(*) FROM old").fetchall()[0][0]
    select = ", ".join(f"old.{c}" if " " not in c else c for c in columns)
    source = "old"
    if latest:
        # The latest version is chosen over three slim columns, then joined back: a window over whole
        # rows (bodies and all) does not fit DuckDB's bounded memory.
        con.execute("CREATE TEMP TABLE latest_keys AS SELECT post_id, scraped_at, content_hash FROM old "
                    "QUALIFY row_number() OVER (PARTITION BY post_id ORDER BY scraped_at DESC, content_hash DESC) = 1")
        source = "old JOIN latest_keys USING (post_id, scraped_at, content_hash)"
    reader = con.sql(f"SELECT {select} FROM {source} "
                     "ORDER BY old.thread_id, old.position NULLS LAST, old.post_id, old.scraped_at"
                     ).to_arrow_reader(ROWS_PER_BATCH)
    written: list[Path] = []
    writer = file = temporary = None
    rows_after = 0
    bar = progress_bar(total=rows_before, unit="row", desc=f"compact {site}")

    def finish() -> None:
        writer.close()
        file.flush()
        os.fsync(file.fileno())
        file.close()
        final = temporary.with_name(temporary.name.removeprefix(".").removesuffix(".tmp"))
        os.replace(temporary, final)
        written.append(final)

    try:
        for batch in reader:
            table = pa.Table.from_batches([batch]).cast(PART_SCHEMA)
            if writer is None:
                stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
                temporary = new_dir / f".part-{stamp}-{uuid.uuid4().hex}.parquet.tmp"
                file = open(temporary, "wb")
                writer = pq.ParquetWriter(file, PART_SCHEMA, compression=COMPRESSION,
                                          compression_level=COMPRESSION_LEVEL, use_dictionary=DICTIONARY_COLUMNS)
            writer.write_table(table, row_group_size=ROWS_PER_BATCH)
            rows_after += table.num_rows
            bar.update(table.num_rows)
            if file.tell() >= target_size:
                finish()
                writer = None
        if writer is not None:
            finish()
    finally:
        bar.close()
        if file is not None and not file.closed:
            file.close()
    return written, rows_before, rows_after


def _old_relation(files: list[Path]):
    """A DuckDB connection with view ``old`` over ``files`` and the select list giving PART_SCHEMA's
    columns (null for a column no file has yet: parts written before it existed)."""
    import duckdb

    con = bound_memory(duckdb.connect())
    listing = ", ".join("'" + str(p).replace("'", "''") + "'" for p in files)
    con.execute(f"CREATE VIEW old AS SELECT * FROM read_parquet([{listing}], hive_partitioning = false, "
                "union_by_name = true)")
    present = {row[0] for row in con.execute("DESCRIBE old").fetchall()}
    columns = [name if name in present else f"NULL AS {name}" for name in PART_SCHEMA.names]
    return con, columns


def _verify(old: list[Path], new: list[Path], latest: bool, site: str) -> None:
    """The new files hold exactly the rows they must: same count, same multiset of
    (site, post_id, content_hash). Raises DataError (and the old set stays) otherwise."""
    import duckdb

    con = bound_memory(duckdb.connect())

    def view(name: str, files: list[Path]) -> None:
        listing = ", ".join("'" + str(p).replace("'", "''") + "'" for p in files)
        con.execute(f"CREATE VIEW {name} AS SELECT '{site}' AS site, post_id, content_hash, scraped_at "
                    f"FROM read_parquet([{listing}], hive_partitioning = false, union_by_name = true)")

    view("old_rows", old)
    if not new:
        raise DataError(f"compact {site}: no new parts were written; the old set is kept")
    view("new_rows", new)
    expected = ("(SELECT site, post_id, content_hash FROM old_rows QUALIFY row_number() OVER "
                "(PARTITION BY post_id ORDER BY scraped_at DESC, content_hash DESC) = 1)") if latest else \
        "(SELECT site, post_id, content_hash FROM old_rows)"
    want = con.execute(f"SELECT count(*) FROM {expected}").fetchall()[0][0]
    got = con.execute("SELECT count(*) FROM new_rows").fetchall()[0][0]
    if want != got:
        raise DataError(f"compact {site}: the new parts hold {got} rows, expected {want}; the old set is kept")
    missing, extra = con.execute(
        f"SELECT (SELECT count(*) FROM ({expected} EXCEPT ALL SELECT site, post_id, content_hash FROM new_rows)), "
        f"(SELECT count(*) FROM (SELECT site, post_id, content_hash FROM new_rows EXCEPT ALL {expected}))").fetchall()[0]
    if missing or extra:
        raise DataError(f"compact {site}: the new parts differ from the old set ({missing} (site, post_id, "
                        f"content_hash) rows missing, {extra} unexpected); the old set is kept")


# --- the swap -------------------------------------------------------------------------------------

_RENAME_EXCHANGE = 2  # linux/fs.h
_AT_FDCWD = -100


def exchange(a: Path, b: Path) -> None:
    """Atomically swap two paths (Linux renameat2 RENAME_EXCHANGE). OSError(ENOSYS/EINVAL/...) where the
    platform or filesystem cannot."""
    if not sys.platform.startswith("linux"):
        raise OSError(errno.ENOSYS, "renameat2 is Linux only")
    libc = ctypes.CDLL(None, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        raise OSError(errno.ENOSYS, "this C library has no renameat2")
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) != 0:
        code = ctypes.get_errno()
        raise OSError(code, os.strerror(code), str(a), None, str(b))


def _swap(live: Path, new_dir: Path, journal: Journal) -> None:
    try:
        exchange(live, new_dir)
    except OSError as exc:
        if exc.errno not in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
            raise
        # No atomic exchange here: move the old set aside, then the new one in. The journal lets the next
        # run put the new set in place if a crash falls between the two renames.
        journal.write("swapping")
        aside = new_dir.with_name("old-" + live.name)
        os.replace(live, aside)
        _crash_point("old-moved-aside")
        os.replace(new_dir, live)
    _fsync_directory(live.parent)
    _fsync_directory(new_dir.parent)
    journal.write("swapped")


def recover_interrupted(data_dir: Path) -> None:
    """Finish or clean up every interrupted compaction under ``data_dir`` (each under its site's lock)."""
    from pipelines.lock import SiteLock

    root = posts_dir(data_dir).parent / STAGING_DIR_NAME
    sites = set()
    for staging in root.glob("*-*") if root.is_dir() else ():
        try:
            sites.add(json.loads((staging / JOURNAL_NAME).read_text(encoding="utf-8"))["site"])
        except (OSError, ValueError, KeyError):
            sites.add(staging.name.rsplit("-", 1)[0])
    for site in sorted(sites):
        with SiteLock(data_dir, site):
            _recover(data_dir, site)


def _recover(data_dir: Path, site: str) -> None:
    """Clean up after a compaction of ``site`` that did not finish (called under the site lock).

    With the atomic exchange every leftover staging directory is garbage: either the swap did not happen
    (it holds the unused new set) or it did (it holds the old set). Only a two-rename swap cut between its
    renames needs finishing: ``posts/site=<site>`` is then missing and the verified new set is staged.
    """
    root = posts_dir(data_dir).parent / STAGING_DIR_NAME
    if not root.is_dir():
        return
    live = site_dir(data_dir, site)
    for staging in sorted(root.glob(f"{site}-*")):
        try:
            state = json.loads((staging / JOURNAL_NAME).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            state = {}
        if state.get("site") not in (None, site):
            continue  # another site whose name shares this prefix
        staged = staging / live.name
        if not live.exists() and state.get("phase") == "swapping" and staged.is_dir():
            os.replace(staged, live)
            _fsync_directory(live.parent)
            print(f"compact {site}: finished an interrupted swap: the verified compacted parts are in place",
                  file=sys.stderr)
        shutil.rmtree(staging, ignore_errors=True)
    _remove_empty(root)


def _remove_empty(directory: Path) -> None:
    try:
        directory.rmdir()
    except OSError:
        pass  # not empty (another site's compaction) or already gone


def _crash_point(name: str) -> None:
    if os.environ.get(CRASH_POINT_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)
