"""``miata data stats``: what the dataset holds, per source and site, and how complete it is.

    miata data stats                       # tables on the terminal
    miata data stats --json > stats.json   # the same figures for machines
    miata data stats --plot stats.png      # posts per month per site, top forums, field coverage

Counts of posts, threads, authors and dates are over the latest version of each post; ``rows`` and
``edited`` count stored versions. Field coverage is the share of (not deleted) latest posts where a
key field is filled in: a site whose coverage drops from one crawl to the next is where parser drift
shows first. Every figure is one DuckDB aggregate over the Parquet parts, which DuckDB streams: memory
stays flat whatever the dataset's size (bench/bench_data_stats.py).
"""

from __future__ import annotations

import json
import sys
import time
from datetime import date, datetime
from pathlib import Path

from miata_spiders.data.links import DOMAIN_SQL
from miata_spiders.data.source import (DEFAULT_MEMORY_LIMIT, DataError, bound_memory, check_output, connect,
                                       find_parts, progress_bar, resolve_data_dir)

# Fields whose coverage is reported: each is filled in for every post of every source when the parser
# reads the page right (page, author_id and the Reddit-only columns are legitimately null somewhere).
COVERAGE_FIELDS = {
    "author": "author IS NOT NULL",
    "posted_at": "posted_at IS NOT NULL",
    "body_text": "has_text",
    "position": "position IS NOT NULL",
    "thread_title": "has_title",
    "forum_path": "coalesce(len(forum_path), 0) > 0",
    "url": "has_url",
}
TOP = 10  # rows of each "top" list


