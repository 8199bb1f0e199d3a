"""``miata data export rag|chat``: the dataset as retrieval chunks or chat fine-tuning conversations.

Both read the latest version of each post, one thread at a time: DuckDB sorts the latest versions by
site, thread and position and hands over record batches, and rows are grouped into threads as they
stream past, so memory holds one batch and one thread, never the dataset. How chunks and conversations
are built, and every knob, is in docs/data.md.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import date, datetime, timezone
from pathlib import Path

from miata_spiders.data.source import DEFAULT_MEMORY_LIMIT, DataError, bound_memory, connect, find_parts, resolve_data_dir

ROWS_PER_BATCH = 8192
THREAD_COLUMNS = ("source", "site", "thread_id", "thread_title", "thread_url", "forum_path", "post_id", "position",
                  "author", "posted_at", "body_text", "quotes", "images", "links", "signature", "url", "permalink",
                  "parent_id", "link_id", "score", "depth", "is_submitter")


def register(subparsers) -> None:
    from miata_spiders.data import chat, rag

    p = subparsers.add_parser("export", help="retrieval chunks (rag) or chat fine-tuning conversations (chat)")
    export_sub = p.add_subparsers(dest="export_command", required=True, metavar="FORMAT")
    rag.register(export_sub)
    chat.register(export_sub)


def add_common_arguments(p) -> None:
    p.add_argument("--data-dir", help="dataset root (default: setting MIATA_DATA_DIR)")
    p.add_argument("--site", action="append", help="only this site (repeatable; default: every site)")
    p.add_argument("--since", type=_date, help="only posts made on or after this date (YYYY-MM-DD, UTC)")
    p.add_argument("--until", type=_date, help="only posts made before this date (YYYY-MM-DD, UTC)")
    p.add_argument("--keep-pii", action="store_true",
                   help="keep e-mail addresses and phone numbers (scrubbed to [email]/[phone] by default)")
    p.add_argument("--skip-bad", action="store_true", help="skip damaged parts (named on stderr) instead of stopping")
    p.add_argument("--force", action="store_true", help="replace the output if it exists")
    p.add_argument("--memory-limit", default=DEFAULT_MEMORY_LIMIT, metavar="SIZE",
                   help="DuckDB's working memory for sorting posts by thread, e.g. 1GB; the rest spills to a "
                        "temp dir (default: %(default)s)")


def _date(text: str) -> datetime:
    import argparse

    try:
        return datetime.combine(date.fromisoformat(text), datetime.min.time(), timezone.utc)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date: {text!r} (YYYY-MM-DD)") from None


def run(command: str, body, args) -> int:
    """Run an export, turning dataset problems into one line on stderr and exit status 2."""
    try:
        return body(args)
    except DataError as exc:
        print(f"miata data export {command}: {exc}", file=sys.stderr)
        return 2


def open_latest(args):
    """(connection, parts) over the dataset named by ``args``, or DataError."""
    data_dir = resolve_data_dir(args.data_dir)
    parts = find_parts(data_dir, args.site, skip_bad=args.skip_bad)
    # Sorting every post by thread is DuckDB's job; bounded, it spills to disk instead of growing with
    # the dataset (DuckDB's default is 80% of RAM).
    con = bound_memory(connect(parts), args.memory_limit)
    # Which version of each post is the latest, chosen over four slim columns (a window over whole rows,
    # bodies and all, does not fit a small memory limit), then joined back to the rows.
    con.execute("CREATE TEMP TABLE latest_keys AS SELECT site, post_id, scraped_at, content_hash FROM posts "
                "QUALIFY row_number() OVER (PARTITION BY site, post_id ORDER BY scraped_at DESC, content_hash DESC) = 1")
    con.execute("CREATE TEMP VIEW export_posts AS SELECT posts.* FROM posts "
                "JOIN latest_keys USING (site, post_id, scraped_at, content_hash)")
    return con, parts


def count_posts(con, where: str, params: list) -> int:
    return con.sql(f"SELECT count(*) FROM export_posts WHERE {where}", params=params).fetchall()[0][0]


def post_filter(args) -> tuple[str, list]:
    """SQL condition (and its parameters) for the posts an export reads: not deleted, with text, in the
    chosen sites and dates."""
    conditions = ["NOT coalesce(is_deleted, false)", "body_text IS NOT NULL"]
    params: list = []
    if args.site:
        conditions.append(f"site IN ({', '.join('?' for _ in args.site)})")
        params.extend(args.site)
    if args.since:
        conditions.append("posted_at >= ?")
        params.append(args.since)
    if args.until:
        conditions.append("posted_at < ?")
        params.append(args.until)
    return " AND ".join(conditions), params


def iter_threads(con, where: str, params: list, columns=THREAD_COLUMNS, on_rows=None) -> Iterator[list[dict]]:
    """The latest posts matching ``where``, one thread (a list of row dicts in thread order) at a time.

    Forum posts are in ``position`` order; Reddit rows (no position) in posting order, the submission first.
    """
    sql = (f"SELECT {', '.join(columns)} FROM export_posts WHERE {where} "
           "ORDER BY site, thread_id, position NULLS LAST, posted_at NULLS FIRST, post_id")
    reader = con.sql(sql, params=params).to_arrow_reader(ROWS_PER_BATCH)
    thread: list[dict] = []
    key = None
    for batch in reader:
        rows = batch.to_pylist()
        if on_rows is not None:
            on_rows(len(rows))
        for row in rows:
            row_key = (row["site"], row["thread_id"])
            if row_key != key:
                if thread:
                    yield thread
                thread, key = [], row_key
            thread.append(row)
    if thread:
        yield thread


def output_path(path: str | Path, force: bool) -> Path:
    path = Path(path)
    if path.exists() and not force:
        raise DataError(f"{path} exists (--force replaces it)")
    return path
