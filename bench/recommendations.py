"""The last section of docs/benchmarks.md: why missed targets are missed and which product changes would
meet them, with the figures that back each one (measured hot spots, what-if runs from bench/whatif/)."""

from __future__ import annotations


def _step(parse, prefix: str) -> float | None:
    steps = (parse or {}).get("vbulletin_hotspots", {}).get("steps", [])
    return next((s["ms"] for s in steps if s["step"].startswith(prefix)), None)


def recommendations(parse, offline, storage) -> list[str]:
    out = ["## Why targets are missed, and the product changes that would meet them", ""]
    # The hot-spot table describes the parser before engines/base.py; it is shown only while the parse
    # benchmark still measures those steps.
    if parse and parse.get("vbulletin_hotspots") and None not in (
            _step(parse, "whole parse_thread_page"), _step(parse, "HtmlResponse")):
        hot = parse["vbulletin_hotspots"]
        whole = _step(parse, "whole parse_thread_page")
        out += [
            f"### Parser: where a vBulletin thread page's time goes ({hot['page_kb']} KB synthetic page, {hot['posts']} posts)",
            "",
            "| step | ms per page |",
            "| --- | --- |",
        ]
        out += [f"| {s['step']} | {s['ms']} |" for s in hot["steps"]]
        parse_ms = _step(parse, "HtmlResponse")
        floor = _step(parse, "  floor")
        out += [
            "",
            f"The lxml parse is {parse_ms} ms of the {whole} ms; the rest is XPath evaluation, almost all of it per post: "
            "about a dozen descendant queries per post (`.//*[contains(text(),'Last edited by')]`, "
            "`.//comment()[...]`, `.//*[self::label or self::div][normalize-space(text())='Quote:']`, ...), each "
            "re-scanning the post's sub-tree (until d2e80c3, each result was also wrapped in a parsel `Selector`). Walking every post's "
            f"elements once costs {floor} ms a page. Changes, all in `miata_spiders/engines/vbulletin.py` (the XenForo "
            "and phpBB parsers are built the same way and would gain the same way):",
            "",
            "1. `parse_thread_page`: find posts with `//*[starts-with(@id,'post')]` and filter ids with `_POST_ID.match` in "
            "Python, instead of `re:test(...)`, which calls back into Python's `re` for every element of the page "
            f"({_step(parse, 'post nodes')} ms -> {_step(parse, '  proposed')} ms). Same in `parse_listing_page` "
            "(`thread_title_`) and `page_kind` (`^f\\d+$`). (d2e80c3 made this change.)",
            "2. `_parse_post` and its helpers (`_post_date_text`, `_post_author`, `_quote_blocks`, `_edit_note`, "
            "`_signature`): one pass over `node.root.iter()` (elements and comments) that records, by id and class, the "
            "message, postcount link, permalink, postmenu, the date comment's parent, the signature comment, the edit "
            "note and the \"Quote:\" labels; then work on those lxml elements directly. Failing that, module-level "
            "precompiled `lxml.etree.XPath` objects evaluated on `node.root` (no parsel wrappers). Expected: the per-post "
            f"steps above (about {max(0.0, whole - parse_ms - (_step(parse, 'post nodes') or 0) - (_step(parse, 'page:') or 0)):.1f} ms "
            "a page) shrink towards the single walk's cost, which puts the page at roughly 2-3x the bare lxml parse: "
            "the 'within 3x of lxml' and '12x BeautifulSoup' targets, and most of the replay and reparse targets, "
            "hang on this change.",
            "3. Keep `tests/test_fixture_pages.py`, `tests/test_reference_pages.py` and `bench/bench_parse.py`'s agreement "
            "table as the guard: the output must not change.",
            "",
        ]
    w = None
    if offline:
        w_row = next((r for r in offline["sizes"] if r.get("whatif")), None)
        w = w_row.get("whatif") if w_row else None
    gain = ""
    if w:
        gain = (f" Patched in together (`bench/whatif/`, same {w_row['posts_target'] // 1000}k cache, rows identical), they take the "
                f"replay from {w_row['replay']['thread_pages_per_s']} to {w['replay']['thread_pages_per_s']} thread pages/s "
                f"({w_row['replay'].get('cpu_ms_per_page')} -> {w['replay'].get('cpu_ms_per_page')} CPU ms a page) and "
                f"`miata reparse` from {w_row['reparse'][0].get('cpu_ms_per_page')} to {w['reparse'].get('cpu_ms_per_page')} CPU ms a page.")
    writer = (storage or {}).get("writer", {})
    out += [
        "### Pipelines and middleware: per-item and per-request costs as large as the parse itself",
        "",
        "Profiling the replay crawl (`python -m cProfile -m scrapy crawl ...`) puts three costs next to the parser."
        + gain + " Even so the replay stays parse-bound: the parser changes above are what reach 200 pages/s.",
        "",
        "4. `pipelines/parquet.py`, `item_to_row`: `ItemAdapter(item).asdict()` walks every nested value (quotes, "
        "images, links) through itemadapter's `is_item` checks: ~0.45 ms a post, as much per page as parsing it. A "
        "`PostItem` is a flat dataclass whose values are already plain, so `{f.name: getattr(item, f.name) for f in "
        "dataclasses.fields(item)}` (falling back on `ItemAdapter` for other item types) gives the same row.",
        "5. `pipelines/parquet.py`, `_check_row` (from `ParquetBatchWriter.add`): builds a one-row `RecordBatch` of the "
        "41-column schema for every row, ~0.3 ms a row"
        + (f"; `ParquetBatchWriter` manages {writer['writer_rows_per_s']:,} rows/s against "
           f"{writer.get('writer_cheap_check_rows_per_s', 0):,} with the checks below" if writer.get("writer_cheap_check_rows_per_s") else "")
        + ". Check the row's own values (unknown keys, required fields, hash format, naive datetimes: what the "
        "what-if does), and convert the whole batch once in `flush`; to keep the guarantee that one bad row cannot "
        "sink a batch, on an `ArrowException` there convert row by row to name the culprit, drop it with an error "
        "log, and write the rest.",
        "6. `miata_spiders/middlewares.py`, `DesktopBrowserUserAgentProvider.get_random_ua`: fake-useragent's `.random` "
        "filters its whole data set on every call, ~2.6 ms a request, and the User-Agent middleware (500) runs before "
        "the HTTP cache (900), so cache hits pay it too. Filter once in `__init__` "
        "(`[d['useragent'] for d in self._ua._filter_useragents() if 'Mobile' not in d['useragent']]`, or the public "
        "`getBrowser` once per browser) and `random.choice` from that list: the same uniform draw.",
        "",
    ]
    if offline:
        rss = [(r["posts_target"], r["replay"]["peak_rss_mib"]) for r in offline["sizes"]]
        out += [
            "### Memory of long crawls",
            "",
            "Replay peak RSS by size: " + ", ".join(f"{p // 1000}k posts {m} MiB" for p, m in rss) + " (projected to 1M "
            "posts in the targets table). What grows with the "
            "crawl: `pipelines/dedupe.py` `SeenPosts._run` keeps every post of the run as a Python str -> tuple(bytes) "
            "(~200 bytes a post, ~200 MB at 1M); `BaseForumSpider._listed` keeps a `ThreadLink` per thread and "
            "`_scheduled_threads` a str per thread; Scrapy's dupefilter a fingerprint per request.",
            "",
            "7. `pipelines/dedupe.py`, `SeenPosts`: when the Parquet pipeline commits a part (the `part_committed` "
            "signal), merge that part's (post_id, version_key) into the sorted Arrow arrays (concat + sort_indices, "
            "tens of ms at 1M rows) and drop them from `_run`, so the run's Python objects stay bounded by one batch.",
            "8. `miata_spiders/forum_spider.py`, `_listed`: keep only (reply_count, last_post_at) per thread, not the "
            "whole `ThreadLink`, since that is all `ThreadProgress` reads from it.",
        ]
        out.append("")
    if storage:
        syn = {v["variant"]: v for v in storage["synthetic"]["variants"]}
        real = {v["variant"]: v for v in storage["real_text"]["variants"]}
        current = next(k for k in syn if "[current]" in k)
        z9 = next(k for k in syn if k.startswith("zstd(9)"))
        out += [
            "### Storage settings (`pipelines/parquet.py`)",
            "",
            f"9. `COMPRESSION`: add `compression_level=9` to `pq.write_table` in `_write_atomically` (a `COMPRESSION_LEVEL = 9` "
            f"beside `COMPRESSION`). pyarrow's zstd default is level 1; level 9 writes {syn[z9]['bytes_per_post']} instead of "
            f"{syn[current]['bytes_per_post']} B/post on synthetic rows and {real[z9]['bytes_per_post']} instead of "
            f"{real[current]['bytes_per_post']} on real text ({(1 - real[z9]['bytes'] / real[current]['bytes']) * 100:.0f}% less), "
            f"bringing the real-text sample to {real[z9]['vs_csv']}x CSV; it encodes {syn[z9]['encode_rows_per_s']:,} rows/s, "
            "still two orders of magnitude above what a crawl or reparse produces. Level 19 saves a little more but "
            "encodes thousands of rows/s, too close to reparse speeds.",
            "10. `DICTIONARY_COLUMNS`: keep it. Dictionary-encoding every column is worse than the current list, no "
            "dictionary at all about the same or slightly worse; the list is a deliberate, measured choice.",
            "11. `MIATA_PARQUET_BATCH_SIZE` = 5,000: one file per crawl would be only "
            f"~{(1 - storage['synthetic']['one_file_current_bytes_per_post'] / syn[current]['bytes_per_post']) * 100:.0f}% smaller; "
            "keep the crash-safety of small parts. (body_html is the largest column; it is kept on purpose.)",
            "",
        ]
    return out
