"""``miata data search`` and ``miata data index``: BM25 full-text search over the latest version of every post.

The index is SQLite FTS5 (the standard library's sqlite3; no server, no model), chosen over tantivy by
the measurement in docs/benchmarks.md. It lives at ``DATA_DIR/index/search.sqlite3`` and is refreshed
incrementally: it records which parts it has read (path, size, modification time) and reads only new
ones. A post's row is replaced when a newer version arrives (later ``scraped_at``, the order
``latest_posts`` uses), so the index always holds the latest version, even after ``compact`` rewrote
the parts (the rewritten parts are read again, and their rows, no newer than what is indexed, change
nothing).
"""

from __future__ import annotations

import json
import re
import sqlite3
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from miata_spiders.data.source import DataError, find_parts, progress_bar, resolve_data_dir

INDEX_DIR_NAME = "index"
INDEX_FILE_NAME = "search.sqlite3"
ROWS_PER_BATCH = 8192
# bm25() column weights: (thread_title, body). The title is shared by every post of a thread, so it
# counts for half: a post that says the words beats one that only sits under a title that does.
BM25_WEIGHTS = (0.5, 1.0)
SCHEMA_SQL = """
CREATE TABLE IF NOT EXISTS parts (path TEXT PRIMARY KEY, size INTEGER, mtime_ns INTEGER, rows INTEGER);
CREATE TABLE IF NOT EXISTS docs (
    id INTEGER PRIMARY KEY, site TEXT NOT NULL, post_id TEXT NOT NULL, scraped_at TEXT NOT NULL,
    content_hash TEXT NOT NULL, thread_id TEXT, thread_title TEXT, author TEXT, posted_at TEXT, url TEXT, body TEXT,
    UNIQUE (site, post_id));
CREATE VIRTUAL TABLE IF NOT EXISTS docs_fts USING fts5(
    thread_title, body, content = 'docs', content_rowid = 'id', tokenize = 'porter unicode61 remove_diacritics 2');
CREATE TRIGGER IF NOT EXISTS docs_ai AFTER INSERT ON docs BEGIN
    INSERT INTO docs_fts (rowid, thread_title, body) VALUES (new.id, new.thread_title, new.body);
END;
CREATE TRIGGER IF NOT EXISTS docs_au AFTER UPDATE ON docs BEGIN
    INSERT INTO docs_fts (docs_fts, rowid, thread_title, body) VALUES ('delete', old.id, old.thread_title, old.body);
    INSERT INTO docs_fts (rowid, thread_title, body) VALUES (new.id, new.thread_title, new.body);
END;
"""
# A newer version replaces the stored one; an older or the same one (a part read again after compact) does not.
UPSERT_SQL = """
INSERT INTO docs (site, post_id, scraped_at, content_hash, thread_id, thread_title, author, posted_at, url, body)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (site, post_id) DO UPDATE SET
    scraped_at = excluded.scraped_at, content_hash = excluded.content_hash, thread_id = excluded.thread_id,
    thread_title = excluded.thread_title, author = excluded.author, posted_at = excluded.posted_at,
    url = excluded.url, body = excluded.body
WHERE (excluded.scraped_at, excluded.content_hash) > (docs.scraped_at, docs.content_hash)
"""


def index_path(data_dir: Path) -> Path:
    return Path(data_dir) / INDEX_DIR_NAME / INDEX_FILE_NAME


