"""Search index build time, size and query latency: tantivy (what ``miata data search`` uses) against
SQLite FTS5, on the same latest-version posts.

    python bench/make_big_dataset.py --posts 1000000 --out /tmp/miata-bench/big1m
    python bench/bench_data_search.py /tmp/miata-bench/big1m

tantivy is measured through the command's own code (``miata_spiders.data.search.refresh``, building
``DATA_DIR/index/`` from scratch, then a refresh with nothing new; ``search.search`` with its snippets).
FTS5, the standard-library alternative, indexes the same rows into a scratch file: an external-content
FTS5 table (porter stemming, body stored once, as tantivy stores it), queried the fast way (ORDER BY
rank LIMIT 10, snippets for those 10 only). Both answer the same queries, all words required, top 10;
latency is per query after one warm-up run, over QUERY_ROUNDS rounds.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

QUERIES = ["boost creep", "wastegate", "head gasket", "coilovers alignment", "clutch", "turbo kit install",
           "idle rough", "megasquirt tune", "brake pads", "water pump", "oil pressure", "intercooler piping",
           "hardtop", "timing belt", "spark plugs gap", "flyin miata", "torsen diff", "afr under load",
           "garage star", "rust rocker"]
QUERY_ROUNDS = 5


def latencies(run_query) -> dict:
    times = []
    hits = 0
    for query in QUERIES:
        hits += len(run_query(query))  # warm-up, and the hit count
        for _ in range(QUERY_ROUNDS):
            started = time.perf_counter()
            run_query(query)
            times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return {"p50_ms": round(statistics.median(times), 2), "p95_ms": round(times[int(len(times) * 0.95) - 1], 2),
            "max_ms": round(times[-1], 2), "hits_top10": hits}


def bench_tantivy_command(data_dir: Path) -> dict:
    from miata_spiders.data import search

    started = time.monotonic()
    built = search.refresh(data_dir, rebuild=True)
    build_s = time.monotonic() - started
    started = time.monotonic()
    search.refresh(data_dir)
    noop_s = time.monotonic() - started
    return {"posts": built.posts, "build_s": round(build_s, 1), "refresh_nothing_new_s": round(noop_s, 2),
            "size_mb": round(built.size / 1024**2), **latencies(lambda q: search.search(data_dir, q, limit=10))}


def bench_fts5(data_dir: Path) -> dict:
    import sqlite3

    from miata_spiders.data.source import connect, find_parts

    directory = Path(tempfile.mkdtemp(prefix="miata-fts5-"))
    try:
        db = sqlite3.connect(directory / "fts.sqlite3")
        db.executescript("""
            CREATE TABLE docs (id INTEGER PRIMARY KEY, site TEXT, post_id TEXT, author TEXT, posted_at TEXT, url TEXT,
                               thread_title TEXT, body TEXT);
            CREATE VIRTUAL TABLE docs_fts USING fts5(thread_title, body, content = 'docs', content_rowid = 'id',
                                                     tokenize = 'porter unicode61 remove_diacritics 2');
            INSERT INTO docs_fts (docs_fts, rank) VALUES ('rank', 'bm25(0.5, 1.0)');
        """)
        con = connect(find_parts(data_dir))
        started = time.monotonic()
        reader = con.sql("SELECT site, post_id, author, CAST(posted_at AS VARCHAR), url, thread_title, "
                         "CASE WHEN coalesce(is_deleted, false) THEN '' ELSE coalesce(body_text, '') END "
                         "FROM latest_posts").to_arrow_reader(8192)
        posts = 0
        with db:
            for batch in reader:
                columns = [batch.column(i).to_pylist() for i in range(batch.num_columns)]
                db.executemany("INSERT INTO docs (site, post_id, author, posted_at, url, thread_title, body) "
                               "VALUES (?, ?, ?, ?, ?, ?, ?)", zip(*columns))
                posts += batch.num_rows
            db.execute("INSERT INTO docs_fts (docs_fts) VALUES ('rebuild')")
        db.execute("INSERT INTO docs_fts (docs_fts) VALUES ('optimize')")
        db.commit()
        build_s = time.monotonic() - started

        def run(query: str):
            match = " ".join(f'"{w}"' for w in query.split())
            top = db.execute("SELECT rowid FROM docs_fts WHERE docs_fts MATCH ? ORDER BY rank LIMIT 10", [match]).fetchall()
            return [db.execute("SELECT d.post_id, snippet(docs_fts, 1, '[', ']', ' ... ', 24) FROM docs_fts "
                               "JOIN docs d ON d.id = docs_fts.rowid WHERE docs_fts MATCH ? AND docs_fts.rowid = ?",
                               [match, rowid]).fetchone() for (rowid,) in top]

        size = (directory / "fts.sqlite3").stat().st_size
        return {"posts": posts, "build_s": round(build_s, 1), "size_mb": round(size / 1024**2), **latencies(run)}
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data_dir", type=Path, help="a dataset, e.g. made by bench/make_big_dataset.py "
                                                    "(its index/ directory is rebuilt)")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    results = {"tantivy (miata data index/search)": bench_tantivy_command(args.data_dir),
               "sqlite fts5": bench_fts5(args.data_dir)}
    print("| engine | posts | build | index size | query p50 | p95 | max |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, r in results.items():
        if r:
            print(f"| {name} | {r['posts']:,} | {r['build_s']} s | {r['size_mb']} MB | {r['p50_ms']} ms | "
                  f"{r['p95_ms']} ms | {r['max_ms']} ms |")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