def register(subparsers) -> None:
    p = subparsers.add_parser("stats", help="posts, threads, authors, dates, versions and field coverage per site",
                              description=__doc__, formatter_class=__import__("argparse").RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", help="dataset root (default: setting MIATA_DATA_DIR)")
    p.add_argument("--site", action="append", help="only this site (repeatable; default: every site)")
    p.add_argument("--json", action="store_true", help="print the figures as one JSON object instead of tables")
    p.add_argument("--plot", metavar="FILE.png", help="also draw posts per month, top forums and field coverage")
    p.add_argument("--top", type=int, default=TOP, help="rows of each top list (default: %(default)s)")
    p.add_argument("--force", action="store_true", help="overwrite the --plot file")
    p.add_argument("--memory-limit", default=DEFAULT_MEMORY_LIMIT, metavar="SIZE",
                   help="DuckDB's working memory, e.g. 1GB; the rest spills to a temp dir (default: %(default)s)")
    p.add_argument("--skip-bad", action="store_true", help="skip damaged parts (named on stderr) instead of stopping")
    p.set_defaults(func=cmd_stats)


def cmd_stats(args) -> int:
    started = time.perf_counter()
    try:
        plot_path = check_output(Path(args.plot), args.force) if args.plot else None
        if plot_path is not None and plot_path.suffix.lower() != ".png":
            raise DataError(f"--plot writes a PNG: give a file name ending in .png, not {plot_path.name}")
        parts = find_parts(resolve_data_dir(args.data_dir), args.site, skip_bad=args.skip_bad)
        figures = compute_stats(parts, top=args.top, memory_limit=args.memory_limit)
    except DataError as exc:
        print(f"miata data stats: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(figures, indent=2, default=_json_default, ensure_ascii=False))
    else:
        print(render_tables(figures))
    if plot_path is not None:
        from miata_spiders.data.plot import draw_stats

        draw_stats(figures, plot_path)
    total = figures["total"]
    print(f"stats: {total['posts']:,} posts in {total['threads']:,} threads on {len(figures['sites'])} site(s), "
          f"{total['rows']:,} rows in {len(parts.files)} parts ({time.perf_counter() - started:.1f} s)"
          + (f"; plot {plot_path}" if plot_path else ""), file=sys.stderr)
    return 0


# --- Computing ------------------------------------------------------------------------------------

def compute_stats(parts, *, top: int = TOP, memory_limit: str = DEFAULT_MEMORY_LIMIT) -> dict:
    """Every figure of the report, as plain JSON-able values. One query per group of figures."""
    con = bound_memory(connect(parts), memory_limit)
    # The latest version of each post, computed once (every figure below reads it) and slim: the text as
    # a hash and a flag, the quotes as a count, so the window never carries bodies, HTML or quoted text.
    con.execute("""CREATE TEMP TABLE latest AS
        SELECT source, site, post_id, thread_id, forum_path, position, author, posted_at,
               is_deleted, hash(body_text) AS text_hash, coalesce(length(trim(body_text)), 0) > 0 AS has_text,
               thread_title IS NOT NULL AS has_title, url IS NOT NULL AS has_url, images, links,
               len(quotes) AS quote_count
        FROM posts
        QUALIFY row_number() OVER (PARTITION BY site, post_id ORDER BY scraped_at DESC, content_hash DESC) = 1""")
    steps = [
        ("sites", _site_figures),
        ("versions", _version_figures),
        ("coverage", _coverage_figures),
        ("per month", _month_figures),
        ("top forums", _forum_figures),
        ("links", _link_figures),
    ]
    figures: dict = {"data_dir": str(parts.data_dir), "parts": len(parts.files),
                     "skipped_parts": [{"path": str(p), "problem": why} for p, why in parts.skipped]}
    with progress_bar(total=len(steps), desc="stats", unit="query") as bar:
        for name, step in steps:
            bar.set_postfix_str(name)
            step(con, figures, top)
            bar.update()
    sites = figures["sites"]
    figures["total"] = {key: sum(s[key] for s in sites) for key in
                        ("rows", "posts", "threads", "edited_posts", "duplicate_rows", "deleted", "images", "links",
                         "quotes")}
    con.close()
    return figures


def _rows(con, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


def _site_figures(con, figures: dict, top: int) -> None:
    rows = _rows(con, """
        SELECT source, site, count(*) AS posts, count(DISTINCT thread_id) AS threads,
               count(DISTINCT author) AS authors, min(posted_at), max(posted_at),
               count(*) FILTER (WHERE is_deleted) AS deleted,
               sum(len(images)), sum(len(links)), sum(quote_count),
               count(*) FILTER (WHERE has_text) - count(DISTINCT text_hash) FILTER (WHERE has_text) AS duplicate_texts
        FROM latest GROUP BY source, site ORDER BY source, site""")
    figures["sites"] = [
        {"source": source, "site": site, "posts": posts, "threads": threads, "authors": authors,
         "first_post": first, "last_post": last, "deleted": deleted, "images": images or 0, "links": links or 0,
         "quotes": quotes or 0, "duplicate_texts": duplicate_texts}
        for source, site, posts, threads, authors, first, last, deleted, images, links, quotes, duplicate_texts in rows]
    years = _rows(con, "SELECT site, year(posted_at) AS y, count(*) FROM latest WHERE posted_at IS NOT NULL "
                       "GROUP BY ALL ORDER BY site, y")
    for entry in figures["sites"]:
        entry["posts_per_year"] = {str(y): n for site, y, n in years if site == entry["site"]}


def _version_figures(con, figures: dict, top: int) -> None:
    """Stored rows, posts with more than one version (edits), and exact duplicate rows (same post, same
    content hash stored twice: the dedupe pipeline should make this zero)."""
    rows = {site: (n_rows, edited, duplicates) for site, n_rows, edited, duplicates in _rows(con, """
        WITH per_post AS (
            SELECT site, post_id, count(*) AS versions, count(DISTINCT content_hash) AS distinct_versions
            FROM posts GROUP BY site, post_id)
        SELECT site, sum(versions), count(*) FILTER (WHERE distinct_versions > 1), sum(versions - distinct_versions)
        FROM per_post GROUP BY site""")}
    for entry in figures["sites"]:
        n_rows, edited, duplicates = rows[entry["site"]]
        entry.update(rows=int(n_rows), edited_posts=int(edited), duplicate_rows=int(duplicates))


def _coverage_figures(con, figures: dict, top: int) -> None:
    columns = ", ".join(f"avg(CASE WHEN {test} THEN 1.0 ELSE 0.0 END)" for test in COVERAGE_FIELDS.values())
    rows = {site: values for site, *values in
            _rows(con, f"SELECT site, {columns} FROM latest WHERE NOT coalesce(is_deleted, false) GROUP BY site")}
    for entry in figures["sites"]:
        values = rows.get(entry["site"], [None] * len(COVERAGE_FIELDS))
        entry["coverage"] = {name: (None if v is None else round(100 * v, 2)) for name, v in zip(COVERAGE_FIELDS, values)}


def _month_figures(con, figures: dict, top: int) -> None:
    figures["posts_per_month"] = [
        {"site": site, "month": month.strftime("%Y-%m"), "posts": n}
        for site, month, n in _rows(con, "SELECT site, strftime(posted_at AT TIME ZONE 'UTC', '%Y-%m-01')::DATE AS m, "
                                         "count(*) FROM latest WHERE posted_at IS NOT NULL GROUP BY ALL ORDER BY site, m")]


def _forum_figures(con, figures: dict, top: int) -> None:
    figures["top_forums"] = [
        {"site": site, "forum": forum, "posts": posts, "threads": threads}
        for site, forum, posts, threads in _rows(con, f"""
            SELECT site, array_to_string(forum_path, ' > ') AS forum, count(*) AS posts, count(DISTINCT thread_id)
            FROM latest WHERE len(forum_path) > 0 GROUP BY ALL ORDER BY posts DESC, site, forum LIMIT {int(top)}""")]


def _link_figures(con, figures: dict, top: int) -> None:
    """Most-linked domains and pages (the parts pages people point each other to), and image hosts."""
    con.execute(f"""CREATE TEMP TABLE link_urls AS
        SELECT url, {DOMAIN_SQL.format(column='url')} AS domain, count(*) AS n, count(DISTINCT site) AS sites
        FROM (SELECT unnest(links) AS url, site FROM latest) GROUP BY url""")
    figures["top_link_domains"] = [
        {"domain": d, "links": n, "pages": pages} for d, n, pages in _rows(con, f"""
            SELECT domain, sum(n)::BIGINT AS links, count(*) AS pages FROM link_urls
            GROUP BY domain ORDER BY links DESC, domain LIMIT {int(top)}""")]
    figures["top_linked_pages"] = [
        {"url": url, "links": n} for url, n in _rows(con, f"""
            SELECT url, n FROM link_urls ORDER BY n DESC, url LIMIT {int(top)}""")]
    figures["top_image_hosts"] = [
        {"domain": d, "images": n} for d, n in _rows(con, f"""
            SELECT {DOMAIN_SQL.format(column='url')} AS domain, count(*) AS n
            FROM (SELECT unnest(images) AS url FROM latest) GROUP BY domain ORDER BY n DESC, domain LIMIT {int(top)}""")]
    con.execute("DROP TABLE link_urls")


def _json_default(value):
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


# --- Rendering ------------------------------------------------------------------------------------

def render_tables(figures: dict) -> str:
    sites = figures["sites"]
    blocks = [
        "Posts (latest version of each post; rows and edited count stored versions)",
        table(["source", "site", "posts", "threads", "authors", "first post", "last post", "rows", "edited",
               "dup rows", "dup texts", "deleted", "quotes", "images", "links"],
              [[s["source"], s["site"], s["posts"], s["threads"], s["authors"], _day(s["first_post"]),
                _day(s["last_post"]), s["rows"], s["edited_posts"], s["duplicate_rows"], s["duplicate_texts"],
                s["deleted"], s["quotes"], s["images"], s["links"]] for s in sites]
              + ([["all", "", *_totals(figures)]] if len(sites) > 1 else [])),
        "",
        "Field coverage (% of latest posts not deleted; a drop is parser drift)",
        table(["site", *COVERAGE_FIELDS],
              [[s["site"], *(_percent(s["coverage"][f]) for f in COVERAGE_FIELDS)] for s in sites]),
        "",
        "Posts per year",
        table(["year", *(s["site"] for s in sites)],
              [[year, *(s["posts_per_year"].get(year, 0) for s in sites)]
               for year in sorted({y for s in sites for y in s["posts_per_year"]})]),
        "",
        "Top forums",
        table(["site", "forum", "posts", "threads"],
              [[f["site"], f["forum"], f["posts"], f["threads"]] for f in figures["top_forums"]]),
        "",
        "Most-linked domains",
        table(["domain", "links", "pages"], [[d["domain"], d["links"], d["pages"]] for d in figures["top_link_domains"]]),
        "",
        "Most-linked pages",
        table(["links", "url"], [[p["links"], p["url"]] for p in figures["top_linked_pages"]]),
        "",
        "Image hosts",
        table(["domain", "images"], [[d["domain"], d["images"]] for d in figures["top_image_hosts"]]),
    ]
    if figures["skipped_parts"]:
        blocks += ["", f"{len(figures['skipped_parts'])} damaged part(s) skipped:"]
        blocks += [f"  {p['path']}: {p['problem']}" for p in figures["skipped_parts"]]
    return "\n".join(blocks)


def _totals(figures: dict) -> list:
    sites, total = figures["sites"], figures["total"]
    firsts = [s["first_post"] for s in sites if s["first_post"]]
    lasts = [s["last_post"] for s in sites if s["last_post"]]
    return [total["posts"], total["threads"], "", _day(min(firsts) if firsts else None),
            _day(max(lasts) if lasts else None), total["rows"], total["edited_posts"], total["duplicate_rows"],
            sum(s["duplicate_texts"] for s in sites), total["deleted"], total["quotes"], total["images"],
            total["links"]]


def table(headers: list[str], rows: list[list]) -> str:
    """A plain-text table: numbers right-aligned with thousands separators, text left-aligned."""
    if not rows:
        return "  (none)"
    cells = [[_cell(v) for v in row] for row in rows]
    numeric = [all(isinstance(row[i], (int, float)) or row[i] in ("", "-") or _is_percent(row[i]) for row in rows)
               for i in range(len(headers))]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(headers)]

    def line(values):
        return "  ".join(v.rjust(w) if num else v.ljust(w) for v, w, num in zip(values, widths, numeric)).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths]), *(line(c) for c in cells)])


def _cell(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.1f}"
    return str(value)


def _is_percent(value) -> bool:
    return isinstance(value, str) and value.endswith("%")


def _percent(value) -> str:
    return "-" if value is None else f"{value:.1f}%"


def _day(value) -> str:
    return value.strftime("%Y-%m-%d") if value else "-"