def register(subparsers) -> None:
    p = subparsers.add_parser("search", help="BM25 full-text search over the latest version of every post",
                              description=__doc__.split("\n\n")[0])
    p.add_argument("query", help='words to look for, e.g. "boost creep wastegate"')
    p.add_argument("--data-dir", help="dataset root (default: setting MIATA_DATA_DIR)")
    p.add_argument("--site", action="append", help="only this site (repeatable)")
    p.add_argument("--limit", type=int, default=10, help="posts to show (default: %(default)s)")
    p.add_argument("--any", action="store_true", help="posts with any of the words (default: all of them)")
    p.add_argument("--json", action="store_true", help="one JSON object a line instead of the listing")
    p.add_argument("--no-refresh", action="store_true", help="search the index as it is, without reading new parts")
    p.add_argument("--skip-bad", action="store_true", help="index around damaged parts instead of stopping")
    p.set_defaults(func=cmd_search)

    p = subparsers.add_parser("index", help="build or refresh the search index (reads only parts not indexed yet)")
    p.add_argument("--data-dir", help="dataset root (default: setting MIATA_DATA_DIR)")
    p.add_argument("--rebuild", action="store_true", help="start the index over")
    p.add_argument("--skip-bad", action="store_true", help="index around damaged parts instead of stopping")
    p.set_defaults(func=cmd_index)


@dataclass
class Refresh:
    new_parts: int
    gone_parts: int
    rows: int
    posts: int
    seconds: float
    size: int

    def summary(self, path: Path) -> str:
        if not self.new_parts and not self.gone_parts:
            return f"index: up to date, {self.posts} posts, {self.size / 1024**2:.1f} MB ({path})"
        return (f"index: read {self.new_parts} new parts ({self.rows} rows), forgot {self.gone_parts} gone, "
                f"{self.posts} posts indexed, {self.size / 1024**2:.1f} MB, {self.seconds:.1f}s ({path})")


def open_index(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path)
    con.executescript(SCHEMA_SQL)
    return con


def refresh(data_dir: Path, *, rebuild: bool = False, skip_bad: bool = False) -> Refresh:
    """Bring the index up to date with the dataset's parts: read the new ones, forget the gone ones."""
    started = time.monotonic()
    parts = find_parts(data_dir, skip_bad=skip_bad)
    path = index_path(data_dir)
    if rebuild and path.exists():
        path.unlink()
    con = open_index(path)
    try:
        known = {row[0]: (row[1], row[2]) for row in con.execute("SELECT path, size, mtime_ns FROM parts")}
        current = {}
        for part in parts.files:
            stat = part.stat()
            current[str(part.resolve())] = (part, stat.st_size, stat.st_mtime_ns)
        new = [(key, *value) for key, value in current.items() if known.get(key) != value[1:]]
        gone = [key for key in known if key not in current]
        rows = _read_parts(con, [p for _, p, _, _ in new]) if new else 0
        with con:
            con.executemany("DELETE FROM parts WHERE path = ?", [(key,) for key in gone])
            con.executemany("INSERT OR REPLACE INTO parts VALUES (?, ?, ?, NULL)",
                            [(key, size, mtime) for key, _, size, mtime in new])
        posts = con.execute("SELECT count(*) FROM docs").fetchone()[0]
        if new:
            con.execute("INSERT INTO docs_fts (docs_fts) VALUES ('optimize')")
            con.commit()
    finally:
        con.close()
    return Refresh(len(new), len(gone), rows, posts, time.monotonic() - started, path.stat().st_size)


def _read_parts(con: sqlite3.Connection, files: list[Path]) -> int:
    """Upsert the latest version of each post found in ``files``; returns the rows read."""
    import duckdb

    duck = duckdb.connect()
    listing = ", ".join("'" + str(p).replace("'", "''") + "'" for p in files)
    duck.execute(f"CREATE VIEW new_rows AS SELECT * FROM read_parquet([{listing}], hive_partitioning = true, "
                 "hive_types = {'site': VARCHAR}, union_by_name = true)")
    total = duck.sql("SELECT count(*) FROM new_rows").fetchall()[0][0]
    url = ("coalesce(url, CASE WHEN permalink IS NOT NULL THEN 'https://www.reddit.com' || permalink END, thread_url)"
           if "permalink" in {r[0] for r in duck.sql("DESCRIBE new_rows").fetchall()} else "coalesce(url, thread_url)")
    reader = duck.sql(
        "SELECT site, post_id, strftime(scraped_at AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S.%f') AS scraped_at, "
        "content_hash, thread_id, thread_title, author, "
        "strftime(posted_at AT TIME ZONE 'UTC', '%Y-%m-%d %H:%M') AS posted_at, "
        f"{url} AS url, CASE WHEN coalesce(is_deleted, false) THEN '' ELSE coalesce(body_text, '') END AS body "
        "FROM new_rows QUALIFY row_number() OVER (PARTITION BY site, post_id ORDER BY scraped_at DESC, "
        "content_hash DESC) = 1").to_arrow_reader(ROWS_PER_BATCH)
    bar = progress_bar(total=total, unit="row", desc="index")
    try:
        with con:
            for batch in reader:
                columns = [batch.column(i).to_pylist() for i in range(batch.num_columns)]
                con.executemany(UPSERT_SQL, zip(*columns))
                bar.update(batch.num_rows)
    finally:
        bar.close()
    return total


