"""``miata demo`` and ``miata serve``: forums we control, on 127.0.0.1.

``demo`` runs the real spider, settings and pipelines against a synthetic forum (or a saved fixture
forum) and ends with a summary of what was collected and where it is. ``serve`` just serves one, for
crawling by hand or benchmarking.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

DEMO_SITE = "miataturbo"
DEMO_POSTS = 2000
# forum software -> (renderer "module:class", spider that crawls it, extra spider arguments)
DEMO_ENGINES = {
    "ib-vbulletin": ("render_ib:IBForumSite", "miataturbo", {}),
    "vbulletin3": ("render_vb3:VB3ForumSite", "miatanet", {}),
    "vbulletin4": ("render_vb4:VB4ForumSite", "clubroadster", {}),
    "xenforo": ("render_xenforo:XenForoForumSite", "mx5nutz", {}),
    "phpbb": ("render_phpbb:PhpbbForumSite", "forum", {"url": "https://www.mx5club.example/forum/"}),
    "discourse": ("render_discourse:DiscourseForumSite", "mx5oc", {}),  # JSON API, not pages
}


def add_demo_parser(sub) -> None:
    p = sub.add_parser("demo", help="crawl a forum served on 127.0.0.1 into Parquet (no network needed)")
    p.add_argument("--out", default="demo-data", help="directory for the Parquet dataset and HTTP cache (default: %(default)s)")
    p.add_argument("--posts", type=int, default=DEMO_POSTS, help="size of the synthetic forum (default: %(default)s)")
    p.add_argument("--engine", choices=sorted(DEMO_ENGINES), default="ib-vbulletin",
                   help="forum software the synthetic forum speaks, and so the spider crawling it (default: %(default)s)")
    p.add_argument("--fixture", metavar="SITE", help="serve the saved fixture forum fixtures/SITE instead of a synthetic one")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("serve", help="serve a synthetic forum on 127.0.0.1 until Ctrl-C")
    p.add_argument("--posts", type=int, default=DEMO_POSTS, help="about how many posts (default: %(default)s)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--generation", type=int, default=0, help="growth step: each adds threads, replies and edits")
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--engine", choices=sorted(DEMO_ENGINES), default="ib-vbulletin", help="default: %(default)s")
    p.add_argument("--ground-truth", metavar="FILE", help="write every post id a complete crawl must collect")
    p.set_defaults(func=cmd_serve)


def synthetic_site(posts: int, seed: int = 1, generation: int = 0, engine: str = "ib-vbulletin"):
    from importlib import import_module

    from miata_spiders.testing.forumgen import ForumShape, SyntheticForum

    module, cls = DEMO_ENGINES[engine][0].split(":")
    site_class = getattr(import_module(f"miata_spiders.testing.{module}"), cls)
    shape = replace(ForumShape.for_posts(posts), seed=seed, generation=generation)
    return site_class(SyntheticForum(shape))


def run_crawl(site: str, base_url: str, out: Path, extra_settings: dict | None = None, spider_args=None) -> dict:
    """Run one spider to completion in this process; return its final stats."""
    from scrapy.crawler import CrawlerProcess
    from scrapy.utils.project import get_project_settings

    settings = get_project_settings()
    settings.setdict(
        {
            "MIATA_DATA_DIR": str(out),
            "HTTPCACHE_DIR": str((out / "httpcache").resolve()),
            # The demo server is ours and local: a short politeness floor keeps the demo well under a
            # minute while AutoThrottle, retries and robots.txt still run as in a real crawl.
            "DOWNLOAD_DELAY": 0.01,
            "AUTOTHROTTLE_START_DELAY": 0.01,
            "AUTOTHROTTLE_MAX_DELAY": 0.5,
            "LOG_LEVEL": "WARNING",
            **(extra_settings or {}),
        },
        priority="cmdline",
    )
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(site)
    process.crawl(crawler, base_url=base_url, **(spider_args or {}))
    process.start()
    # The dataset partition is the spider's name once it runs ("forum" becomes forum-<host>).
    return {**crawler.stats.get_stats(), "site": crawler.spider.name}


def cmd_demo(args) -> int:
    from miata_spiders.testing.fixture_site import FixtureSite
    from miata_spiders.testing.server import ForumServer

    out = Path(args.out)
    if args.fixture:
        site, spider, spider_args = FixtureSite.named(args.fixture), args.fixture, {}
    else:
        site = synthetic_site(args.posts, engine=args.engine)
        _, spider, spider_args = DEMO_ENGINES[args.engine]
    server = ForumServer(site)
    base_url = server.start()
    print(f"miata demo: serving a {'fixture' if args.fixture else args.engine} forum at {base_url}, crawling it with `{spider}`...")
    started = time.monotonic()
    try:
        stats = run_crawl(spider, base_url, out, spider_args=spider_args)
    finally:
        server.stop()
    elapsed = time.monotonic() - started
    _print_summary(stats["site"], out, stats, elapsed, len(server.requests), len(server.ground_truth()))
    return 0 if stats.get("finish_reason") == "finished" else 1


def cmd_serve(args) -> int:
    from miata_spiders.testing.server import ForumServer

    server = ForumServer(synthetic_site(args.posts, args.seed, args.generation, args.engine))
    base_url = server.start(port=args.port)
    if args.ground_truth:
        n = server.write_ground_truth(args.ground_truth)
        print(f"wrote {n} post ids to {args.ground_truth}")
    _, spider, spider_args = DEMO_ENGINES[args.engine]
    extra = "".join(f" -a {k}={v}" for k, v in spider_args.items())
    print(f"serving a synthetic {args.engine} forum at {base_url}/ (Ctrl-C to stop)")
    print(f"crawl it: scrapy crawl {spider}{extra} -a base_url={base_url}/")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()
    return 0


def _search_example(table) -> str:
    """A word that is in the data just crawled: the longest word of the most common thread title."""
    titles = [t for t in (table.column("thread_title").to_pylist() if table is not None else []) if t]
    if not titles:
        return "boost leak"
    title = max(set(titles), key=lambda t: (titles.count(t), t))
    words = [w.strip(".,!?:;()\"'").lower() for w in title.split()]
    return max((w for w in words if w.isalpha()), key=len, default="boost")


def _print_summary(site: str, out: Path, stats: dict, elapsed: float, requests: int, expected: int) -> None:
    import pyarrow.dataset as ds

    posts_dir = out / "posts"
    table = None
    if posts_dir.exists():
        table = ds.dataset(str(posts_dir), format="parquet", partitioning="hive").to_table(
            columns=["post_id", "thread_id", "thread_title"], filter=ds.field("site") == site)
    rows = table.num_rows if table is not None else 0
    threads = len(set(table.column("thread_id").to_pylist())) if table is not None else 0
    dropped = stats.get("miata/dedupe/dropped_in_run", 0) + stats.get("miata/dedupe/dropped_existing", 0)
    print(f"\nmiata demo: done in {elapsed:.1f} s (finish reason: {stats.get('finish_reason')})")
    print(f"  posts in dataset : {rows} in {threads} threads (the forum has {expected} posts)")
    print(f"  this run         : {stats.get('miata/parquet/rows_written', 0)} rows written, {dropped} duplicates dropped")
    print(f"  requests         : {requests} answered by the server, {stats.get('downloader/request_count', 0)} sent")
    print(f"  data             : {posts_dir.resolve()}/site={site}/")
    print(f"  query it         : miata query --data-dir {out} \"SELECT author, count(*) AS posts FROM posts "
          "GROUP BY 1 ORDER BY 2 DESC LIMIT 5\"")
    print(f"                     (or DuckDB itself: read_parquet('{posts_dir}/*/*.parquet', hive_partitioning=true))")
    print(f"  look at it       : miata data stats --data-dir {out} --plot {out / 'stats.png'}")
    print(f"  search it        : miata data search --data-dir {out} \"{_search_example(table)}\"")
