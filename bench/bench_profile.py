"""Where a thread page's time goes: the profile behind the "why" section of docs/benchmarks.md.

    .venv/bin/python bench/bench_profile.py [--posts 10000] [--workdir DIR] [--json bench/results/profile.json]

1. *Real pages* (``../shared/reference-html``), no profiler, best of ``--repeats`` per step, one core: the
   spider's per-page path cut into its steps: the response and its lxml tree (``as_selector``), the
   engine's page-level facts (breadcrumbs, title, footer offset, pagination: ``parse_thread_page`` minus
   ``read_posts``), the posts (``read_posts``: every field of every post), the ``PostItem``s
   (``post_items``); beside them lxml's bare parse of the same bytes and forumscraper's time per page
   from ``real_pages.json`` when it was measured.
2. *Replay* and *reparse* of the synthetic forum's HTTP cache (``make_cache.py``, ``--posts``), each under
   cProfile (``-m cProfile`` of the real ``scrapy crawl``; ``reparse()`` in-process with one worker), the
   profiled time split into buckets by the cumulative time of the functions that own them. cProfile
   slows Python calls more than C, so the shares, not the seconds, are the finding; the unprofiled CPU
   time per page is in the offline benchmark.
"""

from __future__ import annotations

import argparse
import json
import pstats
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import BENCH_BASE_URL, DEFAULT_WORKDIR, PYTHON, ROOT, machine, scrapy_env, write_json  # noqa: E402

ENGINE_OF = {"vbulletin3": "vbulletin", "vbulletin4": "vbulletin", "xenforo1": "xenforo", "xenforo2": "xenforo",
             "phpbb3": "phpbb"}


# --- 1. real pages, step by step -------------------------------------------------------------------

def _best_ms(fn, repeats: int) -> float:
    import gc

    best = float("inf")
    gc.disable()
    try:
        for _ in range(repeats):
            started = time.perf_counter()
            fn()
            best = min(best, time.perf_counter() - started)
    finally:
        gc.enable()
    return best * 1e3


def real_page_steps(repeats: int) -> list[dict]:
    import lxml.html
    from scrapy.http import HtmlResponse

    import bench_real_pages
    from miata_spiders.dates import DateResolver
    from miata_spiders.engines import get_engine
    from miata_spiders.engines.base import ForumEngine, as_selector
    from miata_spiders.page_records import post_items

    try:
        from selectolax.lexbor import LexborHTMLParser as lexbor
    except ImportError:  # `.venv/bin/pip install -e .[bench]`
        lexbor = None
    spent = {"read_posts": 0.0}
    original = ForumEngine.read_posts

    def timed_read_posts(self, *args, **kwargs):
        started = time.perf_counter()
        try:
            return original(self, *args, **kwargs)
        finally:
            spent["read_posts"] += time.perf_counter() - started

    rows = []
    ForumEngine.read_posts = timed_read_posts
    try:
        for page in bench_real_pages.reference_pages():
            body = page["path"].read_bytes()
            engine = get_engine(ENGINE_OF.get(page["engine"], page["engine"]))

            def response():
                return HtmlResponse(url=page["url"], body=body, headers=page["headers"])

            def dates():
                return DateResolver(tz=page["timezone"], now=page["now"], date_order=page["date_order"])

            tree_ms = _best_ms(lambda: as_selector(response()), repeats)
            engine_best, posts_best, parsed = float("inf"), float("inf"), None
            for _ in range(repeats):
                r = response()
                as_selector(r)
                spent["read_posts"] = 0.0
                started = time.perf_counter()
                parsed = engine.parse_thread_page(r, page["url"], dates())
                took = time.perf_counter() - started
                if took < engine_best:
                    engine_best, posts_best = took, spent["read_posts"]
            items_ms = _best_ms(lambda: list(post_items(parsed, page["site"], None, page["now"])), repeats)
            lexbor_ms = _best_ms(lambda: lexbor(body), repeats) if lexbor else None
            posts = len(parsed.posts)
            rows.append({
                "page": page["id"], "engine": page["engine"], "kb": round(len(body) / 1024, 1), "posts": posts,
                "lxml_bare_ms": round(_best_ms(lambda: lxml.html.fromstring(body), repeats), 3),
                "tree_ms": round(tree_ms, 3),
                "page_facts_ms": round((engine_best - posts_best) * 1e3, 3),
                "posts_ms": round(posts_best * 1e3, 3),
                "per_post_us": round(posts_best * 1e6 / max(1, posts)),
                "items_ms": round(items_ms, 3),
                # a faster tree than lxml's? lexbor (selectolax), the fastest HTML5 parser with Python bindings
                "lexbor_ms": round(lexbor_ms, 3) if lexbor_ms is not None else None,
            })
    finally:
        ForumEngine.read_posts = original
    return rows


def with_forumscraper(rows: list[dict], real_pages_json: Path) -> None:
    """forumscraper's seconds per page from the real-page benchmark, where it ran."""
    if not real_pages_json.exists():
        return
    measured = {p["id"]: p for p in json.loads(real_pages_json.read_text()).get("pages", [])}
    for row in rows:
        ms = (measured.get(row["page"], {}).get("ms") or {}).get("forumscraper")
        if ms:
            row["forumscraper_ms"] = ms


# --- 2. replay and reparse under cProfile ----------------------------------------------------------

