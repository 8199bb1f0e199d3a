"""Write the HTTP cache a complete crawl of a synthetic forum would leave, without crawling it.

    .venv/bin/python bench/make_cache.py --posts 1000000 --cache /tmp/miata-bench/cache-1000000

Every page the miataturbo spider requests from ``BENCH_BASE_URL`` (robots.txt, the index, every page
of every forum listing, every page of every thread) is rendered by the synthetic forum's IB renderer and
stored through Scrapy's own ``FilesystemCacheStorage`` under the request fingerprint the crawl would
use, with the headers ``ForumServer`` sends. Rendering is spread over every core. A live crawl over
loopback would store the same entries, only slower: ``--check-against-crawl`` proves it on a small forum.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import time
from email.utils import format_datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import BENCH_BASE_URL, write_json  # noqa: E402

SITE = "miataturbo"
_state: dict = {}


def page_paths(site) -> list[str]:
    """Every path a complete crawl requests, listings first, in a stable order."""
    from urllib.parse import urlsplit

    forum = site.forum
    paths = ["/robots.txt", "/"]
    for f in forum.forums.values():
        paths += [urlsplit(site.forum_url(f, n)).path for n in range(1, site.listing_page_count(f) + 1)]
    for tid in forum.all_thread_ids():
        thread = forum.thread(tid)
        paths += [urlsplit(site.thread_url(thread, n)).path for n in range(1, forum.page_count(tid) + 1)]
    return paths


def _init(posts: int, generation: int, cache_dir: str) -> None:
    from scrapy.extensions.httpcache import FilesystemCacheStorage
    from scrapy.utils.test import get_crawler

    from miata_spiders.demo import synthetic_site
    from miata_spiders.spiders.miataturbo import MiataturboSpider

    settings = {"HTTPCACHE_DIR": cache_dir, "HTTPCACHE_GZIP": True}
    crawler = get_crawler(MiataturboSpider, settings)
    spider = MiataturboSpider.from_crawler(crawler, base_url=BENCH_BASE_URL)
    storage = FilesystemCacheStorage(crawler.settings)
    storage.open_spider(spider)
    _state.update(site=synthetic_site(posts, generation=generation), storage=storage, spider=spider)


def _store(paths: list[str]) -> int:
    from scrapy import Request
    from scrapy.http import HtmlResponse, TextResponse

    site, storage, spider = _state["site"], _state["storage"], _state["spider"]
    date = format_datetime(site.now.astimezone(__import__("datetime").timezone.utc), usegmt=True)
    stored = 0
    for path in paths:
        status, body, headers = site.respond(path)
        if status != 200:
            raise RuntimeError(f"the synthetic forum answered {status} for {path}")
        headers = {**headers, "Date": date, "Content-Length": str(len(body))}
        url = BENCH_BASE_URL + path
        cls = HtmlResponse if "html" in headers["Content-Type"] else TextResponse
        storage.store_response(spider, Request(url), cls(url=url, status=200, headers=headers, body=body))
        stored += 1
    return stored


def make_cache(posts: int, cache_dir: Path, generation: int = 0, workers: int | None = None) -> dict:
    from miata_spiders.demo import synthetic_site

    started = time.monotonic()
    site = synthetic_site(posts, generation=generation)
    paths = page_paths(site)
    chunks = [paths[i:i + 200] for i in range(0, len(paths), 200)]
    args = (posts, generation, str(cache_dir))
    with multiprocessing.get_context("spawn").Pool(workers or os.cpu_count(), _init, args) as pool:
        stored = sum(pool.imap_unordered(_store, chunks))
    return {"posts": site.forum.total_posts(), "pages": stored, "seconds": round(time.monotonic() - started, 1),
            "cache_dir": str(cache_dir)}


def check_against_crawl(posts: int, workdir: Path) -> dict:
    """Crawl a small synthetic forum live and compare its cache entries with ours: same fingerprints."""
    from miata_spiders.demo import synthetic_site
    from miata_spiders.testing.server import ForumServer

    import shutil
    import subprocess

    from common import ROOT, scrapy_env

    shutil.rmtree(workdir, ignore_errors=True)
    server = ForumServer(synthetic_site(posts))
    base_url = server.start()
    try:
        cmd = [sys.executable, "-m", "scrapy", "crawl", SITE, "-a", f"base_url={base_url}",
               "-s", f"MIATA_DATA_DIR={workdir / 'live'}", "-s", f"HTTPCACHE_DIR={workdir / 'live-cache'}",
               "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "LOG_LEVEL=WARNING"]
        subprocess.run(cmd, cwd=ROOT, env=scrapy_env(), check=True, capture_output=True)
    finally:
        server.stop()
    made = make_cache(posts, workdir / "made-cache")
    # Fingerprints include the host: compare paths of the URLs each cache holds instead.
    from miata_spiders.reparse import cache_entries, read_meta
    from urllib.parse import urlsplit

    def paths(cache: Path) -> set[str]:
        return {urlsplit(read_meta(e, True)["url"]).path for e in cache_entries(cache, SITE)}

    live, ours = paths(workdir / "live-cache"), paths(workdir / "made-cache")
    return {"posts": posts, "live_entries": len(live), "made_entries": made["pages"], "same_urls": live == ours,
            "only_live": sorted(live - ours)[:10], "only_made": sorted(ours - live)[:10]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=10_000)
    parser.add_argument("--cache", type=Path, help="HTTPCACHE_DIR to fill (default: WORKDIR/cache-POSTS)")
    parser.add_argument("--generation", type=int, default=0)
    parser.add_argument("--check-against-crawl", type=Path, metavar="WORKDIR",
                        help="crawl a --posts forum live into WORKDIR and compare the two caches' URLs")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if args.check_against_crawl:
        write_json(args.json, check_against_crawl(args.posts, args.check_against_crawl))
        return
    from common import DEFAULT_WORKDIR

    write_json(args.json, make_cache(args.posts, args.cache or DEFAULT_WORKDIR / f"cache-{args.posts}", args.generation))


if __name__ == "__main__":
    main()
