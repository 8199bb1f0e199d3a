"""The "why" section of docs/benchmarks.md: for each speed target that is missed, the profile that says
why (``bench_profile.py``: real pages step by step, replay and reparse under cProfile), with the budget
each target leaves, and the settings kept after measuring them (``bench_storage.py``)."""

from __future__ import annotations


def _ms(value) -> str:
    return "-" if value is None else f"{value:.2f}"


def _lexbor(rows) -> str:
    pairs = [(r["lxml_bare_ms"] / r["lexbor_ms"]) for r in rows if r.get("lexbor_ms")]
    if not pairs:
        return ""
    total = sum(r["lxml_bare_ms"] for r in rows if r.get("lexbor_ms")) / sum(r["lexbor_ms"] for r in rows if r.get("lexbor_ms"))
    return (f" A faster tree does not open the budget: lexbor's parse (selectolax) of the same bytes is {min(pairs):.1f}x to "
            f"{max(pairs):.1f}x as fast as lxml's ({total:.1f}x over these pages), and every field would still be read in Python.")


def _real_pages(profile, real) -> list[str]:
    rows = profile.get("real_pages") or []
    if not rows:
        return []
    measured = {p["id"]: p for p in (real or {}).get("pages", [])}
    out = [
        "### Real pages: where a thread page's time goes",
        "",
        "Steps of the spider's path per page (`bench/bench_profile.py`, no profiler, best of "
        "20 runs each, one core): *tree* is the Scrapy response and its lxml tree (the same work as lxml's bare "
        "parse), *page facts* the engine's page-level reading (breadcrumbs, title, pagination, date offset, "
        "post containers), *posts* every field of every post (`read_posts`), *items* the `PostItem`s. "
        "The budgets are what each target leaves for the whole path on that page: 3x lxml's bare parse, "
        "BeautifulSoup's bare parse / 12 and forumscraper's time / 5 (both from the real-page benchmark).",
        "",
        "| page | KB | posts | lxml bare | tree | page facts | posts (per post) | items | total | budget 3x lxml "
        "| budget bs4 / 12 | budget forumscraper / 5 |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    tree_in_fs_budget = []
    for r in rows:
        total = r["tree_ms"] + r["page_facts_ms"] + r["posts_ms"] + r["items_ms"]
        bs4 = (measured.get(r["page"], {}).get("ms") or {}).get("bs4_html_parser")
        fs = r.get("forumscraper_ms")
        fs_budget = fs / 5 if fs else None
        if fs_budget is not None and total > fs_budget:
            tree_in_fs_budget.append((r["page"].split("/")[0], r["tree_ms"] / fs_budget, fs_budget - r["tree_ms"], r["posts"]))
        posts = (f"{_ms(r['posts_ms'])} ({r['per_post_us']} us)" if r["posts_ms"]
                 else "in page facts" if r["posts"] else "-")  # Discourse reads its posts from the page's JSON
        out.append(f"| {r['page'].split('/')[0]} | {r['kb']} | {r['posts']} | {_ms(r['lxml_bare_ms'])} | {_ms(r['tree_ms'])} "
                   f"| {_ms(r['page_facts_ms'])} | {posts} | {_ms(r['items_ms'])} | {_ms(total)} "
                   f"| {_ms(3 * r['lxml_bare_ms'])} | {_ms(bs4 / 12 if bs4 else None)} | {_ms(fs_budget)} |")
    posts_share = sum(r["posts_ms"] for r in rows) / sum(r["tree_ms"] + r["page_facts_ms"] + r["posts_ms"] + r["items_ms"]
                                                          for r in rows)
    out += [
        "",
        f"- The posts are {posts_share:.0%} of the time over these pages: per post, each field is a method that "
        "looks only inside the post's own container (the guarantee that no value comes from a neighbouring "
        "post), and the fallbacks that make unseen skins work (several anchors per field, member-URL forms, date "
        "forms) are tried in Python. That is what stands between the pages and the 3x-lxml and 12x-BeautifulSoup "
        "budgets where they are missed; the tree itself costs what lxml's bare parse costs.",
    ]
    if tree_in_fs_budget:
        out.append(
            "- forumscraper 0.1.21 builds no document tree: it runs reliq (a C library matching patterns over the raw "
            "HTML). Where 5x forumscraper is missed, lxml's tree of the page alone takes "
            + "; ".join(f"{name} {share:.0%} of the budget" + (f" (leaving {left:.2f} ms, {left * 1000 / posts:.0f} us a post)"
                                                              if left > 0 and posts else " (nothing left)")
                        for name, share, left, posts in tree_in_fs_budget)
            + ". What is left is what page facts, every field of every post and the items would have to fit in "
            "(against the per-post column above)." + _lexbor(rows) + " forumscraper gets there by not building a "
            "tree, which also gives up scoping each field to its post's own element.")
    out.append("")
    return out


def _profiles(profile, offline) -> list[str]:
    replay, reparse = profile.get("replay"), profile.get("reparse")
    if not replay or not reparse:
        return []
    names = list(dict.fromkeys([*replay["share"], *reparse["share"]]))
    cache = profile.get("cache", {})
    out = [
        "### Replay and reparse: where the time goes",
        "",
        f"Shares of the profiled time (cProfile; the synthetic forum's cache, {cache.get('pages', '?')} pages, "
        f"{cache.get('posts', '?'):,} posts; replay: `python -m cProfile -m scrapy crawl miataturbo` over the cache; "
        "reparse: `reparse()` with one worker, in-process). cProfile slows Python calls more than C calls, "
        "so the shares are the finding, not the seconds.",
        "",
        "| bucket | replay | reparse |",
        "| --- | --- | --- |",
    ]
    for name in names:
        a, b = replay["share"].get(name), reparse["share"].get(name)
        out.append(f"| {name} | {'-' if a is None else f'{a:.1%}'} | {'-' if b is None else f'{b:.1%}'} |")
    parse_keys = [k for k in names if k.startswith(("lxml tree", "post fields", "page-level", "PostItems"))]
    replay_parse = sum(replay["share"].get(k, 0) for k in parse_keys)
    reparse_parse = sum(reparse["share"].get(k, 0) for k in parse_keys)
    out.append("")
    small = min(offline["sizes"], key=lambda r: r["posts_target"]) if offline else None
    if small:
        cpu = small["replay"]["cpu_ms_per_page"]
        floor = cpu * (1 - replay_parse)
        out.append(
            f"- Replay (>= 200 pages/s means <= 5 ms of CPU a page on one core): measured {cpu} CPU ms a page. The parse "
            f"(tree, engine, items) is {replay_parse:.0%} of it; \"other\" is Scrapy's own machinery around each "
            "request and each item (asyncio tasks, signals, the spider and downloader middleware chains, the "
            f"scheduler): every post is an item that crosses the item pipeline alone, ~{small['forum_posts'] / max(1, small['cache_pages']):.0f} "
            f"a page. With a parser that cost nothing the replay would still spend ~{floor:.0f} ms a page "
            f"(~{1000 / floor:.0f} pages/s): the target needs the posts of a page to travel as one item "
            "(a batch the pipelines split), a change of the item contract (feed exports, stats, the distributed "
            "claims all count posts) left for a decision of its own.")
        rp = small["reparse"][0]
        rp_cpu = rp["cpu_ms_per_page"]
        out.append(
            f"- Reparse (>= 1,000 pages/s on 2 cores means <= 2 ms of CPU a page): measured {rp_cpu} CPU ms a page "
            f"({rp['workers']} workers). The parse is {reparse_parse:.0%} of it, the post fields alone "
            f"{reparse['share'].get('post fields (engine read_posts)', 0):.0%}; reading the cache entry, dedupe and "
            f"Parquet are the rest. Even the lxml tree of a 20 KB page plus the cache read come close to the whole "
            "2 ms budget, so the target is out of reach of a per-post field reader in Python; what is left to gain "
            "is in the post fields (see the real-page table).")
    out.append("")
    return out


def _storage(storage) -> list[str]:
    if not storage:
        return []
    syn = {v["variant"]: v for v in storage["synthetic"]["variants"]}
    current = next(k for k in syn if "[current]" in k)
    return [
        "### Storage settings kept after measuring them (`pipelines/parquet.py`)",
        "",
        f"- zstd level 9 (`COMPRESSION_LEVEL`): {syn[current]['bytes_per_post']} B/post on synthetic rows; level 19 "
        "saves a little more but encodes thousands of rows/s, too close to reparse speeds.",
        "- `DICTIONARY_COLUMNS`: dictionary-encoding every column is worse than the current list, no dictionary at "
        "all about the same or slightly worse.",
        "- `MIATA_PARQUET_BATCH_SIZE` = 5,000: one file per crawl would be only "
        f"~{(1 - storage['synthetic']['one_file_current_bytes_per_post'] / syn[current]['bytes_per_post']) * 100:.0f}% "
        "smaller; small parts keep a crash's loss small.",
        "",
    ]


def recommendations(parse, offline, storage, profile=None, real=None) -> list[str]:
    out = ["## Why targets are missed: the profiles", ""]
    if profile:
        out += _real_pages(profile, real)
        out += _profiles(profile, offline)
    else:
        out += ["`bench/bench_profile.py` has not run: `.venv/bin/python bench/run_all.py --only profile`.", ""]
    out += _storage(storage)
    return out