def _cumulative(stats: pstats.Stats, path_end: str, function: str) -> float:
    """Cumulative seconds of every function named ``function`` in a file whose path ends in ``path_end``
    (outermost calls only: cProfile's cumulative time already counts recursion once)."""
    return sum(entry[3] for (path, _, name), entry in stats.stats.items()
               if name == function and path.replace("\\", "/").endswith(path_end))


def _buckets(stats: pstats.Stats, spec: list[tuple[str, list[tuple[str, str]], list[tuple[str, str]]]]) -> dict:
    """{bucket: share of the profiled total}; each bucket = its functions' cumulative time minus what
    its ``minus`` functions (called inside it, counted in another bucket) take; the rest is "other"."""
    total = stats.total_tt
    out, counted = {}, 0.0
    for name, functions, minus in spec:
        seconds = sum(_cumulative(stats, p, f) for p, f in functions) - sum(_cumulative(stats, p, f) for p, f in minus)
        out[name] = round(max(0.0, seconds), 2)
        counted += max(0.0, seconds)
    out["other"] = round(max(0.0, total - counted), 2)
    return {"profiled_s": round(total, 2), "seconds": out,
            "share": {name: round(seconds / total, 3) for name, seconds in out.items()}}


TREE = [("miata_spiders/engines/base.py", "html_selector")]
ENGINE = [("miata_spiders/engines/base.py", "read_posts")]
ENGINE_PAGE = [("miata_spiders/page_records.py", "page_records")]
ITEMS = [("miata_spiders/page_records.py", "post_items")]


def profile_replay(cache: Path, out: Path) -> dict:
    shutil.rmtree(out, ignore_errors=True)
    with tempfile.TemporaryDirectory() as tmp:
        prof = Path(tmp) / "replay.prof"
        cmd = [PYTHON, "-m", "cProfile", "-o", str(prof), "-m", "scrapy", "crawl", "miataturbo",
               "-a", f"base_url={BENCH_BASE_URL}", "-s", f"HTTPCACHE_DIR={cache}", "-s", "HTTPCACHE_IGNORE_MISSING=True",
               "-s", f"MIATA_DATA_DIR={out}", "-s", "LOG_LEVEL=WARNING"]
        subprocess.run(cmd, cwd=ROOT, env=scrapy_env(), check=True, stdout=subprocess.DEVNULL)
        stats = pstats.Stats(str(prof))
    return _buckets(stats, [
        ("lxml tree of the page", TREE, []),
        ("post fields (engine read_posts)", ENGINE, []),
        ("page-level facts, page kind, listings (rest of the engine)", ENGINE_PAGE, TREE + ENGINE + ITEMS),
        ("PostItems", ITEMS, []),
        ("our item pipelines (dedupe, Parquet)", [("pipelines/dedupe.py", "process_item"),
                                                  ("pipelines/parquet.py", "process_item")], []),
        ("HTTP cache read", [("scrapy/extensions/httpcache.py", "retrieve_response")], []),
        ("start-up (imports, settings, spider, crawl state)", [("<frozen importlib._bootstrap>", "_find_and_load")], []),
    ])


REPARSE_PROFILE = """
import cProfile, sys
from miata_spiders.reparse import reparse
from miata_spiders.spiders.miataturbo import MiataturboSpider
import pipelines.dataset  # imported before profiling: start-up is not the reparse's per-page cost
cProfile.run("reparse(MiataturboSpider, {}, sys.argv[1], sys.argv[2], use_gzip=True, batch_size=5000, workers=1)", sys.argv[3])
"""


def profile_reparse(cache: Path, out: Path) -> dict:
    shutil.rmtree(out, ignore_errors=True)
    with tempfile.TemporaryDirectory() as tmp:
        prof = Path(tmp) / "reparse.prof"
        subprocess.run([PYTHON, "-c", REPARSE_PROFILE, str(out), str(cache), str(prof)], cwd=ROOT, env=scrapy_env(),
                       check=True, stdout=subprocess.DEVNULL)
        stats = pstats.Stats(str(prof))
    return _buckets(stats, [
        ("lxml tree of the page", TREE, []),
        ("post fields (engine read_posts)", ENGINE, []),
        ("page-level facts, page kind, listings (rest of the engine)", ENGINE_PAGE, TREE + ENGINE + ITEMS),
        ("PostItems", ITEMS, []),
        ("rows (item_to_row)", [("pipelines/parquet.py", "item_to_row")], []),
        ("cache entry read (gzip, pickle)", [("miata_spiders/reparse.py", "read_response")], []),
        ("dedupe and Parquet writing", [("miata_spiders/reparse.py", "write")], []),
    ])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=10000, help="size of the synthetic forum whose cache is replayed")
    parser.add_argument("--workdir", type=Path, default=DEFAULT_WORKDIR)
    parser.add_argument("--repeats", type=int, default=20, help="best of this many runs per real-page step")
    parser.add_argument("--json", help="write the figures here (e.g. bench/results/profile.json)")
    args = parser.parse_args()
    from bench_offline import ensure_cache

    rows = real_page_steps(args.repeats)
    with_forumscraper(rows, ROOT / "bench" / "results" / "real_pages.json")
    cache, made = ensure_cache(args.posts, args.workdir)
    result = {
        "machine": machine(), "measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "real_pages": rows,
        "cache": {"posts": made["posts"], "pages": made["pages"]},
        "replay": profile_replay(cache, args.workdir / "profile-replay-out"),
        "reparse": profile_reparse(cache, args.workdir / "profile-reparse-out"),
    }
    write_json(args.json, result)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
