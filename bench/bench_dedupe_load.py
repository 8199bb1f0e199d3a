"""How long and how much memory DedupePipeline needs to load a site's stored post versions; and the
peak memory of a whole run's storage path as the number of posts grows.

    .venv/bin/python bench/bench_dedupe_load.py --rows 10000000 [--dir /tmp/miata-bench/dedupe] [--json FILE]
    .venv/bin/python bench/bench_dedupe_load.py --run-sizes 100000,1000000 [--no-fold] [--json FILE]

``--run-sizes``: for each size, a fresh process pushes that many new posts (15 a thread page) through
the crawl's own storage path - DedupePipeline, ParquetPipeline (default batch size), and each page's
progress through the spider's CrawlProgress into the site's CrawlState - exactly as Scrapy's scraper
calls them (item_scraped after each item), and reports its peak RSS (VmHWM). No parsing and no
network: what is measured is what grows with the size of the site. ``--no-fold`` disconnects the
dedupe fold at part commits (how the pipeline kept every post of the run before), for comparison.

Writes ``rows`` synthetic posts as parts of MIATA_PARQUET_BATCH_SIZE rows (same compression and
encodings as the real writer, so the file count is realistic), then loads them in a fresh process
so the peak RSS reported is the loader's own. Only the columns dedupe reads are filled: the others
are null, which does not change what the loader reads.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pyarrow as pa  # noqa: E402
import pyarrow.compute as pc  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

from miata_spiders.settings import MIATA_PARQUET_BATCH_SIZE  # noqa: E402
from pipelines.dataset import site_dir  # noqa: E402
from pipelines.parquet import COMPRESSION, DICTIONARY_COLUMNS  # noqa: E402
from pipelines.schema import POST_SCHEMA  # noqa: E402

SITE = "miataturbo"
SCRAPED_AT = datetime(2026, 1, 10, tzinfo=timezone.utc)


def synthetic_part(first_row: int, rows: int, text_ids: bool) -> pa.Table:
    index = pa.array(range(first_row, first_row + rows), pa.uint64())
    # Distinct 7-8 digit ids in scattered order (multiplicative hash modulo 2**26), as a crawl over
    # many threads stores them: sorting them costs what it would on real data.
    scattered = pc.bit_wise_and(pc.multiply(index, 2654435761), 2**26 - 1)
    post_ids = pc.add(scattered, 1_000_000).cast(pa.string())
    if text_ids:  # Reddit-like ids that are not plain numbers: the loader's slower text path
        post_ids = pc.binary_join_element_wise("t1_", post_ids, "")
    hashes = os.urandom(rows * 32).hex().encode()
    offsets = pa.array(range(0, 64 * rows + 1, 64), pa.int32()).buffers()[1]
    content_hashes = pa.StringArray.from_buffers(rows, offsets, pa.py_buffer(hashes))
    columns = {
        "source": pa.array(["forum"] * rows),
        "site": pa.array([SITE] * rows),
        "post_id": post_ids,
        "thread_id": pc.cast(pc.divide(index, 15), pa.string()),
        "content_hash": content_hashes,
        "scraped_at": pa.array([SCRAPED_AT] * rows, POST_SCHEMA.field("scraped_at").type),
    }
    arrays = [columns.get(field.name, pa.nulls(rows, field.type)) for field in POST_SCHEMA]
    return pa.Table.from_arrays(arrays, schema=POST_SCHEMA)


def generate(data_dir: Path, rows: int, text_ids: bool) -> None:
    directory = site_dir(data_dir, SITE)
    directory.mkdir(parents=True, exist_ok=True)
    for number, first in enumerate(range(0, rows, MIATA_PARQUET_BATCH_SIZE)):
        part = synthetic_part(first, min(MIATA_PARQUET_BATCH_SIZE, rows - first), text_ids)
        pq.write_table(
            part,
            directory / f"part-{number:08d}.parquet",
            compression=COMPRESSION,
            use_dictionary=DICTIONARY_COLUMNS,
        )


def measure_load(data_dir: Path) -> None:
    from pipelines.dataset import load_seen_keys
    from pipelines.dedupe import SeenPosts

    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    seen = SeenPosts(load_seen_keys(data_dir, SITE))
    elapsed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    lookups = 20_000
    started = time.perf_counter()
    for n in range(lookups):
        seen.check_and_add(str(1_000_000 + n * 37), "0" * 64)
    lookup_us = (time.perf_counter() - started) / lookups * 1e6
    print(json.dumps({
        "rows": len(seen) - lookups, "load_s": round(elapsed, 2), "peak_rss_mib": round(peak / 1024),
        "interpreter_and_imports_mib": round(rss_before / 1024), "arrow_held_mib": round(pa.total_allocated_bytes() / 2**20),
        "lookup_us": round(lookup_us, 1), "parts": len(list(site_dir(data_dir, SITE).glob("*.parquet"))),
    }))


RUN_CHILD = """
import json, sys
sys.path.insert(0, sys.argv[1])
from bench_dedupe_load import run_storage_path
print(json.dumps(run_storage_path(int(sys.argv[2]), sys.argv[3], fold=sys.argv[4] == "fold")))
"""
POSTS_PER_PAGE = 15


def peak_rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_storage_path(posts: int, data_dir: str, fold: bool = True) -> dict:
    """``posts`` new posts through dedupe -> Parquet -> crawl state, as one crawl of the site would."""
    from scrapy import Spider, signals
    from scrapy.utils.test import get_crawler

    from miata_spiders.items import PostItem
    from miata_spiders.settings import MIATA_PARQUET_FLUSH_SECONDS
    from pipelines.crawl_state import CrawlState, ThreadProgress
    from pipelines.dedupe import DedupePipeline
    from pipelines.parquet import ParquetPipeline
    from pipelines.progress import CrawlProgress
    from pipelines.schema import content_hash

    class BenchSpider(Spider):
        name = SITE

    crawler = get_crawler(BenchSpider, {"MIATA_DATA_DIR": data_dir, "MIATA_PARQUET_BATCH_SIZE": MIATA_PARQUET_BATCH_SIZE,
                                        "MIATA_PARQUET_FLUSH_SECONDS": MIATA_PARQUET_FLUSH_SECONDS})
    crawler.spider = BenchSpider.from_crawler(crawler)
    progress = CrawlProgress(crawler, CrawlState.for_site(data_dir, SITE))
    dedupe, writer = DedupePipeline.from_crawler(crawler), ParquetPipeline.from_crawler(crawler)
    if not fold:
        from pipelines.signals import part_committed

        crawler.signals.disconnect(dedupe._part_committed, signal=part_committed)
    dedupe.open_spider()
    writer.open_spider()
    started = time.perf_counter()
    rss_at_start = peak_rss_mib()
    body = "Swapped to a 3 port MAC valve and the creep is gone; boost holds 12 psi to redline. "
    for first in range(0, posts, POSTS_PER_PAGE):
        thread_id, page = divmod(first // POSTS_PER_PAGE, 40)
        response = object()  # what Scrapy's item signals carry: the page the posts came from
        count = min(POSTS_PER_PAGE, posts - first)
        progress.expect(response, ThreadProgress(
            site=SITE, thread_id=str(thread_id), forum_id="12", thread_url=None, page=page + 1,
            page_url=f"https://www.miataturbo.net/t{thread_id}/page{page + 1}", last_position=first + count,
            has_next_page=page < 39, reply_count=None, last_post_at=None), posts=count)
        for n in range(first, first + count):
            text = f"{body}#{n}"
            item = PostItem(source="forum", site=SITE, post_id=str(1_000_000 + n), thread_id=str(thread_id),
                            page=page + 1, position=n - first + 1, body_text=text, content_hash=content_hash(text),
                            scraped_at=SCRAPED_AT)
            writer.process_item(dedupe.process_item(item))
            crawler.signals.send_catch_log(signals.item_scraped, item=item, response=response, spider=crawler.spider)
    dedupe.close_spider()
    writer.close_spider()
    progress.close()
    stats = crawler.stats.get_stats()
    return {"posts": posts, "fold": fold, "peak_rss_mib": round(peak_rss_mib()),
            "rss_after_imports_mib": round(rss_at_start), "seconds": round(time.perf_counter() - started, 1),
            "rows_written": stats.get("miata/parquet/rows_written"), "parts": stats.get("miata/parquet/files_written"),
            "pages_recorded": stats.get("miata/state/pages_committed")}


def run_sizes(sizes: list[int], workdir: Path, fold: bool) -> list[dict]:
    import shutil

    results = []
    for posts in sizes:
        data_dir = workdir / f"storage-path-{posts}"
        shutil.rmtree(data_dir, ignore_errors=True)
        done = subprocess.run([sys.executable, "-c", RUN_CHILD, str(Path(__file__).resolve().parent), str(posts),
                               str(data_dir), "fold" if fold else "no-fold"],
                              check=True, capture_output=True, text=True)
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
        print(json.dumps(results[-1]), file=sys.stderr)
        shutil.rmtree(data_dir, ignore_errors=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/miata-bench"))
    parser.add_argument("--text-ids", action="store_true", help="non-numeric post ids, as Reddit's")
    parser.add_argument("--measure-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--run-sizes", help="measure a run's storage path at these numbers of posts (comma-separated)")
    parser.add_argument("--no-fold", action="store_true", help="with --run-sizes: without the dedupe fold")
    args = parser.parse_args()
    if args.run_sizes:
        results = run_sizes([int(n) for n in args.run_sizes.split(",")], args.dir, fold=not args.no_fold)
        result = {"benchmark": "storage_path_memory", "command": " ".join(sys.argv), "sizes": results}
        print(json.dumps(result))
        if args.json:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(result, indent=2))
        return
    data_dir = args.dir / f"rows-{args.rows}{'-text' if args.text_ids else ''}"
    if args.measure_only:
        measure_load(data_dir)
        return
    generated = None
    if not site_dir(data_dir, SITE).is_dir():
        started = time.perf_counter()
        generate(data_dir, args.rows, args.text_ids)
        generated = round(time.perf_counter() - started, 1)
        print(f"generated {args.rows} rows in {generated}s under {data_dir}", file=sys.stderr)
    command = [sys.executable, __file__, "--rows", str(args.rows), "--dir", str(args.dir), "--measure-only"]
    done = subprocess.run(command + (["--text-ids"] if args.text_ids else []), check=True, capture_output=True, text=True)
    result = {"benchmark": "dedupe_load", "text_ids": args.text_ids, **json.loads(done.stdout.strip().splitlines()[-1])}
    print(json.dumps(result))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
