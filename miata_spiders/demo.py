"""``miata demo``: a complete, offline crawl of a fixture forum served on 127.0.0.1, with the real
spider, settings and pipelines, ending with a summary of what was collected and where it is."""

from __future__ import annotations

import time
from pathlib import Path

DEMO_SITE = "miataturbo"


def add_demo_parser(sub) -> None:
    p = sub.add_parser("demo", help="crawl a fixture forum on 127.0.0.1 into Parquet (no network needed)")
    p.add_argument("--out", default="demo-data", help="directory for the Parquet dataset and HTTP cache (default: %(default)s)")
    p.add_argument("--site", default=DEMO_SITE, help="fixture forum to serve and spider to run (default: %(default)s)")
    p.set_defaults(func=cmd_demo)


def run_crawl(site: str, base_url: str, out: Path, extra_settings: dict | None = None) -> dict:
    """Run one spider to completion in this process; return its final stats."""
    from scrapy.crawler import CrawlerProcess
    from scrapy.utils.project import get_project_settings

    settings = get_project_settings()
    settings.setdict(
        {
            "MIATA_DATA_DIR": str(out),
            "HTTPCACHE_DIR": str((out / "httpcache").resolve()),
            # The demo server is ours and local: a short politeness floor keeps it well under a minute
            # while AutoThrottle and the retry middleware still run as in a real crawl.
            "DOWNLOAD_DELAY": 0.02,
            "AUTOTHROTTLE_START_DELAY": 0.02,
            "AUTOTHROTTLE_MAX_DELAY": 1.0,
            "LOG_LEVEL": "WARNING",
            **(extra_settings or {}),
        },
        priority="cmdline",
    )
    process = CrawlerProcess(settings, install_root_handler=True)
    crawler = process.create_crawler(site)
    process.crawl(crawler, base_url=base_url)
    process.start()
    return dict(crawler.stats.get_stats())


def cmd_demo(args) -> int:
    from miata_spiders.testing.fixture_site import FixtureSite

    out = Path(args.out)
    site = FixtureSite.named(args.site)
    base_url = site.start()
    started = time.monotonic()
    try:
        stats = run_crawl(args.site, base_url, out)
    finally:
        site.stop()
    elapsed = time.monotonic() - started
    _print_summary(args.site, out, stats, elapsed, len(site.requests))
    return 0 if stats.get("finish_reason") == "finished" else 1


def _print_summary(site: str, out: Path, stats: dict, elapsed: float, requests: int) -> None:
    import pyarrow.dataset as ds

    posts_dir = out / "posts"
    table = ds.dataset(str(posts_dir), format="parquet", partitioning="hive").to_table(
        columns=["post_id", "thread_id"], filter=ds.field("site") == site
    ) if posts_dir.exists() else None
    rows = table.num_rows if table is not None else 0
    threads = len(set(table.column("thread_id").to_pylist())) if table is not None else 0
    print(f"\nmiata demo: crawled the {site} fixture forum served on 127.0.0.1")
    print(f"  posts in dataset : {rows} in {threads} threads")
    print(f"  requests         : {requests} served ({stats.get('downloader/request_count', 0)} sent by Scrapy)")
    print(f"  new rows written : {stats.get('miata/parquet/rows_written', 0)}"
          f" (duplicates dropped: {stats.get('miata/dedupe/dropped_in_run', 0) + stats.get('miata/dedupe/dropped_existing', 0)})")
    print(f"  time             : {elapsed:.1f} s   finish reason: {stats.get('finish_reason')}")
    print(f"  data             : {posts_dir.resolve()}/site={site}/")
    print("  query it         : duckdb -c \"SELECT author, count(*) FROM read_parquet("
          f"'{posts_dir}/*/*.parquet', hive_partitioning=true) GROUP BY 1 ORDER BY 2 DESC LIMIT 5\"")
