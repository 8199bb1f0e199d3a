"""Storage: bytes per post on disk as our Parquet vs CSV vs JSONL of the same rows, write throughput,
and the compression / dictionary-encoding choices of ``pipelines/parquet.py`` against the alternatives.

    .venv/bin/python bench/bench_storage.py [--posts 100000] [--json FILE]
    .venv/bin/python bench/bench_storage.py --kill-loss [--kill-after 58] [--json FILE]

Rows: the posts of a synthetic forum of ``--posts`` posts as our spider parses them (rebuilt from the
benchmark's HTTP cache with ``miata reparse``), and, as a sample of real text, every post of the
fixture forums and of the reference pages in ../shared/reference-html when present. CSV and JSONL are
what the seed project's approach writes (one row per post, lists as JSON text, uncompressed).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import shutil
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import DEFAULT_WORKDIR, ROOT, machine, write_json  # noqa: E402

REFERENCE = ROOT.parent / "shared" / "reference-html"
# (label, compression, level, dictionary): dictionary "ours" = pipelines.parquet.DICTIONARY_COLUMNS
VARIANTS = [
    ("zstd (pyarrow's default level, 1), our dictionary columns [current]", "zstd", None, "ours"),
    ("zstd(3), our dictionary columns", "zstd", 3, "ours"),
    ("zstd(9), our dictionary columns", "zstd", 9, "ours"),
    ("zstd(19), our dictionary columns", "zstd", 19, "ours"),
    ("zstd(1), dictionary on every column", "zstd", None, True),
    ("zstd(1), no dictionary", "zstd", None, False),
    ("snappy, our dictionary columns", "snappy", None, "ours"),
    ("gzip(6), our dictionary columns", "gzip", None, "ours"),
    ("none, our dictionary columns", "none", None, "ours"),
]


def synthetic_rows(posts: int, workdir: Path):
    """The synthetic forum's posts as rows (the site column comes back from the partition path)."""
    import pyarrow.dataset as ds

    from bench_offline import ensure_cache
    from miata_spiders.reparse import reparse
    from miata_spiders.spiders.miataturbo import MiataturboSpider

    cache, _ = ensure_cache(posts, workdir)
    out = workdir / f"storage-{posts}"
    shutil.rmtree(out, ignore_errors=True)
    reparse(MiataturboSpider, {}, out, cache, use_gzip=True, batch_size=5000, workers=os.cpu_count())
    table = ds.dataset(str(out / "posts"), format="parquet", partitioning="hive").to_table()
    shutil.rmtree(out, ignore_errors=True)
    return table


def real_text_rows():
    """Posts of the fixture forums and reference pages, parsed by our engines, as a POST_SCHEMA table."""
    import pyarrow as pa
    from scrapy.http import HtmlResponse

    from bench_parse import load_pages
    from miata_spiders.dates import DateResolver
    from miata_spiders.engines import get_engine
    from miata_spiders.page_records import post_items
    from pipelines.parquet import item_to_row
    from pipelines.schema import POST_SCHEMA

    pages = [p for label, ps in load_pages(1).items() if "synthetic" not in label for p in ps]
    if (REFERENCE / "pages.json").exists():
        engines = {"ib-vbulletin": "vbulletin", "vbulletin3": "vbulletin", "vbulletin4": "vbulletin",
                   "xenforo1": "xenforo", "xenforo2": "xenforo", "phpbb3": "phpbb"}
        now = datetime.fromisoformat("2026-01-01T00:00:00+00:00")
        for name, spec in json.loads((REFERENCE / "pages.json").read_text()).items():
            if spec["engine"] in engines:
                pages.append({"engine": engines[spec["engine"]], "url": spec["url"], "body": (REFERENCE / name).read_bytes(),
                              "dates": DateResolver(now=now), "encoding": None})
    rows = []
    for page in pages:
        response = HtmlResponse(url=page["url"], body=page["body"], encoding=page["encoding"])
        parsed = get_engine(page["engine"]).parse_thread_page(response, page["url"], page["dates"])
        parsed.thread_id = parsed.thread_id or "0"
        site = page["url"].split("/")[2]
        for item in post_items(parsed, site, parsed.canonical_url, page["dates"].now):
            rows.append(item_to_row(item, site))
    return pa.Table.from_pylist(rows, schema=POST_SCHEMA)


def _plain(value):
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False, default=str)
    return value


