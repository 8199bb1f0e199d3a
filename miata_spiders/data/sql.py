"""``miata data sql`` (also ``miata query``): SQL over the dataset with DuckDB.

    miata data sql "SELECT site, count(*) FROM latest_posts GROUP BY site"
    miata data sql "SELECT * FROM latest_posts WHERE body_text ILIKE '%boost leak%'" --out leaks.parquet

Two views: ``posts`` (every stored version of every post, as in the Parquet parts) and
``latest_posts`` (one row per post: the version scraped last). The result is printed as a table, or
with ``--out`` streamed by DuckDB into a Parquet, CSV or JSON-lines file (chosen by its extension),
written under a hidden name and renamed into place when complete.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

OUT_FORMATS = {".parquet": "FORMAT parquet, COMPRESSION zstd", ".csv": "FORMAT csv, HEADER true",
               ".jsonl": "FORMAT json", ".json": "FORMAT json"}


def register(subparsers) -> None:
    p = subparsers.add_parser("sql", help="run SQL over the dataset (DuckDB): views posts and latest_posts",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_sql_arguments(p)
    p.set_defaults(func=cmd_sql, command_name="miata data sql")


def add_sql_arguments(p) -> None:
    p.add_argument("sql", help='e.g. "SELECT site, count(*) FROM latest_posts GROUP BY site"')
    p.add_argument("--data-dir", help="dataset root (default: setting MIATA_DATA_DIR)")
    p.add_argument("--max-rows", type=int, default=40, help="rows to print (default: %(default)s)")
    p.add_argument("--site", action="append", help="only this site's parts in the views (repeatable)")
    p.add_argument("--out", metavar="FILE", help="write the whole result to FILE (.parquet, .csv or .jsonl) "
                                                 "instead of printing it")
    p.add_argument("--force", action="store_true", help="overwrite --out")
    p.add_argument("--skip-bad", action="store_true", help="skip damaged parts (named on stderr) instead of stopping")


def cmd_sql(args) -> int:
    import duckdb

    from miata_spiders.data.source import DataError, check_output, connect, find_parts, resolve_data_dir

    command = getattr(args, "command_name", "miata data sql")
    started = time.perf_counter()
    try:
        out = None
        if args.out:
            out = check_output(Path(args.out), args.force)
            if out.suffix.lower() not in OUT_FORMATS:
                raise DataError(f"--out {out.name}: give a file ending in {', '.join(OUT_FORMATS)}")
        parts = find_parts(resolve_data_dir(args.data_dir), args.site, skip_bad=args.skip_bad)
    except DataError as exc:
        print(f"{command}: {exc}", file=sys.stderr)
        return 2
    con = connect(parts)
    try:
        if out is None:
            con.sql(args.sql).show(max_rows=args.max_rows, max_width=160)
            return 0
        rows = copy_to(con, args.sql, out)
    except duckdb.Error as exc:
        print(f"{command}: {exc}", file=sys.stderr)
        return 1
    print(f"sql: {rows:,} rows -> {out} ({time.perf_counter() - started:.1f} s)", file=sys.stderr)
    return 0


def copy_to(con, sql: str, out: Path) -> int:
    """DuckDB's COPY streams the result into ``out`` (never all of it in memory); returns the row count."""
    temporary = out.with_name(f".{out.name}.tmp")
    escaped = str(temporary).replace("'", "''")
    query = sql.strip().rstrip(";")
    try:
        rows = con.execute(f"COPY ({query}) TO '{escaped}' ({OUT_FORMATS[out.suffix.lower()]})").fetchone()[0]
        os.replace(temporary, out)
    finally:
        temporary.unlink(missing_ok=True)
    return rows
