"""``miata reparse SITE``: rebuild a site's posts from Scrapy's HTTP cache, on every core.

After a parser fix, ``scrapy crawl SITE -s HTTPCACHE_IGNORE_MISSING=True`` re-applies it by walking the
whole forum again through Scrapy's engine, on one core. This command reads the cache entries directly
(``FilesystemCacheStorage``'s layout: ``HTTPCACHE_DIR/<site>/<fp[:2]>/<fp>/``, gzip'd when
``HTTPCACHE_GZIP`` says so), parses them in worker processes with the site's engine parser and the
spider's own page reading (``page_records``), and sends the posts through the same dedupe
(``SeenPosts``) and Parquet writer (``ParquetBatchWriter``) as a crawl. Its rows are the replay crawl's.

Where it differs from a replay crawl, on purpose:
- it parses every cached thread page of the site, whether or not today's listings still lead to it;
- it writes no crawl state (``DATA_DIR/state``): the next incremental crawl into a rebuilt dataset
  re-fetches every thread once, and dedupe drops what it already holds;
- a thread page whose thread has no cached first page gets ``thread_url`` null (a replay crawl would
  only reach it through the crawl state's resume point).

    miata reparse miataturbo --out data-reparsed                 # HTTPCACHE_DIR and worker count from settings/CPUs
    miata reparse forum -a url=https://some.forum/ --out rebuilt # the generic spider: same -a as scrapy crawl
"""

from __future__ import annotations

import gzip
import multiprocessing
import os
import pickle
import sys
import time
from dataclasses import dataclass, field
from importlib import import_module
from pathlib import Path
from urllib.parse import urlsplit

from scrapy.http import TextResponse

# Cache entries handed to a worker at a time: big enough to amortise inter-process traffic, small
# enough that pages come back nearly in URL order (a thread's first page before its later ones).
CHUNK_ENTRIES = 16
# Chunks queued per worker process: enough to keep it busy, few enough to bound memory.
IN_FLIGHT_PER_WORKER = 4
PROGRESS_EVERY_SECONDS = 30.0


@dataclass
class ParsedEntry:
    """What a worker sends back for one cache entry."""

    url: str
    kind: str  # "thread", "listing", "skipped" (not a 200 HTML page), "unrecognised"
    thread_id: str | None = None
    page: int | None = None
    thread_url: str | None = None  # page 1's canonical URL: the thread_url of every page of the thread
    rows: list[dict] = field(default_factory=list)
    unparsed_dates: int = 0


@dataclass
class ReparseStats:
    entries: int = 0
    thread_pages: int = 0
    listing_pages: int = 0
    skipped: int = 0
    unrecognised: int = 0
    posts_parsed: int = 0
    rows_written: int = 0
    dropped_in_run: int = 0
    dropped_existing: int = 0
    new_versions: int = 0
    date_unparsed: int = 0
    pages_without_first_page: int = 0
    parts: int = 0
    seconds: float = 0.0

    @property
    def pages_per_second(self) -> float:
        return self.thread_pages / self.seconds if self.seconds else 0.0


# --- Reading the cache ----------------------------------------------------------------------------

def cache_entries(cache_dir: str | os.PathLike, site: str) -> list[Path]:
    """Every entry directory FilesystemCacheStorage wrote for the spider named ``site``."""
    root = Path(cache_dir) / site
    if not root.is_dir():
        return []
    return [entry for bucket in sorted(root.iterdir()) if bucket.is_dir()
            for entry in sorted(bucket.iterdir()) if (entry / "pickled_meta").is_file()]


def _open(use_gzip: bool):
    return gzip.open if use_gzip else open


def read_meta(entry: Path, use_gzip: bool) -> dict:
    with _open(use_gzip)(entry / "pickled_meta", "rb") as file:
        return pickle.load(file)  # noqa: S301 - our own cache, written by Scrapy


def read_response(entry: Path, use_gzip: bool, meta: dict | None = None):
    """The cached response, rebuilt as ``FilesystemCacheStorage.retrieve_response`` rebuilds it."""
    from scrapy.utils.response import response_from_dict
    from w3lib.http import headers_raw_to_dict

    from miata_spiders.encoding import with_browser_encoding

    opener = _open(use_gzip)
    meta = meta or read_meta(entry, use_gzip)
    with opener(entry / "response_body", "rb") as file:
        body = file.read()
    with opener(entry / "response_headers", "rb") as file:
        headers = headers_raw_to_dict(file.read())
    data = {"url": meta["response_url"], "status": meta["status"], "headers": headers, "body": body}
    extra = entry / "response_data"
    if extra.exists():
        with opener(extra, "rb") as file:
            data.update(pickle.load(file))  # noqa: S301
    # Decoded exactly as the crawl decoded it (BrowserEncodingMiddleware): same text, same hashes.
    return with_browser_encoding(response_from_dict(data))


