"""``miata data search`` and ``miata data index``: BM25 full-text search over the latest version of every post.

The index is tantivy (a Rust search library with Python wheels; no server, no model), chosen over
SQLite FTS5 by the measurement in docs/benchmarks.md: FTS5 scores every match of a query before it can
sort them, so a common word over a million posts takes seconds, where tantivy's top-k search takes
milliseconds. It lives in ``DATA_DIR/index/``: the tantivy index in ``tantivy/`` and its bookkeeping in
``search.sqlite3`` (which parts have been read, by path, size and modification time; which version of
each post is indexed). A refresh reads only new parts, and a post's document is replaced only by a
newer version (later ``scraped_at``, the order ``latest_posts`` uses), so the index always holds the
latest version, even after ``compact`` rewrote the parts (the rewritten parts are read again and,
holding no newer version, change nothing).
"""

from __future__ import annotations

import json
import re
import sqlite3
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from miata_spiders.data.source import DataError, bound_memory, find_parts, progress_bar, resolve_data_dir

INDEX_DIR_NAME = "index"
BOOKKEEPING_FILE_NAME = "search.sqlite3"
TANTIVY_DIR_NAME = "tantivy"
ROWS_PER_BATCH = 8192
WRITER_HEAP_BYTES = 128 * 1024**2
# The title is shared by every post of a thread, so it counts for half: a post that says the words
# beats one that only sits under a title that does.
FIELD_BOOSTS = {"thread_title": 0.5, "body": 1.0}
SNIPPET_CHARS = 160
BOOKKEEPING_SQL = """
CREATE TABLE IF NOT EXISTS parts (path TEXT PRIMARY KEY, size INTEGER, mtime_ns INTEGER);
CREATE TABLE IF NOT EXISTS versions (site TEXT NOT NULL, post_id TEXT NOT NULL, scraped_at TEXT NOT NULL,
    content_hash TEXT NOT NULL, PRIMARY KEY (site, post_id));
"""
COLUMNS = ("site", "post_id", "scraped_at", "content_hash", "thread_id", "thread_title", "author", "posted_at", "url",
           "body")
HIT_KEYS = ("site", "post_id", "thread_id", "thread_title", "author", "posted_at", "url", "snippet", "score")


def index_path(data_dir: Path) -> Path:
    """The index directory of a dataset."""
    return Path(data_dir) / INDEX_DIR_NAME


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


def schema():
    import tantivy

    builder = tantivy.SchemaBuilder()
    for name in ("key", "site", "post_id", "thread_id", "author", "posted_at", "url"):
        builder.add_text_field(name, stored=name != "key", tokenizer_name="raw")
    # en_stem: lowercase, Unicode words, English stemming (so "clutches" finds "clutch").
    builder.add_text_field("thread_title", stored=True, tokenizer_name="en_stem")
    builder.add_text_field("body", stored=True, tokenizer_name="en_stem")
    return builder.build()


def open_tantivy(directory: Path, *, create: bool):
    import tantivy

    if not create and not (directory.is_dir() and tantivy.Index.exists(str(directory))):
        raise DataError(f"no search index at {directory.parent} (run `miata data index`)")
    directory.mkdir(parents=True, exist_ok=True)
    return tantivy.Index(schema(), path=str(directory))


def refresh(data_dir: Path, *, rebuild: bool = False, skip_bad: bool = False) -> Refresh:
    """Bring the index up to date with the dataset's parts: read the new ones, forget the gone ones."""
    import shutil

    started = time.monotonic()
    parts = find_parts(data_dir, skip_bad=skip_bad)
    root = index_path(data_dir)
    if rebuild and root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True, exist_ok=True)
    index = open_tantivy(root / TANTIVY_DIR_NAME, create=True)
    con = sqlite3.connect(root / BOOKKEEPING_FILE_NAME)
    try:
        con.executescript(BOOKKEEPING_SQL)
        known = {row[0]: (row[1], row[2]) for row in con.execute("SELECT path, size, mtime_ns FROM parts")}
        current = {}
        for part in parts.files:
            stat = part.stat()
            current[str(part.resolve())] = (part, stat.st_size, stat.st_mtime_ns)
        new = [(key, *value) for key, value in current.items() if known.get(key) != value[1:]]
        gone = [key for key in known if key not in current]
        rows = 0
        if new:
            try:
                writer = index.writer(WRITER_HEAP_BYTES)
            except ValueError as exc:  # tantivy's lock: another `miata data index` is writing
                raise DataError(f"the search index {root} is being refreshed by another process ({exc})") from None
            rows = _read_parts(con, writer, [p for _, p, _, _ in new])
            # tantivy first, then the bookkeeping: a crash in between reads these parts again next time,
            # which replaces their documents by key (no duplicates).
            writer.commit()
            writer.wait_merging_threads()
        con.executemany("DELETE FROM parts WHERE path = ?", [(key,) for key in gone])
        con.executemany("INSERT OR REPLACE INTO parts VALUES (?, ?, ?)", [(key, size, mtime) for key, _, size, mtime in new])
        con.commit()
        posts = con.execute("SELECT count(*) FROM versions").fetchone()[0]
    finally:
        con.close()
    size = sum(p.stat().st_size for p in root.rglob("*") if p.is_file())
    return Refresh(len(new), len(gone), rows, posts, time.monotonic() - started, size)


