"""``miata data links`` and ``miata data images``: one row per link or image URL of every post.

    miata data links --out links.parquet
    miata data images --out images.parquet
    miata data images --out images.parquet --download image-store/   # fetch them too (off by default)

Each row is a URL with where it was found: site, source, post, thread, forum, author, date and the
post's URL, and the URL's domain (lower-cased, without ``www.``), from the latest version of each post.
For retrieval these are the metadata of a chunk; for a person, ``miata data stats`` shows the
most-linked domains and pages. The table is written batch by batch to a hidden file and renamed into
place when complete.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from miata_spiders.data.source import DEFAULT_MEMORY_LIMIT

# The host of a URL in DuckDB SQL, as urllib.parse.urlsplit(url).hostname gives it (lower case, no
# user info or port), without a leading "www." so www.example.com and example.com count as one.
DOMAIN_SQL = (r"nullif(regexp_replace(lower(regexp_extract({column}, "
              r"'^[A-Za-z][A-Za-z0-9+.-]*://(?:[^@/?#]*@)?(\[[^\]]*\]|[^:/?#]+)', 1)), '^www\.', ''), '')")
BATCH_ROWS = 64 * 1024


def register(subparsers) -> None:
    for kind, noun in (("links", "link"), ("images", "image")):
        p = subparsers.add_parser(kind, help=f"a Parquet table of every {noun} URL with its post, thread, site, "
                                             f"domain and date", description=__doc__,
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
        p.add_argument("--out", required=True, metavar="FILE.parquet", help="the table to write")
        p.add_argument("--data-dir", help="dataset root (default: setting MIATA_DATA_DIR)")
        p.add_argument("--site", action="append", help="only this site (repeatable; default: every site)")
        p.add_argument("--all-versions", action="store_true",
                       help="every stored version of each post, not only the latest (adds content_hash, scraped_at)")
        p.add_argument("--force", action="store_true", help="overwrite --out (and nothing else)")
        p.add_argument("--memory-limit", default=DEFAULT_MEMORY_LIMIT, metavar="SIZE",
                       help="DuckDB's working memory, e.g. 1GB; the rest spills to a temp dir (default: %(default)s)")
        p.add_argument("--skip-bad", action="store_true", help="skip damaged parts (named on stderr) instead of stopping")
        if kind == "images":
            from miata_spiders.data.downloads import add_download_arguments

            add_download_arguments(p)
        p.set_defaults(func=cmd_url_table, column=kind)


def url_table_sql(column: str, *, all_versions: bool = False) -> str:
    """SELECT of one row per URL in ``column`` ("links" or "images") of each post, in a stable order.

    The latest version is chosen over only the columns the table needs (not ``latest_posts``, whose
    window would carry every post's text and HTML)."""
    needed = f"site, source, post_id, thread_id, thread_title, forum_path, author, posted_at, url, {column}"
    extra = ", content_hash, scraped_at" if all_versions else ""
    versions = (f"SELECT {needed}{extra} FROM posts" if all_versions else
                f"SELECT {needed} FROM posts QUALIFY row_number() OVER "
                f"(PARTITION BY site, post_id ORDER BY scraped_at DESC, content_hash DESC) = 1")
    return f"""
        WITH versions AS ({versions})
        SELECT target AS url, {DOMAIN_SQL.format(column='target')} AS domain, site, source, post_id, thread_id,
               thread_title, array_to_string(forum_path, ' > ') AS forum, author, posted_at, post_url, ordinal{extra}
        FROM (
            SELECT unnest(p.{column}) AS target, generate_subscripts(p.{column}, 1) AS ordinal, p.url AS post_url,
                   p.site, p.source, p.post_id, p.thread_id, p.thread_title, p.forum_path, p.author, p.posted_at{extra}
            FROM versions AS p WHERE len(p.{column}) > 0)
        ORDER BY site, thread_id, posted_at NULLS LAST, post_id, ordinal{', scraped_at' if all_versions else ''}"""


def cmd_url_table(args) -> int:
    from miata_spiders.data.source import (DataError, bound_memory, check_output, connect, find_parts, progress_bar,
                                           resolve_data_dir)

    started = time.perf_counter()
    command = f"miata data {args.column}"
    try:
        out = check_output(Path(args.out), args.force)
        if out.is_dir():
            raise DataError(f"--out {out} is a directory; give a file name like {args.column}.parquet")
        download_dir = getattr(args, "download", None)
        if download_dir:
            from miata_spiders.data.downloads import check_download_dir

            check_download_dir(Path(download_dir))
        parts = find_parts(resolve_data_dir(args.data_dir), args.site, skip_bad=args.skip_bad)
        con = bound_memory(connect(parts), args.memory_limit)
        with progress_bar(desc=args.column, unit=" urls") as bar:
            rows, urls = write_table(con, url_table_sql(args.column, all_versions=args.all_versions), out,
                                     on_batch=bar.update)
    except DataError as exc:
        print(f"{command}: {exc}", file=sys.stderr)
        return 2
    print(f"{args.column}: {rows:,} rows ({urls:,} distinct URLs) from {len(parts.files)} parts -> {out} "
          f"({time.perf_counter() - started:.1f} s)", file=sys.stderr)
    if download_dir:
        from miata_spiders.data.downloads import download_images

        return download_images(out, Path(download_dir), args)
    return 0


def write_table(con, sql: str, out: Path, *, on_batch=lambda rows: None) -> tuple[int, int]:
    """Stream ``sql``'s result into ``out`` (Parquet, zstd) a record batch at a time; returns
    (rows, distinct urls). Written under a hidden name and renamed: ``out`` is never half a table."""
    import pyarrow.parquet as pq

    import pyarrow as pa

    reader = con.sql(sql).to_arrow_reader(BATCH_ROWS)
    # DuckDB hands timestamps back as "Etc/UTC"; the dataset's own spelling is "UTC".
    schema = pa.schema([f.with_type(pa.timestamp(f.type.unit, tz="UTC")) if pa.types.is_timestamp(f.type) and f.type.tz
                        else f for f in reader.schema])
    temporary = out.with_name(f".{out.name}.tmp")
    rows = 0
    try:
        with pq.ParquetWriter(temporary, schema, compression="zstd") as writer:
            for batch in reader:
                writer.write_batch(batch.cast(schema))
                rows += batch.num_rows
                on_batch(batch.num_rows)
        os.replace(temporary, out)
    finally:
        temporary.unlink(missing_ok=True)
    escaped = str(out).replace("'", "''")
    urls = con.execute(f"SELECT count(DISTINCT url) FROM read_parquet('{escaped}')").fetchone()[0]
    return rows, urls
