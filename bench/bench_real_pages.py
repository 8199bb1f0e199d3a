"""Parse speed on real forum pages: our full extraction against lxml's and BeautifulSoup's bare parse
of the same bytes and against forumscraper 0.1.21, in one run, on one core.

    .venv/bin/python bench/bench_real_pages.py [--repeats 5] [--json bench/results/real_pages.json] [--markdown FILE]

Pages: every page of ../shared/reference-html/pages.json that is not marked ``"expect": "unsupported"``
(real pages saved from forums, 66-223 KB) and every fixture thread page (fixtures/*/ with
``"kind": "thread"``, 15-30 KB). Per page, seconds per call, best of ``--repeats`` rounds after a
warm-up, ``time.perf_counter``, garbage collector off while timing (``common.best_times``; the thread's
CPU time of the best round is kept too: on a machine loaded past its cores it is the steadier figure):

- *ours*: what the spider does with each thread page: a Scrapy ``HtmlResponse`` from the bytes, the
  engine's thread parse and the ``PostItem``s (``spider_path``); the engine is known, as in a crawl (a
  site declares it, or the generic spider detects it once from the first page);
- *ours + detection*: the same with the forum software detected from each page, as ``miata parse`` does
  and as forumscraper does;
- *lxml bare*: ``lxml.html.fromstring`` of the bytes (and ``lxml.etree.HTML`` beside it), the floor;
- *bs4 bare*: ``BeautifulSoup(bytes, "html.parser")``, and with the ``lxml`` tree builder;
- *forumscraper*: ``Extractor().get_thread(url, rq=html)`` (identify the software, parse the thread
  page) in its own Python 3.12 virtualenv, as a child process (``forumscraper_driver.py``); skipped
  with a note when that venv does not exist (see bench/forumscraper_env/README.md).

Targets (issue 12), on the real pages: ours within 3x of lxml's bare parse, >= 5x forumscraper,
>= 12x BeautifulSoup's bare parse.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ROOT, best_times, machine, write_json  # noqa: E402

REFERENCE = Path(os.environ.get("MIATA_REFERENCE_HTML", ROOT.parent / "shared" / "reference-html"))
FIXTURES = ROOT / "fixtures"
FORUMSCRAPER_PYTHON = Path(os.environ.get("MIATA_FORUMSCRAPER_PYTHON", "/work/bench-venvs/fs312/bin/python"))
FORUMSCRAPER_VENV_COMMAND = ("~/.pyenv/versions/3.12.1/bin/python -m venv /work/bench-venvs/fs312 && "
                             "/work/bench-venvs/fs312/bin/pip install -r bench/forumscraper_env/requirements.txt")
# Reference pages carry no server clock: relative dates ("Today") resolve against this.
REFERENCE_NOW = datetime(2026, 1, 1, 12, 0, tzinfo=timezone.utc)
TARGETS = {"times_lxml_bare": 3.0, "vs_forumscraper": 5.0, "vs_bs4": 12.0}


# --- the code measured ---------------------------------------------------------------------------

def spider_path(detect_each_page: bool = False):
    """``extract(page) -> (posts, next_page)``: the spider's per-thread-page work through the project's
    public entry points: a Scrapy ``HtmlResponse``, the engine (``page["engine_name"]``, or detected from
    the page), the page's records (thread parse and ``PostItem``s). The one place to adapt if those
    entry points move."""
    from scrapy.http import HtmlResponse

    from miata_spiders.dates import DateResolver
    from miata_spiders.engines import get_engine
    from miata_spiders.engines.detect import detect

    def engine_of(response, page):
        known = None if detect_each_page else page.get("engine_name")
        return get_engine(known or detect(response).engine or "unknown")

    def dates_of(page):
        return DateResolver(tz=page["timezone"], now=page["now"], date_order=page["date_order"])

    try:  # one function turns a page into records for the spider, `miata parse` and `miata reparse`
        from miata_spiders.page_records import page_records
    except ImportError:
        page_records = None
    if page_records is not None:
        def extract(page: dict):
            response = HtmlResponse(url=page["url"], body=page["body"], headers=page["headers"])
            records = page_records(response, engine_of(response, page), site=page["site"], dates=dates_of(page),
                                   request_for="thread")
            if records.kind != "thread":
                raise ValueError(f"{page['id']}: {records.problem}")
            return len(records.items), records.thread.next_page
        return extract

    from miata_spiders.forum_spider import post_items  # before page_records existed

    def extract_before(page: dict):
        response = HtmlResponse(url=page["url"], body=page["body"], headers=page["headers"])
        parser = engine_of(response, page)
        if parser.page_kind(response) != "thread":
            raise ValueError(f"{page['id']}: not recognised as a thread page")
        parsed = parser.parse_thread_page(response, page["url"], dates_of(page))
        thread_url = parsed.canonical_url if parsed.page == 1 else None
        return len(list(post_items(parsed, page["site"], thread_url, page["now"]))), parsed.next_page

    return extract_before


def lxml_fromstring(page: dict):
    import lxml.html

    return lxml.html.fromstring(page["body"])


def lxml_etree_html(page: dict):
    import lxml.etree

    return lxml.etree.HTML(page["body"])


def bs4_html_parser(page: dict):
    from bs4 import BeautifulSoup

    return BeautifulSoup(page["body"], "html.parser")


def bs4_lxml(page: dict):
    from bs4 import BeautifulSoup

    return BeautifulSoup(page["body"], "lxml")


# --- pages ---------------------------------------------------------------------------------------

def reference_pages() -> list[dict]:
    manifest = REFERENCE / "pages.json"
    if not manifest.exists():
        return []
    pages = []
    for name, spec in json.loads(manifest.read_text()).items():
        if spec.get("expect") == "unsupported":
            continue
        pages.append({"id": name, "set": "reference pages (real forums)", "engine": spec["engine"], "real": True, "path": REFERENCE / name,
                      "url": spec["url"], "expected_posts": spec.get("posts"), "headers": {},
                      "timezone": "UTC", "now": REFERENCE_NOW, "date_order": "MDY",
                      "site": "forum-" + spec["url"].split("/")[2]})
    return pages


def fixture_pages() -> list[dict]:
    pages = []
    for spec_path in sorted(FIXTURES.rglob("*.json")):
        spec = json.loads(spec_path.read_text())
        if not isinstance(spec, dict) or spec.get("kind") != "thread" or not spec_path.with_suffix(".html").exists():
            continue
        manifest = next(p / "site.json" for p in (spec_path.parent, spec_path.parent.parent) if (p / "site.json").exists())
        site_spec = json.loads(manifest.read_text())
        site = site_spec.get("spider") or manifest.parent.name
        pages.append({"id": str(spec_path.with_suffix(".html").relative_to(ROOT)),
                      "set": f"fixtures/{manifest.parent.relative_to(FIXTURES).parts[0]}", "real": False,
                      "path": spec_path.with_suffix(".html"), "url": spec["url"],
                      "expected_posts": len(spec.get("posts") or []) or None,
                      "headers": {"Content-Type": site_spec.get("content_type", "text/html")},
                      "timezone": spec.get("timezone") or site_spec.get("timezone") or "UTC",
                      "now": datetime.fromisoformat(spec.get("now") or site_spec["now"]),
                      "date_order": _date_order(site), "site": site})
    return pages


def _date_order(site: str) -> str:
    try:
        from miata_spiders.cli import spider_class

        return getattr(spider_class(site), "date_order", "MDY")
    except (SystemExit, ImportError):
        return "MDY"


# --- running -------------------------------------------------------------------------------------

def time_ours_and_bare(pages: list[dict], repeats: int) -> None:
    from scrapy.http import HtmlResponse

    from miata_spiders.engines.detect import detect

    extract, extract_detecting = spider_path(), spider_path(detect_each_page=True)
    try:
        import bs4  # noqa: F401
        have_bs4 = True
    except ImportError:
        have_bs4 = False
        print("bs4 not installed: `.venv/bin/pip install -e .[bench]` for the BeautifulSoup columns", file=sys.stderr)
    for page in pages:
        page["body"] = page["path"].read_bytes()
        page["kb"] = round(len(page["body"]) / 1024, 1)
        # The same decoding on every side: what Scrapy settles on (header, then <meta>, then sniffing).
        response = HtmlResponse(url=page["url"], body=page["body"], headers=page["headers"])
        page["encoding"], page["engine_name"] = response.encoding, detect(response).engine
        t, cpu = page["timings"], page["cpu"] = {}, {}
        try:
            page["posts"], next_page = extract(page)
            page["next_page"] = bool(next_page)
            t["ours"], cpu["ours"] = best_times(extract, page, repeats)
            t["ours_detecting"], cpu["ours_detecting"] = best_times(extract_detecting, page, repeats)
        except Exception as error:  # a page our engines cannot parse is a finding, not a crash of the benchmark
            page["ours_error"] = f"{type(error).__name__}: {error}"[:300]
            page["posts"] = 0
        columns = {"lxml_fromstring": lxml_fromstring, "lxml_etree_html": lxml_etree_html}
        if have_bs4:
            columns.update(bs4_html_parser=bs4_html_parser, bs4_lxml=bs4_lxml)
        for name, fn in columns.items():
            t[name], cpu[name] = best_times(fn, page, repeats)
        print(f"{page['id']}: " + ", ".join(f"{k} {1 / v:,.0f}/s" for k, v in t.items()), file=sys.stderr)


def time_forumscraper(pages: list[dict], repeats: int) -> dict:
    if not FORUMSCRAPER_PYTHON.exists():
        return {"skipped": f"no bench venv at {FORUMSCRAPER_PYTHON}; create it with: {FORUMSCRAPER_VENV_COMMAND}"}
    job = [{"id": p["id"], "path": str(p["path"]), "url": p["url"], "encoding": p["encoding"], "repeats": repeats}
           for p in pages]
    done = subprocess.run([str(FORUMSCRAPER_PYTHON), str(ROOT / "bench" / "forumscraper_driver.py")],
                          input=json.dumps(job), capture_output=True, text=True, cwd=ROOT, timeout=3600)
    if done.returncode != 0:
        return {"skipped": f"driver failed (exit {done.returncode}): {done.stderr.strip()[-500:]}"}
    result = json.loads(done.stdout)
    for page in pages:
        found = result["pages"].get(page["id"], {})
        if "seconds" in found:
            page["timings"]["forumscraper"] = found["seconds"]
            page["cpu"]["forumscraper"] = found["cpu_seconds"]
            page["forumscraper_posts"] = found["posts"]
        else:
            page["forumscraper_error"] = found.get("error", "not run")
    return {"version": result["version"], "python": result["python"]}


def page_row(page: dict) -> dict:
    t = page["timings"]
    row = {k: page.get(k) for k in ("id", "set", "real", "url", "kb", "expected_posts", "posts", "next_page",
                                     "forumscraper_posts", "ours_error", "forumscraper_error")}
    row["ms"] = {k: round(v * 1e3, 3) for k, v in t.items()}
    row["pages_per_s"] = {k: round(1 / v, 1) for k, v in t.items()}
    row["cpu_ms"] = {k: round(v * 1e3, 3) for k, v in page["cpu"].items()}
    row.update(_ratios(t))
    row["cpu_ratios"] = _ratios(page["cpu"])
    return {k: v for k, v in row.items() if v is not None}


def _ratios(t: dict) -> dict:
    """How ours compares: multiples of lxml's bare parse time; speed-ups over the peers."""
    if "ours" not in t:
        return {}
    out = {"times_lxml_bare": round(t["ours"] / t["lxml_fromstring"], 2)}
    if "ours_detecting" in t:
        out["detecting_times_lxml_bare"] = round(t["ours_detecting"] / t["lxml_fromstring"], 2)
    if "bs4_html_parser" in t:
        out["vs_bs4"] = round(t["bs4_html_parser"] / t["ours"], 2)
        out["vs_bs4_lxml"] = round(t["bs4_lxml"] / t["ours"], 2)
    if "forumscraper" in t:
        out["vs_forumscraper"] = round(t["forumscraper"] / t["ours"], 2)
        if "ours_detecting" in t:
            out["detecting_vs_forumscraper"] = round(t["forumscraper"] / t["ours_detecting"], 2)
    return out