def _read_parts(con: sqlite3.Connection, writer, files: list[Path]) -> int:
    """Index the latest version of each post found in ``files`` where it is newer than the indexed one;
    returns the rows read."""
    import duckdb
    import tantivy

    duck = bound_memory(duckdb.connect())
    listing = ", ".join("'" + str(p).replace("'", "''") + "'" for p in files)
    duck.execute(f"CREATE VIEW new_rows AS SELECT * FROM read_parquet([{listing}], hive_partitioning = true, "
                 "hive_types = {'site': VARCHAR}, union_by_name = true)")
    total = duck.sql("SELECT count(*) FROM new_rows").fetchall()[0][0]
    url = ("coalesce(url, CASE WHEN permalink IS NOT NULL THEN 'https://www.reddit.com' || permalink END, thread_url)"
           if "permalink" in {r[0] for r in duck.sql("DESCRIBE new_rows").fetchall()} else "coalesce(url, thread_url)")
    # The latest version in these parts, chosen over four slim columns and joined back: a window over whole
    # rows does not fit DuckDB's bounded memory.
    duck.execute("CREATE TEMP TABLE latest_keys AS SELECT site, post_id, scraped_at, content_hash FROM new_rows "
                 "QUALIFY row_number() OVER (PARTITION BY site, post_id ORDER BY scraped_at DESC, content_hash DESC) = 1")
    reader = duck.sql(
        "SELECT site, post_id, strftime(scraped_at AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S.%f') AS scraped_at, "
        "content_hash, thread_id, thread_title, author, "
        "strftime(posted_at AT TIME ZONE 'UTC', '%Y-%m-%d %H:%M') AS posted_at, "
        f"{url} AS url, CASE WHEN coalesce(is_deleted, false) THEN '' ELSE coalesce(body_text, '') END AS body "
        "FROM new_rows JOIN latest_keys USING (site, post_id, scraped_at, content_hash)").to_arrow_reader(ROWS_PER_BATCH)
    con.execute("CREATE TEMP TABLE IF NOT EXISTS incoming (site TEXT, post_id TEXT, scraped_at TEXT, content_hash TEXT)")
    bar = progress_bar(total=total, unit="row", desc="index")
    try:
        for batch in reader:
            rows = {(r["site"], r["post_id"]): r for r in batch.to_pylist()}
            con.execute("DELETE FROM incoming")
            con.executemany("INSERT INTO incoming VALUES (?, ?, ?, ?)",
                            [(r["site"], r["post_id"], r["scraped_at"], r["content_hash"]) for r in rows.values()])
            newer = con.execute(
                "SELECT i.site, i.post_id, v.post_id IS NOT NULL FROM incoming i LEFT JOIN versions v "
                "ON v.site = i.site AND v.post_id = i.post_id "
                "WHERE v.post_id IS NULL OR (i.scraped_at, i.content_hash) > (v.scraped_at, v.content_hash)").fetchall()
            for site, post_id, replaces in newer:
                row = rows[(site, post_id)]
                key = f"{site}\x1f{post_id}"
                if replaces:
                    writer.delete_documents_by_term("key", key)
                if row["body"]:  # a deleted post's latest version is no document: nothing to find
                    writer.add_document(tantivy.Document(key=[key], **{
                        name: [row[name]] for name in COLUMNS if name not in ("scraped_at", "content_hash")
                        and row[name] is not None}))
            con.executemany(
                "INSERT INTO versions VALUES (?, ?, ?, ?) ON CONFLICT (site, post_id) DO UPDATE SET "
                "scraped_at = excluded.scraped_at, content_hash = excluded.content_hash",
                [(site, post_id, rows[(site, post_id)]["scraped_at"], rows[(site, post_id)]["content_hash"])
                 for site, post_id, _ in newer])
            bar.update(batch.num_rows)
    finally:
        bar.close()
    return total


def fts_query(text: str, any_word: bool = False) -> list[str]:
    """The user's words, each quoted for tantivy's query language (no syntax errors from "-", ":" or "*")."""
    words = re.findall(r"\w+", text, re.UNICODE)
    if not words:
        raise DataError(f"nothing to search for in {text!r}")
    return [f'"{w}"' for w in words]


def search(data_dir: Path, query: str, *, limit: int = 10, sites: list[str] | None = None,
           any_word: bool = False) -> list[dict]:
    import tantivy

    index = open_tantivy(index_path(data_dir) / TANTIVY_DIR_NAME, create=False)
    words = fts_query(query, any_word)
    text = " ".join(f"+{w}" for w in words) if not any_word else f"+({' '.join(words)})"
    if sites:
        text += " +(" + " ".join(f'site:"{site}"' for site in sites) + ")"
    parsed = index.parse_query(text, ["thread_title", "body"], field_boosts=FIELD_BOOSTS)
    searcher = index.searcher()
    snippets = tantivy.SnippetGenerator.create(searcher, parsed, index.schema, "body")
    snippets.set_max_num_chars(SNIPPET_CHARS)
    hits = []
    for score, address in searcher.search(parsed, limit).hits:
        doc = searcher.doc(address)
        stored = doc.to_dict()
        values = {name: (stored.get(name) or [None])[0] for name in HIT_KEYS}
        values["snippet"] = _marked(snippets.snippet_from_doc(doc))
        values["score"] = round(score, 4)
        hits.append(values)
    return hits


def _marked(snippet) -> str:
    """A snippet with its matched words in [brackets] (tantivy gives byte ranges into the fragment)."""
    fragment = snippet.fragment().encode()
    out, at = [], 0
    for span in snippet.highlighted():
        out += [fragment[at:span.start], b"[", fragment[span.start:span.end], b"]"]
        at = span.end
    out.append(fragment[at:])
    return " ".join(b"".join(out).decode(errors="replace").split())


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

