"""Offline re-parsing at scale: the replay crawl through Scrapy, and ``miata reparse``, of the same cache.

    .venv/bin/python bench/bench_offline.py --sizes 10000,100000,300000 [--workdir DIR] [--json FILE]

For each size: the HTTP cache of a complete crawl of a synthetic forum of that many posts
(``make_cache.py``, reused if present), then

1. the replay crawl: ``scrapy crawl miataturbo -s HTTPCACHE_IGNORE_MISSING=True`` with the project's
   settings, spider and pipelines, into a fresh dataset: pages/s, posts/s, wall time, peak RSS;
2. ``miata reparse miataturbo`` of the same cache into another fresh dataset, on every core (and on
   one, for scaling), and whether its rows are identical to the replay's.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import BENCH_BASE_URL, DEFAULT_WORKDIR, PYTHON, crawl_stats, directory_bytes, machine, run_measured, scrapy_env, write_json  # noqa: E402

SITE = "miataturbo"

# `miata reparse` as a child process: the main process's peak RSS is sampled from outside (common.py), the
# largest worker's from /proc while they run; the stats come back as JSON on the last line.
REPARSE_CHILD = """
import json, os, sys, threading
from dataclasses import asdict
from pathlib import Path
from miata_spiders.reparse import reparse
from miata_spiders.spiders.miataturbo import MiataturboSpider

peak, done = [0], threading.Event()

def watch_workers():
    me = str(os.getpid())
    while not done.wait(0.5):
        for status in Path("/proc").glob("[0-9]*/status"):
            try:
                text = status.read_text()
            except OSError:
                continue
            fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
            if fields.get("PPid", "").strip() == me and "VmHWM" in fields:
                peak[0] = max(peak[0], int(fields["VmHWM"].split()[0]))

if __name__ == "__main__":
    threading.Thread(target=watch_workers, daemon=True).start()
    stats = reparse(MiataturboSpider, {}, sys.argv[1], sys.argv[2], use_gzip=True, batch_size=5000, workers=int(sys.argv[3]))
    done.set()
    print(json.dumps({**asdict(stats), "worker_peak_rss_mib": peak[0] / 1024}))