def text_formats(table) -> dict:
    """Bytes of the same rows as CSV and JSONL, uncompressed (and gzip'd, for reference)."""
    import gzip

    rows = table.to_pylist()
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=table.column_names)
    writer.writeheader()
    started = time.perf_counter()
    for row in rows:
        writer.writerow({k: _plain(v) for k, v in row.items()})
    csv_seconds = time.perf_counter() - started
    csv_bytes = buffer.getvalue().encode()
    started = time.perf_counter()
    jsonl = "".join(json.dumps(row, ensure_ascii=False, default=str) + "\n" for row in rows).encode()
    jsonl_seconds = time.perf_counter() - started
    return {"csv_bytes": len(csv_bytes), "jsonl_bytes": len(jsonl), "csv_gzip_bytes": len(gzip.compress(csv_bytes, 6)),
            "csv_rows_per_s": round(len(rows) / csv_seconds), "jsonl_rows_per_s": round(len(rows) / jsonl_seconds)}


def parquet_variant(table, compression: str, level, dictionary, part_rows: int) -> dict:
    """Bytes written as parts of ``part_rows`` rows (the writer's batches), and encode speed."""
    import pyarrow.parquet as pq

    from pipelines.parquet import DICTIONARY_COLUMNS

    use_dictionary = DICTIONARY_COLUMNS if dictionary == "ours" else dictionary
    table = table.drop_columns(["site"]) if "site" in table.column_names else table
    total, started = 0, time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for number, start in enumerate(range(0, table.num_rows, part_rows)):
            path = Path(tmp) / f"part-{number}.parquet"
            pq.write_table(table.slice(start, part_rows), path, compression=compression, compression_level=level,
                           use_dictionary=use_dictionary)
            total += path.stat().st_size
        seconds = time.perf_counter() - started
        columns = _column_bytes(Path(tmp) / "part-0.parquet")
    return {"bytes": total, "encode_rows_per_s": round(table.num_rows / seconds), "column_bytes_part0": columns}


def _column_bytes(path: Path) -> dict:
    import pyarrow.parquet as pq

    meta = pq.ParquetFile(path).metadata
    sizes: dict[str, int] = {}
    for group in range(meta.num_row_groups):
        for column in range(meta.num_columns):
            chunk = meta.row_group(group).column(column)
            name = chunk.path_in_schema.split(".")[0]
            sizes[name] = sizes.get(name, 0) + chunk.total_compressed_size
    return dict(sorted(sizes.items(), key=lambda kv: -kv[1]))


def writer_throughput(table, batch_size: int) -> dict:
    """Rows/s through the real ParquetBatchWriter.add() (per-row checks included), and with the cheaper
    per-row check proposed in docs/benchmarks.md (bench/whatif/) patched in."""
    from pipelines import parquet

    sys.path.insert(0, str(Path(__file__).resolve().parent / "whatif"))
    from bench_whatif_patches import cheap_check_row

    rows = table.to_pylist()[:50_000]

    def rows_per_s() -> int:
        with tempfile.TemporaryDirectory() as tmp:
            writer = parquet.ParquetBatchWriter(tmp, "bench", batch_size)
            started = time.perf_counter()
            for row in rows:
                writer.add(row)
            writer.close()
            return round(len(rows) / (time.perf_counter() - started))

    current = rows_per_s()
    original, parquet._check_row = parquet._check_row, cheap_check_row
    try:
        cheap = rows_per_s()
    finally:
        parquet._check_row = original
    return {"rows": len(rows), "writer_rows_per_s": current, "writer_cheap_check_rows_per_s": cheap}


def evaluate(table, label: str, part_rows: int) -> dict:
    posts = table.num_rows
    text = text_formats(table)
    variants = []
    for name, compression, level, dictionary in VARIANTS:
        found = parquet_variant(table, compression, level, dictionary, part_rows)
        variants.append({"variant": name, "bytes": found["bytes"], "bytes_per_post": round(found["bytes"] / posts),
                         "vs_csv": round(found["bytes"] / text["csv_bytes"], 3), "encode_rows_per_s": found["encode_rows_per_s"],
                         "column_bytes_part0": found["column_bytes_part0"] if "[current]" in name else None})
    one_file = parquet_variant(table, "zstd", None, "ours", posts)
    return {"rows": label, "posts": posts, "csv_bytes_per_post": round(text["csv_bytes"] / posts),
            "jsonl_bytes_per_post": round(text["jsonl_bytes"] / posts),
            "csv_gzip_bytes_per_post": round(text["csv_gzip_bytes"] / posts), **text, "part_rows": part_rows,
            "variants": variants, "one_file_current_bytes_per_post": round(one_file["bytes"] / posts),
            "body_html_share": _share(variants[0]["column_bytes_part0"], "body_html")}


def _share(columns: dict, name: str) -> float:
    return round(columns.get(name, 0) / max(1, sum(columns.values())), 3)