def fts_query(text: str, any_word: bool = False) -> str:
    """The user's words as an FTS5 query: each one quoted (no FTS syntax errors from "-", ":" or "*")."""
    words = re.findall(r"\w+", text, re.UNICODE)
    if not words:
        raise DataError(f"nothing to search for in {text!r}")
    return (" OR " if any_word else " ").join(f'"{w}"' for w in words)


def search(data_dir: Path, query: str, *, limit: int = 10, sites: list[str] | None = None,
           any_word: bool = False) -> list[dict]:
    path = index_path(data_dir)
    if not path.exists():
        raise DataError(f"no search index at {path} (run `miata data index`)")
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        site_sql = f"AND docs.site IN ({', '.join('?' for _ in sites)})" if sites else ""
        rows = con.execute(
            "SELECT docs.site, docs.post_id, docs.thread_id, docs.thread_title, docs.author, docs.posted_at, docs.url, "
            f"snippet(docs_fts, 1, '[', ']', ' ... ', 24), -bm25(docs_fts, {BM25_WEIGHTS[0]}, {BM25_WEIGHTS[1]}) AS score "
            "FROM docs_fts JOIN docs ON docs.id = docs_fts.rowid "
            f"WHERE docs_fts MATCH ? {site_sql} ORDER BY score DESC LIMIT ?",
            [fts_query(query, any_word), *(sites or []), limit]).fetchall()
    finally:
        con.close()
    keys = ("site", "post_id", "thread_id", "thread_title", "author", "posted_at", "url", "snippet", "score")
    return [dict(zip(keys, row)) for row in rows]


def cmd_index(args) -> int:
    data_dir = resolve_data_dir(args.data_dir)
    try:
        result = refresh(data_dir, rebuild=args.rebuild, skip_bad=args.skip_bad)
    except DataError as exc:
        print(f"miata data index: {exc}", file=sys.stderr)
        return 2
    print(result.summary(index_path(data_dir)))
    return 0


def cmd_search(args) -> int:
    data_dir = resolve_data_dir(args.data_dir)
    started = time.monotonic()
    try:
        if not args.no_refresh:
            result = refresh(data_dir, skip_bad=args.skip_bad)
            if result.new_parts:
                print(result.summary(index_path(data_dir)), file=sys.stderr)
        hits = search(data_dir, args.query, limit=args.limit, sites=args.site, any_word=args.any)
    except DataError as exc:
        print(f"miata data search: {exc}", file=sys.stderr)
        return 2
    if args.json:
        for hit in hits:
            print(json.dumps(hit, ensure_ascii=False))
        return 0
    for n, hit in enumerate(hits, 1):
        print(f"{n}. {hit['thread_title'] or '(no title)'}")
        print(f"   {hit['author'] or '[unknown]'} · {hit['posted_at'] or 'no date'} · {hit['site']} · "
              f"{hit['url'] or 'no URL'}")
        print(f"   {' '.join(hit['snippet'].split())}")
    print(f"search: {len(hits)} posts for {args.query!r} in {time.monotonic() - started:.2f}s")
    return 0