def root_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


# --- Worker side: one cache entry in, rows out ------------------------------------------------------

class PageParser:
    """Parses cache entries as the spider's ``parse_thread`` would, minus the crawling."""

    def __init__(self, spider_path: str, spider_args: dict, use_gzip: bool):
        module, _, name = spider_path.partition(":")
        self.spider = getattr(import_module(module), name)(**spider_args)
        self.use_gzip = use_gzip

    def parse(self, entry: Path) -> ParsedEntry:
        from miata_spiders.httpcache import looks_complete
        from miata_spiders.page_records import page_records
        from pipelines.parquet import item_to_row

        spider = self.spider
        meta = read_meta(entry, self.use_gzip)
        url = meta["url"]
        if meta["status"] != 200:
            return ParsedEntry(url, "skipped")
        response = read_response(entry, self.use_gzip, meta)
        if urlsplit(url).path == "/robots.txt" or not isinstance(response, TextResponse) or not looks_complete(response):
            return ParsedEntry(url, "skipped")  # robots.txt, images; truncated pages are never cached
        try:
            parser = spider.engine_for(response)
        except Exception:  # noqa: BLE001 - CloseSpider: detected software we cannot parse
            parser = None
        # A cache entry does not say whether a thread or a listing link led to it: the spider parses
        # a thread request's page whatever it looks like, so only pages the engine calls listings are
        # not threads. With no listing row here, the thread id comes from the page or its URL.
        records = page_records(response, parser, site=spider.name, dates=spider.dates_for(response),
                               unbase=_Unbase(root_of(response.url), spider.site_root))
        if records.kind != "thread":
            return ParsedEntry(url, records.kind)
        page = records.thread
        rows = [item_to_row(item, default_site=spider.name) for item in records.items]
        return ParsedEntry(url, "thread", page.thread_id, page.page, records.thread_url, rows, page.unparsed_dates)


class _Unbase:
    """``BaseForumSpider.unbase`` for a page fetched from ``crawl_root`` (a mirror, 127.0.0.1)."""

    def __init__(self, crawl_root: str, site_root: str):
        self.crawl_root, self.site_root = crawl_root, site_root

    def __call__(self, url: str | None) -> str | None:
        if url and self.crawl_root != self.site_root and url.startswith(self.crawl_root):
            return self.site_root + url[len(self.crawl_root):]
        return url


_worker: PageParser | None = None


def _init_worker(spider_path: str, spider_args: dict, use_gzip: bool) -> None:
    global _worker
    _worker = PageParser(spider_path, spider_args, use_gzip)


def _parse_chunk(entries: list[Path]) -> list[ParsedEntry]:
    return [_worker.parse(entry) for entry in entries]


def _read_urls(args: tuple[list[Path], bool]) -> list[tuple[str, int, Path]]:
    entries, use_gzip = args
    found = []
    for entry in entries:
        meta = read_meta(entry, use_gzip)
        found.append((meta["url"], meta["status"], entry))
    return found


# --- Main process: order, dedupe, write ------------------------------------------------------------

