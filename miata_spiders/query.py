"""``miata query``: SQL over the whole dataset with DuckDB, every site and Reddit as one ``posts`` view."""

from __future__ import annotations

import sys
from pathlib import Path


def add_query_parser(sub) -> None:
    p = sub.add_parser("query", help="run SQL over the dataset (DuckDB); the table is called posts")
    p.add_argument("sql", help='e.g. "SELECT site, count(*) FROM posts GROUP BY site"')
    p.add_argument("--data-dir", help="dataset root (default: setting MIATA_DATA_DIR)")
    p.add_argument("--max-rows", type=int, default=40, help="rows to print (default: %(default)s)")
    p.set_defaults(func=cmd_query)


def posts_view_sql(data_dir: Path) -> str:
    pattern = str(data_dir / "posts" / "*" / "*.parquet").replace("'", "''")
    # union_by_name: parts written before a column existed read back with it null.
    return (f"CREATE VIEW posts AS SELECT * FROM read_parquet('{pattern}', hive_partitioning = true, "
            "hive_types = {'site': VARCHAR}, union_by_name = true)")


def cmd_query(args) -> int:
    import duckdb

    if args.data_dir:
        data_dir = Path(args.data_dir)
    else:
        from scrapy.utils.project import get_project_settings

        data_dir = Path(get_project_settings().get("MIATA_DATA_DIR"))
    if not any((data_dir / "posts").glob("*/*.parquet")):
        print(f"miata query: no Parquet parts under {data_dir / 'posts'} (set --data-dir or MIATA_DATA_DIR)", file=sys.stderr)
        return 2
    con = duckdb.connect()
    con.execute(posts_view_sql(data_dir))
    try:
        con.sql(args.sql).show(max_rows=args.max_rows, max_width=160)
    except duckdb.Error as exc:
        print(f"miata query: {exc}", file=sys.stderr)
        return 1
    return 0
