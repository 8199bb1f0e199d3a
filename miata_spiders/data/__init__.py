"""``miata data``: from posts to stats, compacted parts, RAG chunks, chat sets, search and link tables.

Every subcommand reads ``--data-dir`` (default: the setting ``MIATA_DATA_DIR``) through
``miata_spiders.data.source``, which names a missing directory, an unknown site or a corrupt part
instead of failing deep inside DuckDB or pyarrow. Each subcommand lives in its own module and
registers itself here.
"""

from __future__ import annotations

import importlib

# Module name -> its ``register(subparsers)``; one module per subcommand (or pair of subcommands).
SUBCOMMAND_MODULES = (
    "sql",
    "stats",
    "compact",
    "export",
    "search",
    "links",
)


def add_data_parser(sub) -> None:
    p = sub.add_parser("data", help="stats, compaction, RAG/chat exports, search and link tables over the dataset")
    data_sub = p.add_subparsers(dest="data_command", required=True, metavar="SUBCOMMAND")
    for name in SUBCOMMAND_MODULES:
        try:
            module = importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:
            # Only a subcommand module not written yet is skipped; a missing dependency inside one is an error.
            if exc.name != f"{__name__}.{name}":
                raise
            continue
        module.register(data_sub)