def reparse(spider_cls, spider_args: dict, out: str | os.PathLike, cache_dir: str | os.PathLike, *,
            use_gzip: bool, batch_size: int, workers: int | None = None, log=None) -> ReparseStats:
    """Rebuild ``spider_cls``'s posts from the cache under ``cache_dir`` into the dataset at ``out``."""
    from pipelines.dataset import load_seen_keys
    from pipelines.dedupe import SeenPosts, Verdict
    from pipelines.lock import SiteLock
    from pipelines.parquet import ParquetBatchWriter

    log = log or (lambda message: None)
    started = time.monotonic()
    spider = spider_cls(**spider_args)  # validates the arguments here, before any worker starts
    site, spider_path = spider.name, f"{spider_cls.__module__}:{spider_cls.__qualname__}"
    workers = max(1, workers or os.cpu_count() or 1)
    stats = ReparseStats()
    entries = cache_entries(cache_dir, site)
    if not entries:
        stats.seconds = time.monotonic() - started
        return stats

    # One writer per site: another run into `out` (a crawl, a reparse) would store every post twice.
    lock = SiteLock(out, site).acquire()
    pool = bar = None
    try:
        seen = SeenPosts(load_seen_keys(out, site))
        # Each committed part's keys move into SeenPosts' compact arrays: memory flat in the site's size.
        writer = ParquetBatchWriter(out, site, batch_size, on_commit=lambda part, progress: seen.fold())
        only_root = root_of(spider.crawl_root) if spider_args.get("base_url") else None
        pool = _pool(workers, (spider_path, spider_args, use_gzip))
        mapper = pool.imap if pool else map
        # URL order puts a thread's first page (a prefix of its later pages' URLs on every engine we
        # know) before the others, so thread_url is known when later pages arrive.
        located = [found for chunk in mapper(_read_urls, [(c, use_gzip) for c in _chunks(entries, 512)])
                   for found in chunk]
        located = sorted(x for x in located if only_root is None or root_of(x[0]) == only_root)
        stats.entries = len(located)
        from miata_spiders.data.source import progress_bar

        # A bar on a terminal only; when stderr is piped the periodic log lines below say how far it is.
        bar = progress_bar(total=stats.entries, desc=f"reparse {site}", unit=" pages")
        forum_paths = _forum_paths(spider, located, use_gzip)
        if pool is None:
            _init_worker(spider_path, spider_args, use_gzip)
        thread_urls: dict[str, str | None] = {}
        # Thread facts of page 1 that a later answer may lack (a Discourse posts.json chunk has no title).
        thread_facts: dict[str, dict] = {}
        waiting: dict[str, list[ParsedEntry]] = {}
        last_report = time.monotonic()

        def write(entry: ParsedEntry, thread_url: str | None) -> None:
            facts = thread_facts.get(entry.thread_id, {})
            for row in entry.rows:
                if entry.page != 1:
                    row["thread_url"] = thread_url
                    for name, value in facts.items():
                        row[name] = row[name] or value
                if not row["forum_path"] and row["forum_id"] in forum_paths:
                    row["forum_path"] = forum_paths[row["forum_id"]]
                verdict = seen.check_and_add(row["post_id"], row["content_hash"])
                if verdict is Verdict.SEEN_IN_RUN:
                    stats.dropped_in_run += 1
                elif verdict is Verdict.SEEN_STORED:
                    stats.dropped_existing += 1
                else:
                    stats.new_versions += verdict is Verdict.NEW_VERSION
                    writer.add(row)

        paths = [path for _, _, path in located]
        parsed = _bounded_imap(pool, _parse_chunk, _chunks(paths, CHUNK_ENTRIES), workers) if pool else map(
            _parse_chunk, _chunks(paths, CHUNK_ENTRIES))
        for chunk in parsed:
            for entry in chunk:
                _count(stats, entry)
                if entry.kind != "thread":
                    continue
                if entry.page == 1:
                    thread_urls[entry.thread_id] = entry.thread_url
                    if entry.rows:
                        thread_facts[entry.thread_id] = {k: entry.rows[0][k] for k in ("thread_title", "forum_id")}
                    write(entry, entry.thread_url)
                    for later in waiting.pop(entry.thread_id, []):
                        write(later, entry.thread_url)
                elif entry.thread_id in thread_urls:
                    write(entry, thread_urls[entry.thread_id])
                else:
                    waiting.setdefault(entry.thread_id, []).append(entry)
            bar.update(len(chunk))
            if bar.disable and time.monotonic() - last_report > PROGRESS_EVERY_SECONDS:
                last_report = time.monotonic()
                log(f"reparse {site}: {stats.thread_pages} thread pages, {stats.posts_parsed} posts, "
                    f"{stats.thread_pages / (last_report - started):.0f} pages/s")
        for entries_left in waiting.values():
            for entry in entries_left:
                stats.pages_without_first_page += 1
                write(entry, None)
        writer.close()
    finally:
        if bar is not None:
            bar.close()
        if pool is not None:
            pool.terminate()
            pool.join()
        lock.release()
    stats.rows_written = sum(part.rows for part in writer.parts)
    stats.parts = len(writer.parts)
    stats.seconds = time.monotonic() - started
    return stats


def _forum_paths(spider, located: list, use_gzip: bool) -> dict[str, list[str]]:
    """Forum id -> forum path, for an engine whose thread answers name only their forum's id and whose
    one index answer names every forum (Discourse: ``forum_index_path``, ``forum_paths``)."""
    engine = spider.parser
    index_path = getattr(engine, "forum_index_path", None)
    for url, status, entry in located:
        if index_path and status == 200 and urlsplit(url).path == index_path:
            return engine.forum_paths(read_response(entry, use_gzip))
    return {}


def _pool(workers: int, init_args: tuple):
    if workers <= 1:
        return None
    # spawn, not fork: a forked copy of a process with threads (a server, a logger) can deadlock.
    return multiprocessing.get_context("spawn").Pool(workers, initializer=_init_worker, initargs=init_args)