"""


def ensure_cache(posts: int, workdir: Path) -> tuple[Path, dict]:
    from make_cache import make_cache

    cache = workdir / f"cache-{posts}"
    marker = cache / "complete.json"
    if marker.exists():
        return cache, json.loads(marker.read_text())
    shutil.rmtree(cache, ignore_errors=True)
    made = make_cache(posts, cache)
    made["bytes"] = directory_bytes(cache)
    marker.write_text(json.dumps(made))
    return cache, made


WHATIF = "item_to_row,check_row,user_agent"


def whatif_env() -> dict:
    """Environment of a run with the recommended product changes patched in (bench/whatif/)."""
    from common import ROOT

    env = scrapy_env()
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "bench" / "whatif"), env.get("PYTHONPATH")]))
    env["MIATA_WHATIF"] = WHATIF
    return env


def replay(cache: Path, out: Path, env: dict | None = None) -> dict:
    shutil.rmtree(out, ignore_errors=True)
    cmd = [PYTHON, "-m", "scrapy", "crawl", SITE, "-a", f"base_url={BENCH_BASE_URL}",
           "-s", f"HTTPCACHE_DIR={cache}", "-s", "HTTPCACHE_IGNORE_MISSING=True",
           "-s", f"MIATA_DATA_DIR={out}", "-s", "LOG_LEVEL=WARNING"]
    run = run_measured(cmd, env=env or scrapy_env())
    if run.returncode != 0:
        raise RuntimeError(f"replay crawl failed: {run.stderr[-3000:]}")
    stats = crawl_stats(out, SITE)
    elapsed = stats.get("elapsed_time_seconds") or run.seconds
    pages = stats.get("miata/pages/thread", 0)
    posts = stats.get("miata/parquet/rows_written", 0)
    return {"command": " ".join(cmd[1:]).replace(str(cache), "CACHE").replace(str(out), "OUT"),
            "wall_s": round(run.seconds, 1), "crawl_s": round(elapsed, 1), "cpu_s": round(run.cpu_seconds, 1),
            "thread_pages": pages, "requests": stats.get("downloader/request_count", 0), "posts": posts,
            "thread_pages_per_s": round(pages / elapsed, 1), "posts_per_s": round(posts / elapsed),
            "cpu_ms_per_page": round(run.cpu_seconds / max(1, pages) * 1e3, 2),
            "peak_rss_mib": round(run.peak_rss_mib), "finish_reason": stats.get("finish_reason"),
            "unrecognised_or_missing": stats.get("httpcache/miss", 0) + stats.get("miata/parse/gave_up", 0)}


def reparse(cache: Path, out: Path, workers: int, env: dict | None = None) -> dict:
    shutil.rmtree(out, ignore_errors=True)
    run = run_measured([PYTHON, "-c", REPARSE_CHILD, str(out), str(cache), str(workers)], env=env or scrapy_env())
    if run.returncode != 0:
        raise RuntimeError(f"reparse failed: {run.stderr[-3000:]}")
    stats = json.loads(run.stdout.strip().splitlines()[-1])
    return {"workers": workers, "wall_s": round(run.seconds, 1), "thread_pages": stats["thread_pages"],
            "posts": stats["rows_written"], "thread_pages_per_s": round(stats["thread_pages"] / run.seconds, 1),
            "posts_per_s": round(stats["rows_written"] / run.seconds), "cpu_s": round(run.cpu_seconds, 1),
            "cpu_ms_per_page": round(run.cpu_seconds / max(1, stats["thread_pages"]) * 1e3, 2),
            "main_peak_rss_mib": round(run.peak_rss_mib), "worker_peak_rss_mib": round(stats["worker_peak_rss_mib"]),
            "pages_without_first_page": stats["pages_without_first_page"], "unrecognised": stats["unrecognised"]}


def same_rows(a: Path, b: Path) -> dict:
    """Are the two datasets the same rows, every column (scraped_at included)? Order does not matter."""
    import pyarrow.dataset as ds

    def table(path):
        t = ds.dataset(str(path / "posts"), format="parquet", partitioning="hive").to_table()
        return t.sort_by([("post_id", "ascending"), ("content_hash", "ascending")])

    left, right = table(a), table(b)
    return {"rows": left.num_rows, "identical": left.num_rows == right.num_rows and left.equals(right),
            "identical_ignoring_scraped_at": left.drop_columns(["scraped_at"]).equals(right.drop_columns(["scraped_at"]))}


def run(sizes: list[int], workdir: Path, scaling_size: int | None, whatif_size: int | None) -> dict:
    results = []
    for posts in sizes:
        cache, made = ensure_cache(posts, workdir)
        print(f"[{posts}] cache: {made['pages']} pages", file=sys.stderr)
        row = {"posts_target": posts, "forum_posts": made["posts"], "cache_pages": made["pages"],
               "cache_bytes": made.get("bytes"), "cache_build_s": made["seconds"]}
        row["replay"] = replay(cache, workdir / f"replay-{posts}")
        print(f"[{posts}] replay: {row['replay']}", file=sys.stderr)
        row["reparse"] = [reparse(cache, workdir / f"reparse-{posts}", workers=os.cpu_count())]
        if posts == scaling_size:
            row["reparse"].append(reparse(cache, workdir / f"reparse-{posts}-1", workers=1))
            shutil.rmtree(workdir / f"reparse-{posts}-1", ignore_errors=True)
        print(f"[{posts}] reparse: {row['reparse']}", file=sys.stderr)
        row["identity"] = same_rows(workdir / f"replay-{posts}", workdir / f"reparse-{posts}")
        if posts == whatif_size:
            # The recommended product changes, patched in: same rows, less time.
            row["whatif"] = {"patches": WHATIF, "replay": replay(cache, workdir / f"whatif-replay-{posts}", whatif_env()),
                             "reparse": reparse(cache, workdir / f"whatif-reparse-{posts}", os.cpu_count(), whatif_env())}
            row["whatif"]["replay_identical"] = same_rows(workdir / f"replay-{posts}", workdir / f"whatif-replay-{posts}")
            row["whatif"]["reparse_identical"] = same_rows(workdir / f"replay-{posts}", workdir / f"whatif-reparse-{posts}")
            print(f"[{posts}] what-if: {row['whatif']}", file=sys.stderr)
            for leftover in (f"whatif-replay-{posts}", f"whatif-reparse-{posts}"):
                shutil.rmtree(workdir / leftover, ignore_errors=True)
        row["complete"] = row["replay"]["posts"] == made["posts"] == row["reparse"][0]["posts"]
        print(f"[{posts}] identity: {row['identity']}", file=sys.stderr)
        results.append(row)
        for leftover in (f"replay-{posts}", f"reparse-{posts}"):
            shutil.rmtree(workdir / leftover, ignore_errors=True)
    return {"benchmark": "offline", "machine": machine(), "sizes": results}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,300000")
    parser.add_argument("--scaling-size", type=int, default=100_000, help="size at which reparse also runs on 1 worker")
    parser.add_argument("--whatif-size", type=int, default=100_000,
                        help="size at which replay and reparse also run with the recommended changes patched in")
    parser.add_argument("--workdir", type=Path, default=DEFAULT_WORKDIR)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    write_json(args.json, run([int(s) for s in args.sizes.split(",")], args.workdir, args.scaling_size, args.whatif_size))


if __name__ == "__main__":
    main()
