"""``miata query``: the older name of ``miata data sql`` (SQL over the dataset with DuckDB, views
``posts`` and ``latest_posts``); one implementation, in ``miata_spiders.data.sql``."""

from __future__ import annotations


def add_query_parser(sub) -> None:
    from miata_spiders.data.sql import add_sql_arguments, cmd_sql

    p = sub.add_parser("query", help="run SQL over the dataset (DuckDB), views posts and latest_posts "
                                     "(same as `miata data sql`)")
    add_sql_arguments(p)
    p.set_defaults(func=cmd_sql, command_name="miata query")