def _bounded_imap(pool, func, tasks, workers: int):
    """``pool.imap`` that keeps at most a few tasks per worker in flight: Pool.imap queues every result
    the workers finish, so workers faster than this process would pile parsed rows up in memory."""
    from collections import deque

    pending = deque()
    for task in tasks:
        pending.append(pool.apply_async(func, (task,)))
        if len(pending) >= IN_FLIGHT_PER_WORKER * workers:
            yield pending.popleft().get()
    while pending:
        yield pending.popleft().get()


def _chunks(items: list, size: int):
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _count(stats: ReparseStats, entry: ParsedEntry) -> None:
    if entry.kind == "thread":
        stats.thread_pages += 1
        stats.posts_parsed += len(entry.rows)
        stats.date_unparsed += entry.unparsed_dates
    elif entry.kind == "listing":
        stats.listing_pages += 1
    elif entry.kind == "skipped":
        stats.skipped += 1
    else:
        stats.unrecognised += 1


# --- Command line -----------------------------------------------------------------------------------

def add_reparse_parser(sub) -> None:
    p = sub.add_parser(
        "reparse", help="rebuild a site's posts from the HTTP cache with today's parsers, on every core",
        description=__doc__.split("\n\n")[0])
    p.add_argument("site", help="spider name, e.g. miataturbo (see `scrapy list`); `forum` needs -a url=...")
    p.add_argument("--out", required=True, metavar="DIR",
                   help="dataset directory to write into, as MIATA_DATA_DIR (a fresh one rebuilds the site)")
    p.add_argument("--cache-dir", metavar="DIR", help="the crawl's HTTPCACHE_DIR (default: the project setting)")
    p.add_argument("--workers", type=int, default=os.cpu_count(), help="parser processes (default: %(default)s, the CPUs)")
    p.add_argument("-a", dest="spider_args", action="append", default=[], metavar="NAME=VALUE",
                   help="spider argument, as for scrapy crawl (base_url=... keeps only pages fetched from there)")
    p.set_defaults(func=cmd_reparse)


def cmd_reparse(args) -> int:
    from scrapy.utils.project import data_path, get_project_settings

    from miata_spiders.cli import spider_class
    from miata_spiders.errors import MiataError

    settings = get_project_settings()
    spider_args = {}
    for pair in args.spider_args:
        name, sep, value = pair.partition("=")
        if not sep:
            print(f"miata reparse: -a {pair!r} is not NAME=VALUE", file=sys.stderr)
            return 2
        spider_args[name] = value
    cls = spider_class(args.site)
    # The cache directory means what HTTPCACHE_DIR means to Scrapy (relative: under the project's .scrapy/).
    cache_dir = args.cache_dir or data_path(settings["HTTPCACHE_DIR"])
    try:
        stats = reparse(cls, spider_args, args.out, cache_dir, use_gzip=settings.getbool("HTTPCACHE_GZIP"),
                        batch_size=settings.getint("MIATA_PARQUET_BATCH_SIZE"), workers=args.workers,
                        log=lambda message: print(message, file=sys.stderr))
    except MiataError as error:  # the site's lock is held (75), the dataset cannot be written (74)
        print(f"miata reparse: {error.message}", file=sys.stderr)
        return error.exit_status
    except (ValueError, OSError) as error:  # bad spider arguments, an unusable --out (DataDirError)
        print(f"miata reparse: {error}", file=sys.stderr)
        return 2
    site = cls(**spider_args).name
    if not stats.entries:
        print(f"miata reparse: no cache entries for {site!r} under {Path(cache_dir) / site}", file=sys.stderr)
        return 1
    print(f"miata reparse {site}: {stats.thread_pages} thread pages ({stats.posts_parsed} posts) of {stats.entries} "
          f"cache entries in {stats.seconds:.1f} s on {args.workers} workers ({stats.pages_per_second:.0f} pages/s)")
    print(f"  written : {stats.rows_written} rows in {stats.parts} parts under {Path(args.out) / 'posts' / f'site={site}'}")
    print(f"  dropped : {stats.dropped_in_run} seen earlier in this run, {stats.dropped_existing} already stored; "
          f"{stats.new_versions} new versions of stored posts")
    print(f"  skipped : {stats.listing_pages} listing pages, {stats.skipped} non-HTML or non-200 entries, "
          f"{stats.unrecognised} pages not recognised")
    if stats.date_unparsed:
        print(f"  warning : {stats.date_unparsed} post dates not understood")
    if stats.pages_without_first_page:
        print(f"  note    : {stats.pages_without_first_page} thread pages without their thread's first page "
              "in the cache (thread_url left empty)")
    return 0 if stats.thread_pages else 1