def set_rows(pages: list[dict]) -> list[dict]:
    """Per set of pages: pages/s over the whole set (total time of one pass), and its ratios, counted
    over the pages every column could time (so all ratios compare the same work)."""
    rows = []
    for name in dict.fromkeys(p["set"] for p in pages):
        members = [p for p in pages if p["set"] == name]
        timed = [p for p in members if "ours" in p["timings"]]
        columns = set.intersection(*(set(p["timings"]) for p in timed)) if timed else set()
        totals = {k: sum(p["timings"][k] for p in timed) for k in columns}
        cpu_totals = {k: sum(p["cpu"][k] for p in timed) for k in columns}
        row = {"set": name, "real": members[0]["real"], "pages": len(members), "timed": len(timed),
               "mean_kb": round(statistics.mean(p["kb"] for p in members), 1),
               "posts": sum(p.get("posts") or 0 for p in timed),
               "expected_posts": sum(p.get("expected_posts") or 0 for p in timed),
               "pages_per_s": {k: round(len(timed) / v, 1) for k, v in totals.items()},
               "cpu_pages_per_s": {k: round(len(timed) / v, 1) for k, v in cpu_totals.items()}}
        row.update(_ratios(totals))
        row["cpu_ratios"] = _ratios(cpu_totals)
        # forumscraper reads fewer kinds of forum than we do: its ratio over the pages it parsed
        peer = [p for p in timed if "forumscraper" in p["timings"]]
        if "forumscraper" not in columns and peer:
            row["forumscraper_pages"] = len(peer)
            for key, source in (("", "timings"), ("cpu_", "cpu")):
                ratios = _ratios({k: sum(p[source][k] for p in peer) for k in ("ours", "lxml_fromstring", "forumscraper")})
                (row if not key else row["cpu_ratios"])["vs_forumscraper"] = ratios["vs_forumscraper"]
        if len(timed) < len(members):
            row["not_parsed"] = {p["id"]: p.get("ours_error") for p in members if p not in timed}
        rows.append(row)
    return rows