def run(posts: int, workdir: Path) -> dict:
    from miata_spiders.settings import MIATA_PARQUET_BATCH_SIZE

    synthetic = synthetic_rows(posts, workdir)
    real = real_text_rows()
    return {"benchmark": "storage", "machine": machine(),
            "synthetic": evaluate(synthetic, f"synthetic forum, {posts} posts", MIATA_PARQUET_BATCH_SIZE),
            "real_text": evaluate(real, "fixture forums + reference pages (real forum text)", MIATA_PARQUET_BATCH_SIZE),
            "writer": writer_throughput(synthetic, MIATA_PARQUET_BATCH_SIZE)}


def kill_loss(workdir: Path, kill_after: float, posts: int = 20_000) -> dict:
    """How much crawling a kill -9 loses at default settings (politeness, batch size, flush seconds).

    A live crawl of a synthetic forum on 127.0.0.1 with the project's settings is killed with SIGKILL
    ``kill_after`` seconds after a part was committed (58 s: just before the next timed flush, the worst
    case). Every page it fetched is in its HTTP cache, so ``miata reparse`` of that cache says how many
    posts it had fetched; the dataset says how many were durable. The difference is the loss.
    """
    import signal
    import subprocess
    import time

    from miata_spiders.reparse import reparse
    from miata_spiders.settings import MIATA_PARQUET_BATCH_SIZE, MIATA_PARQUET_FLUSH_SECONDS
    from miata_spiders.spiders.miataturbo import MiataturboSpider
    from miata_spiders.testing.forumgen import ForumShape, SyntheticForum
    from miata_spiders.testing.render_ib import IBForumSite
    from miata_spiders.testing.server import ForumServer
    from common import PYTHON, scrapy_env
    import pyarrow.dataset as ds

    data, fetched = workdir / "kill-loss", workdir / "kill-loss-fetched"
    shutil.rmtree(data, ignore_errors=True)
    shutil.rmtree(fetched, ignore_errors=True)
    server = ForumServer(IBForumSite(SyntheticForum(ForumShape.for_posts(posts))))
    server.start()
    parts_dir = data / "posts" / "site=miataturbo"
    try:
        cmd = [PYTHON, "-m", "scrapy", "crawl", "miataturbo", "-a", f"base_url={server.base_url}",
               "-s", f"MIATA_DATA_DIR={data}", "-s", f"HTTPCACHE_DIR={data / 'httpcache'}"]
        crawl = subprocess.Popen(cmd, cwd=ROOT, env=scrapy_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        started = time.monotonic()
        while not list(parts_dir.glob("*.parquet")):
            if crawl.poll() is not None or time.monotonic() - started > 600:
                raise RuntimeError("the crawl wrote no part")
            time.sleep(0.2)
        committed_at = time.monotonic()
        first_part_after = round(committed_at - started, 1)
        time.sleep(kill_after)
        parts_before_kill = len(list(parts_dir.glob("*.parquet")))
        crawl.send_signal(signal.SIGKILL)
        crawl.wait()
        killed_at = time.monotonic()
    finally:
        server.stop()
    durable = ds.dataset(str(parts_dir), format="parquet").count_rows()
    last_part = max(p.stat().st_mtime for p in parts_dir.glob("*.parquet"))
    stats = reparse(MiataturboSpider, {"base_url": server.base_url}, fetched, data / "httpcache", use_gzip=True,
                    batch_size=MIATA_PARQUET_BATCH_SIZE, workers=1)
    result = {"benchmark": "kill_loss", "command": " ".join(sys.argv), "machine": machine(),
              "settings": {"MIATA_PARQUET_BATCH_SIZE": MIATA_PARQUET_BATCH_SIZE,
                           "MIATA_PARQUET_FLUSH_SECONDS": MIATA_PARQUET_FLUSH_SECONDS},
              "first_part_after_s": first_part_after, "killed_s_after_a_commit": kill_after,
              "parts_before_kill": parts_before_kill, "posts_fetched": stats.rows_written, "posts_durable": durable,
              "posts_lost": stats.rows_written - durable, "thread_pages_fetched": stats.thread_pages,
              "seconds_of_crawling_lost": round(time.time() - last_part - (time.monotonic() - killed_at), 1)}
    shutil.rmtree(data, ignore_errors=True)
    shutil.rmtree(fetched, ignore_errors=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--workdir", type=Path, default=DEFAULT_WORKDIR)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--kill-loss", action="store_true",
                        help="measure what a kill -9 loses at default settings instead (a live crawl, minutes)")
    parser.add_argument("--kill-after", type=float, default=58.0,
                        help="with --kill-loss: seconds after a part commit to kill (default: just before the next)")
    args = parser.parse_args()
    if args.kill_loss:
        write_json(args.json, kill_loss(args.workdir, args.kill_after))
        return
    write_json(args.json, run(args.posts, args.workdir))


if __name__ == "__main__":
    main()
