"""Live-crawl economy: requests a crawl costs the forum, against the ideal, for full and incremental crawls.

    .venv/bin/python bench/bench_requests.py [--posts 100000] [--json FILE]

Real ``scrapy crawl`` runs (project settings, no politeness delay) against forums served by
``ForumServer`` on 127.0.0.1, whose request log is what the forum saw. The ideal full crawl fetches
each page once: the index, every listing page, ceil(posts / posts-per-page) pages per thread (plus
robots.txt, counted apart). Measured on the two complete fixture forums (the phpBB fixture boards are
partial: they link to pages they do not hold) and on a synthetic forum of ``--posts`` posts, which is
then re-crawled unchanged and after growing by about 1% (issue 6's targets: at most 2% and 5% of the
first crawl's requests).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import DEFAULT_WORKDIR, PYTHON, crawl_stats, machine, run_measured, scrapy_env, write_json  # noqa: E402

# Growth between generation 0 and 1, tuned so one generation adds about 1% posts to a for_posts() forum:
# one new thread per forum (~25 posts each) and 4% of old threads getting 3 replies (plus an edit).
GROWTH = {"grown_thread_fraction": 0.04, "replies_per_growth": 3, "new_threads_per_generation": 1}
NO_DELAY = {"DOWNLOAD_DELAY": "0", "AUTOTHROTTLE_ENABLED": "False", "LOG_LEVEL": "WARNING"}


def crawl(spider: str, base_url: str, data_dir: Path, extra: dict | None = None) -> dict:
    settings = {**NO_DELAY, "MIATA_DATA_DIR": str(data_dir), "HTTPCACHE_DIR": str(data_dir / "httpcache"), **(extra or {})}
    cmd = [PYTHON, "-m", "scrapy", "crawl", spider, "-a", f"base_url={base_url}"]
    for name, value in settings.items():
        cmd += ["-s", f"{name}={value}"]
    run = run_measured(cmd, env=scrapy_env())
    if run.returncode != 0:
        raise RuntimeError(f"crawl failed: {run.stderr[-3000:]}")
    stats = crawl_stats(data_dir, spider)
    return {"seconds": round(run.seconds, 1), "rows_written": stats.get("miata/parquet/rows_written", 0),
            "new_versions": stats.get("miata/dedupe/new_versions", 0), "peak_rss_mib": round(run.peak_rss_mib)}


def counted(server, started_at: int) -> dict:
    requests = server.requests[started_at:]
    robots = sum(1 for r in requests if r.path == "/robots.txt")
    pages = [r.path for r in requests if r.path != "/robots.txt"]
    return {"requests": len(requests), "robots": robots, "pages": len(pages), "repeated_pages": len(pages) - len(set(pages)),
            "non_200": sum(1 for r in requests if r.status != 200)}


def fixture_economy(name: str, workdir: Path) -> dict:
    from miata_spiders.testing.fixture_site import FixtureSite
    from miata_spiders.testing.server import ForumServer

    site = FixtureSite.named(name)
    server = ForumServer(site)
    base_url = server.start()
    data = workdir / f"fixture-{name}"
    shutil.rmtree(data, ignore_errors=True)
    try:
        result = crawl(name, base_url, data)
        seen = counted(server, 0)
    finally:
        server.stop()
    # Ideal: every distinct page the forum holds, once (the manifest maps some URL variants to one file).
    ideal = len({page for path, page in site.pages.items() if path != "/robots.txt"})
    posts = result["rows_written"]
    return {"forum": f"fixtures/{name}", "posts": posts, "ideal_pages": ideal, **seen,
            "requests_per_post": round(seen["requests"] / posts, 3), "ideal_per_post": round(ideal / posts, 3),
            "pages_vs_ideal": round(seen["pages"] / ideal, 3)}


def synthetic_site(posts: int, generation: int):
    from miata_spiders.testing.forumgen import ForumShape, SyntheticForum
    from miata_spiders.testing.render_ib import IBForumSite

    return IBForumSite(SyntheticForum(replace(ForumShape.for_posts(posts, **GROWTH), seed=1, generation=generation)))


def ideal_pages(site) -> int:
    forum = site.forum
    listings = sum(site.listing_page_count(f) for f in forum.forums.values())
    return 1 + listings + sum(forum.page_count(t) for t in forum.all_thread_ids())


def synthetic_economy(posts: int, workdir: Path) -> dict:
    from miata_spiders.testing.server import ForumServer

    data = workdir / f"economy-{posts}"
    shutil.rmtree(data, ignore_errors=True)
    site0 = synthetic_site(posts, 0)
    server = ForumServer(site0)
    base_url = server.start()
    try:
        started = time.monotonic()
        first = crawl("miataturbo", base_url, data)
        full = counted(server, 0)
        total0, ideal = site0.forum.total_posts(), ideal_pages(site0)
        print(f"full crawl: {full} in {time.monotonic() - started:.0f} s", file=sys.stderr)

        mark = len(server.requests)
        unchanged_run = crawl("miataturbo", base_url, data)
        unchanged = counted(server, mark)

        site1 = synthetic_site(posts, 1)
        server.site = site1
        mark = len(server.requests)
        grown_run = crawl("miataturbo", base_url, data)
        grown = counted(server, mark)
        total1 = site1.forum.total_posts()
        forum0, forum1 = site0.forum, site1.forum
        old_threads = set(forum0.all_thread_ids())
        grown_threads = [t for t in old_threads if forum1.thread(t).post_count != forum0.thread(t).post_count]
        new_threads = [t for t in forum1.all_thread_ids() if t not in old_threads]
        # What an ideal incremental crawl must fetch: index, page 1 of every listing (to see what changed;
        # changed threads sort first, so they are all on it here), the last known page onward of every grown
        # thread, every page of every new thread.
        listing_first_pages = len(forum1.forums)
        ideal_incremental = (1 + listing_first_pages
                             + sum(forum1.page_count(t) - forum0.page_count(t) + 1 for t in grown_threads)
                             + sum(forum1.page_count(t) for t in new_threads))
    finally:
        server.stop()
    return {
        "forum": f"synthetic, ForumShape.for_posts({posts}) + {GROWTH}",
        "posts": total0, "threads": len(old_threads), "ideal_pages": ideal,
        "full": {**full, "seconds": first["seconds"], "rows_written": first["rows_written"], "peak_rss_mib": first["peak_rss_mib"],
                 "requests_per_post": round(full["requests"] / total0, 4), "ideal_per_post": round(ideal / total0, 4),
                 "pages_vs_ideal": round(full["pages"] / ideal, 4)},
        "unchanged": {**unchanged, "seconds": unchanged_run["seconds"], "rows_written": unchanged_run["rows_written"],
                      "share_of_full": round(unchanged["requests"] / full["requests"], 4),
                      "ideal_pages": 1 + listing_first_pages},
        "grown": {**grown, "seconds": grown_run["seconds"], "rows_written": grown_run["rows_written"],
                  "new_versions": grown_run["new_versions"], "posts_added": total1 - total0,
                  "growth": round((total1 - total0) / total0, 4), "grown_threads": len(grown_threads),
                  "new_threads": len(new_threads), "share_of_full": round(grown["requests"] / full["requests"], 4),
                  "ideal_pages": ideal_incremental, "pages_vs_ideal": round(grown["pages"] / ideal_incremental, 3)},
    }


def run(posts: int, workdir: Path) -> dict:
    workdir.mkdir(parents=True, exist_ok=True)
    fixtures = [fixture_economy(name, workdir) for name in ("miataturbo", "mx5nutz")]
    synthetic = synthetic_economy(posts, workdir)
    shutil.rmtree(workdir / f"economy-{posts}", ignore_errors=True)
    return {"benchmark": "requests", "machine": machine(), "fixtures": fixtures, "synthetic": synthetic}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--workdir", type=Path, default=DEFAULT_WORKDIR)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    write_json(args.json, run(args.posts, args.workdir))


if __name__ == "__main__":
    main()