def targets(rows: list[dict], sets: list[dict]) -> dict:
    """Each target judged on every real page (the worst page decides), on wall time, with the whole
    set's figure and the same verdicts on CPU time beside it."""
    out = _targets([r for r in rows if r.get("real")], next((r for r in sets if r.get("real")), {}))
    cpu = _targets([{"real": True, **r["cpu_ratios"]} for r in rows if r.get("real")],
                   next(({"real": True, **r["cpu_ratios"]} for r in sets if r.get("real")), {}))
    for key, verdict in cpu.items():
        out[key]["cpu"] = verdict
    return out


def _targets(rows: list[dict], whole: dict) -> dict:
    real = [r for r in rows if "times_lxml_bare" in r]
    out = {}
    for key, bound in TARGETS.items():
        values = [r[key] for r in real if key in r]
        if not values:
            out[key] = {"target": bound, "measured": None, "met": None}
            continue
        worst = max(values) if key == "times_lxml_bare" else min(values)
        best = min(values) if key == "times_lxml_bare" else max(values)
        out[key] = {"target": bound, "worst": worst, "best": best, "all_real_pages": whole.get(key),
                    "met": worst <= bound if key == "times_lxml_bare" else worst >= bound}
    return out


def run(repeats: int, only_reference: bool = False) -> dict:
    pages = reference_pages() + ([] if only_reference else fixture_pages())
    if not pages:
        raise SystemExit(f"no pages: {REFERENCE} is missing and no fixture thread pages were found")
    started, load_before = datetime.now(timezone.utc), os.getloadavg()[0]
    time_ours_and_bare(pages, repeats)
    forumscraper = time_forumscraper(pages, repeats)
    # Other jobs on a shared machine slow every column; the best-of-N rounds soften that, the load says how much.
    load = [round(load_before, 1), round(os.getloadavg()[0], 1)]
    real_rows, sets = [page_row(p) for p in pages if p["real"]], set_rows(pages)
    return {"benchmark": "real_pages", "machine": machine(), "started": started.isoformat(timespec="seconds"),
            "load_average": load,
            "repeats": repeats, "reference_dir": str(REFERENCE), "reference_present": (REFERENCE / "pages.json").exists(),
            "forumscraper": forumscraper, "targets": targets(real_rows, sets),
            "sets": sets, "pages": [page_row(p) for p in pages]}


# --- profile --------------------------------------------------------------------------------------

def profile_largest(top: int = 25, calls: int = 20, only: str | None = None) -> str:
    """cProfile of our extraction on the largest real page we parse (or whose name contains ``only``):
    top ``top`` functions by cumulative time, then by own time, over ``calls`` parses (after a warm-up)."""
    import cProfile
    import io
    import pstats

    extract = spider_path()
    candidates = []
    for page in reference_pages():
        if only and only not in page["id"]:
            continue
        page["body"] = page["path"].read_bytes()
        try:
            from miata_spiders.engines.detect import detect

            # The engine is known, as in a crawl: detection itself is profiled in --profile of a miata-parse-like
            # path only if asked (MIATA_PROFILE_DETECT=1).
            if not os.environ.get("MIATA_PROFILE_DETECT"):
                page["engine_name"] = detect(page["body"]).engine
            extract(page)
        except Exception:  # pages our engines do not parse cannot be profiled
            continue
        candidates.append(page)
    if not candidates:
        raise SystemExit(f"no parsable reference page in {REFERENCE}")
    page = max(candidates, key=lambda p: len(p["body"]))
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(calls):
        extract(page)
    profiler.disable()
    out = io.StringIO()
    out.write(f"cProfile of bench_real_pages.spider_path() on {page['id']} ({len(page['body']):,} bytes), "
              f"{calls} parses\n\n")
    stats = pstats.Stats(profiler, stream=out).strip_dirs()
    stats.sort_stats("cumulative").print_stats(top)
    out.write("\n--- by own time ---\n")
    stats.sort_stats("tottime").print_stats(top)
    return out.getvalue()


# --- Markdown --------------------------------------------------------------------------------------

def _rate(row: dict, key: str) -> str:
    value = row["pages_per_s"].get(key)
    return "-" if value is None else f"{value:,.0f}" if value >= 100 else f"{value:,.1f}"


def _short(error: str | None) -> str:
    return (error or "").split(";")[0].split(" (")[0][:70]


def _x(row: dict, key: str) -> str:
    return f"{row[key]}x" if key in row else "-"


def markdown(result: dict) -> list[str]:
    fs = result["forumscraper"]
    with_fs = "skipped" not in fs
    head = ["pages", "KB", "posts (expected)", "next page", "ours", "ours + detection", "lxml bare", "bs4 html.parser",
            "bs4 lxml"]
    head += ["forumscraper (posts)"] if with_fs else []
    head += ["ours / lxml bare", "vs bs4", "vs bs4+lxml"] + (["vs forumscraper"] if with_fs else [])
    load, cores = result.get("load_average") or [0, 0], result["machine"]["cores"] or 1
    busy = ([f"**The machine was loaded past its {cores} cores during this run** (load average {load[0]} before, "
             f"{load[1]} after: other jobs were running), so every column is slowed and wall-time ratios are noisy; the "
             "CPU-time ratios further down are the steadier figures. Re-run on a quiet machine for absolute speeds.", ""]
            if max(load) > cores else [])
    out = busy + ["Thread pages per second on one core (best of "
           f"{result['repeats']} rounds per page; ratios: ours as a multiple of lxml's bare parse time, and how many "
           "times faster ours is than each peer).", "",
           "| " + " | ".join(head) + " |", "| " + " | ".join("---" for _ in head) + " |"]
    for row in result["pages"]:
        if not row["real"]:
            continue
        cells = [f"{row['id'].split('/')[0]}: `{row['id'].split('/')[-1]}`", str(row["kb"]),
                 f"{row.get('posts', '-')} ({row.get('expected_posts', '-')})",
                 {True: "yes", False: "no"}.get(row.get("next_page"), "-"),
                 _rate(row, "ours") if "ours" in row["pages_per_s"] else f"not parsed ({_short(row.get('ours_error'))})",
                 _rate(row, "ours_detecting"), _rate(row, "lxml_fromstring"), _rate(row, "bs4_html_parser"),
                 _rate(row, "bs4_lxml")]
        if with_fs:
            cells.append(f"{_rate(row, 'forumscraper')} ({row['forumscraper_posts']})" if "forumscraper" in row["pages_per_s"]
                         else f"- ({_short(row.get('forumscraper_error'))})")
        cells += [_x(row, "times_lxml_bare"), _x(row, "vs_bs4"), _x(row, "vs_bs4_lxml")]
        cells += [_x(row, "vs_forumscraper")] if with_fs else []
        out.append("| " + " | ".join(cells) + " |")
    out += ["", "Per set (pages/s over one pass of the set's pages; the fixture pages are small, 15-30 KB):", "",
            "| set | pages | KB mean | posts | ours | ours + detection | lxml bare | lxml etree.HTML | bs4 html.parser | bs4 lxml"
            + (" | forumscraper" if with_fs else "") + " | ours / lxml bare | vs bs4" + (" | vs forumscraper" if with_fs else "") + " |",
            "| --- " * (11 + 2 * with_fs) + "|"]
    for row in result["sets"]:
        cells = [row["set"], f"{row['timed']}/{row['pages']}", str(row["mean_kb"]), f"{row['posts']} ({row['expected_posts']})",
                 _rate(row, "ours"), _rate(row, "ours_detecting"), _rate(row, "lxml_fromstring"), _rate(row, "lxml_etree_html"),
                 _rate(row, "bs4_html_parser"), _rate(row, "bs4_lxml")]
        cells += [_rate(row, "forumscraper")] if with_fs else []
        cells += [_x(row, "times_lxml_bare"), _x(row, "vs_bs4")] + ([_x(row, "vs_forumscraper")] if with_fs else [])
        out.append("| " + " | ".join(cells) + " |")
    out += ["", "The same ratios on CPU time (the thread's CPU clock over the same best rounds; other jobs on the machine "
            "do not count in it):", "",
            "| pages | ours / lxml bare | vs bs4 | vs bs4+lxml" + (" | vs forumscraper | ours + detection vs forumscraper"
                                                                 if with_fs else "") + " |",
            "| --- " * (4 + 2 * with_fs) + "|"]
    for row in [r for r in result["pages"] if r["real"]] + [r for r in result["sets"] if r["real"]]:
        c = row.get("cpu_ratios") or {}
        name = row["id"].split("/")[0] if "id" in row else f"**{row['set']}, all**"
        out.append(f"| {name} | " + " | ".join(_x(c, k) for k in ["times_lxml_bare", "vs_bs4", "vs_bs4_lxml"]
                                                + (["vs_forumscraper", "detecting_vs_forumscraper"] if with_fs else []))
                   + " |")
    out.append("")
    if with_fs:
        out.append(f"forumscraper {fs['version']} ran on Python {fs['python']} in its bench-only virtualenv "
                   f"(create it with `{FORUMSCRAPER_VENV_COMMAND}`).")
    else:
        out.append(f"forumscraper column not shown: {fs['skipped']}")
    if not result.get("reference_present"):
        out.append(f"The reference pages ({result['reference_dir']}) were absent: fixture pages only, targets not judged.")
    return out + [""]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="timed rounds per page and column (best one kept)")
    parser.add_argument("--reference-only", action="store_true", help="skip the fixture pages")
    parser.add_argument("--json", type=Path, help="write the figures here (e.g. bench/results/real_pages.json)")
    parser.add_argument("--markdown", type=Path, help="also write the tables as Markdown here")
    parser.add_argument("--profile", type=Path, metavar="FILE",
                        help="instead: cProfile our parser on the largest real page, summary into FILE")
    parser.add_argument("--profile-page", metavar="TEXT", help="with --profile: the largest page whose name has TEXT")
    args = parser.parse_args()
    if args.profile:
        text = profile_largest(only=args.profile_page)
        args.profile.write_text(text)
        print(text)
        return
    result = run(args.repeats, args.reference_only)
    if args.markdown:
        args.markdown.write_text("\n".join(markdown(result)))
    write_json(args.json, result)


if __name__ == "__main__":
    main()
