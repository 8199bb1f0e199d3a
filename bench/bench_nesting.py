"""Parse time of deeply nested posts against a flat page of the same size, for every engine.

    .venv/bin/python bench/bench_nesting.py [--depths 300,1000,5000] [--timeout 60] [--json bench/results/nesting.json]

For each forum software the project renders (``miata_spiders.demo.DEMO_ENGINES``, the synthetic forum
of ``miata_spiders/testing/render_*.py``), page 1 of a thread that has a page 2 is rendered and one
post's body (the page's second post) gets, before its own text:

- *quotes*: the engine's real quote markup (the renderer's own quote function) nested ``depth`` deep;
- *divs*: ``<div>`` nested ``depth`` deep;

and, as the control, the same markup as ``depth`` siblings instead of nested (*flat*: the same bytes,
the same elements, no depth). Reported per case: the parse time (the spider's per-page work, as in
bench_real_pages.py: ``HtmlResponse``, detection, thread parse, items), time(nested) / time(flat), and
whether every post of the plain page and its next-page link were still found.

Each case runs in a child process with a time limit, so a parse that recurses too deep, crashes, or
takes minutes is recorded as what it is (the error, or "over the time limit") instead of stopping the
benchmark; once a depth is over the limit, deeper cases of that engine and markup are not tried.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import PYTHON, ROOT, machine, write_json  # noqa: E402

KINDS = ("quotes", "divs")
MARKER = "NESTINGBENCHMARKER"
SPIDER_SETTINGS = {  # engine -> (timezone, date order) of the spider that crawls that synthetic forum
    "ib-vbulletin": ("America/New_York", "MDY"), "vbulletin3": ("America/Los_Angeles", "MDY"),
    "vbulletin4": ("America/New_York", "MDY"), "xenforo": ("Europe/London", "DMY"), "phpbb": ("UTC", "MDY"),
}


# --- building the pages ----------------------------------------------------------------------------

def engines() -> list[str]:
    """The engines whose synthetic forum serves HTML thread pages (Discourse's serves its JSON API, whose
    nesting is not markup)."""
    from miata_spiders.demo import DEMO_ENGINES

    return [engine for engine in DEMO_ENGINES if hasattr(_site(engine), "thread_page")]


def _site(engine: str):
    from miata_spiders.demo import synthetic_site

    return synthetic_site(400, engine=engine)


def _quote_markup(site, quoted, nested: str) -> str:
    """The renderer's own quote block around ``nested`` (IB's is a module function, the others a method)."""
    if hasattr(site, "_quote"):
        return site._quote(quoted, nested)
    from miata_spiders.testing.render_ib import _quote_html

    return _quote_html(quoted, site, nested)


def build_page(engine: str, kind: str, depth: int, nested: bool) -> dict:
    """One thread page (page 1 of a multi-page thread) with the nesting injected; ``depth`` 0: the plain page."""
    site = _site(engine)
    forum = site.forum
    page_count = getattr(site, "page_count", forum.page_count)
    thread = next(forum.thread(t) for t in forum.all_thread_ids() if page_count(t) >= 3)
    target = next(p for p in forum.posts(thread.thread_id, 1)[1:] if not p.deleted)
    if kind == "quotes":
        opening, closing = _quote_markup(site, forum.post(thread.thread_id, 1), "\x00").split("\x00")
    else:
        opening, closing = "<div>", "</div>"
    block = (opening * depth + "deepest words" + closing * depth if nested
             else (opening + closing) * depth + "deepest words")
    # The renderers build the body from the post's text: mark it, render, then put the block there
    # (its first occurrence is the post's own body: a quote of it can only come later in the thread).
    original = forum.post

    def marked(thread_id: int, position: int):
        post = original(thread_id, position)
        return replace(post, text=f"{MARKER} {post.text}") if post.post_id == target.post_id else post

    forum.post = marked
    try:
        html = site.thread_page(thread, 1)
    finally:
        del forum.post
    html = html.replace(MARKER, block if depth else "", 1).replace(MARKER + " ", "").replace(MARKER, "")
    return {"id": f"{engine}/{kind}/{depth}/{'nested' if nested else 'flat'}", "url": site.thread_url(thread, 1),
            "body": html.encode("utf-8"), "headers": {"Content-Type": "text/html; charset=utf-8"},
            "timezone": SPIDER_SETTINGS[engine][0], "date_order": SPIDER_SETTINGS[engine][1],
            "now": forum.now if forum.now.tzinfo else forum.now.replace(tzinfo=timezone.utc),
            "site": f"bench-{engine}"}


# --- one case, in a child process ------------------------------------------------------------------

def run_case(engine: str, kind: str, depth: int, nested: bool) -> dict:
    """Parse the page: first time, then the best of up to 3 more runs while that stays cheap."""
    from bench_real_pages import spider_path

    import gc

    extract = spider_path()
    page = build_page(engine, kind, depth, nested)
    out = {"kb": round(len(page["body"]) / 1024, 1)}
    try:
        times = []
        for _ in range(4):
            gc.collect()
            gc.disable()
            started = time.perf_counter()
            try:
                posts, next_page = extract(page)
            finally:
                gc.enable()
            times.append(time.perf_counter() - started)
            if sum(times) > 3:
                break
        out.update(seconds=min(times), runs=len(times), posts=posts, next_page=bool(next_page))
    except RecursionError as error:
        out["error"] = f"RecursionError: {str(error)[:120]}"
    except Exception as error:  # whatever the current parser does with such a page is the finding
        out["error"] = f"{type(error).__name__}: {str(error)[:200]}"
    return out


def case_in_child(engine: str, kind: str, depth: int, nested: bool, timeout: float) -> dict:
    cmd = [PYTHON, __file__, "--case", f"{engine},{kind},{depth},{int(nested)}"]
    started = time.monotonic()
    try:
        done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"over the time limit ({timeout:.0f} s)", "timeout": True}
    if done.returncode != 0:
        tail = done.stderr.strip().splitlines()[-1:] or [""]
        cause = f"killed by signal {-done.returncode}" if done.returncode < 0 else f"exit {done.returncode}"
        return {"error": f"child crashed ({cause}): {tail[0][:200]}", "wall_s": round(time.monotonic() - started, 1)}
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- the whole benchmark ---------------------------------------------------------------------------

def run(depths: list[int], timeout: float, only: list[str] | None) -> dict:
    started, load_before = datetime.now(timezone.utc), os.getloadavg()[0]
    rows = []
    for engine in only or engines():
        plain = case_in_child(engine, "divs", 0, True, timeout)
        print(f"{engine}: plain page {plain}", file=sys.stderr)
        for kind in KINDS:
            over_limit_at = flat_over_limit_at = None
            for depth in depths:
                row = {"engine": engine, "kind": kind, "depth": depth,
                       "plain": {k: plain.get(k) for k in ("posts", "next_page", "kb", "seconds")}}
                if flat_over_limit_at is not None:
                    row["flat"] = {"error": f"not run: flat depth {flat_over_limit_at} was already over the time limit",
                                   "skipped": True}
                else:
                    row["flat"] = case_in_child(engine, kind, depth, False, timeout)
                    if row["flat"].get("timeout"):
                        flat_over_limit_at = depth
                if over_limit_at is not None:
                    row["nested"] = {"error": f"not run: depth {over_limit_at} was already over the time limit",
                                     "skipped": True}
                else:
                    row["nested"] = case_in_child(engine, kind, depth, True, timeout)
                    if row["nested"].get("timeout"):
                        over_limit_at = depth
                flat, nested = row["flat"], row["nested"]
                if "seconds" in flat and "seconds" in nested:
                    row["ratio"] = round(nested["seconds"] / flat["seconds"], 2)
                row["all_posts_found"] = (nested.get("posts") == plain.get("posts")) if "posts" in nested else False
                row["next_page_found"] = bool(nested.get("next_page")) if "posts" in nested else False
                rows.append(row)
                print(f"{engine} {kind} {depth}: flat {flat.get('seconds', flat.get('error'))}, "
                      f"nested {nested.get('seconds', nested.get('error'))}, ratio {row.get('ratio')}", file=sys.stderr)
    return {"benchmark": "nesting", "machine": machine(), "started": started.isoformat(timespec="seconds"),
            "load_average": [round(load_before, 1), round(os.getloadavg()[0], 1)],
            "depths": depths, "timeout_s": timeout, "cases": rows, "summary": summary(rows)}


def summary(rows: list[dict]) -> dict:
    """Issue 11's bar: every nested page parses whole, within a few times the flat page's time."""
    ratios = [r["ratio"] for r in rows if "ratio" in r]
    failed = [f"{r['engine']} {r['kind']} {r['depth']}: {r['nested'].get('error') or 'posts or next page lost'}"
              for r in rows if "error" in r["nested"] or not (r["all_posts_found"] and r["next_page_found"])]
    return {"cases": len(rows), "parsed_whole": len(rows) - len(failed), "worst_ratio": max(ratios, default=None),
            "failures": failed}


def merged(previous: dict, fresh: dict) -> dict:
    """``fresh`` (a run of some engines) in place of those engines' rows of ``previous``; the others kept,
    and the run's ``reruns`` say which engines were measured when."""
    engines_run = {row["engine"] for row in fresh["cases"]}
    kept = [row for row in previous["cases"] if row["engine"] not in engines_run]
    order = [e for e in dict.fromkeys(r["engine"] for r in previous["cases"] + fresh["cases"])]
    cases = sorted(kept + fresh["cases"], key=lambda r: order.index(r["engine"]))
    reruns = previous.get("reruns", []) + [{"engines": sorted(engines_run), "started": fresh["started"],
                                            "load_average": fresh["load_average"]}]
    return {**previous, "cases": cases, "summary": summary(cases), "reruns": reruns}


def markdown(result: dict) -> list[str]:
    out = [f"Seconds per parse of page 1 of a synthetic thread (the spider's per-page work; best of up to 4 runs, "
           f"each case in its own process, limit {result['timeout_s']:.0f} s). *ratio* = nested / flat "
           "(same bytes, the same markup as siblings). *whole*: every post of the plain page and its next-page link "
           "found. *depth* counts the injected blocks: one quote block is 2-5 elements deep in every engine's markup, so "
           "the element depth is a few times the quote depth. A ratio below 1 on a page that was not read whole only "
           "means the parser saw less of it.", "",
           "| engine | markup | depth | KB | flat s | nested s | ratio | whole | nested: error |",
           "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]

    def secs(case):
        return f"{case['seconds']:.4f}" if "seconds" in case else "-"

    for r in result["cases"]:
        nested = r["nested"]
        whole = "yes" if r["all_posts_found"] and r["next_page_found"] else (
            "-" if "posts" not in nested else
            f"no ({nested['posts']}/{r['plain']['posts']} posts, next page {'yes' if nested['next_page'] else 'no'})")
        out.append(f"| {r['engine']} | {r['kind']} | {r['depth']} | {r['flat'].get('kb', nested.get('kb', '-'))} | "
                   f"{secs(r['flat'])} | {secs(nested)} | {str(r['ratio']) + 'x' if 'ratio' in r else '-'} | {whole} | "
                   f"{nested.get('error', '') or r['flat'].get('error', '')} |")
    for rerun in result.get("reruns", []):
        out.append(f"\n{', '.join(rerun['engines'])}: re-run on its own at {rerun['started']} (load average "
                   f"{rerun['load_average'][0]} before, {rerun['load_average'][1]} after).")
    s = result["summary"]
    out += ["", f"{s['parsed_whole']} of {s['cases']} nested pages parsed whole; worst ratio "
            f"{s['worst_ratio']}x." if s["worst_ratio"] is not None else f"{s['parsed_whole']} of {s['cases']} parsed whole.", ""]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--depths", default="300,1000,5000")
    parser.add_argument("--timeout", type=float, default=30, help="seconds a case may take (default: %(default)s)")
    parser.add_argument("--engines", help=f"comma-separated subset (default: every renderer's engine)")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--markdown", type=Path)
    parser.add_argument("--case", help=argparse.SUPPRESS)  # engine,kind,depth,nested: one case, in a child
    args = parser.parse_args()
    if args.case:
        engine, kind, depth, nested = args.case.split(",")
        print(json.dumps(run_case(engine, kind, int(depth), nested == "1")))
        return
    result = run([int(d) for d in args.depths.split(",")], args.timeout,
                 args.engines.split(",") if args.engines else None)
    if args.engines and args.json and args.json.exists():
        result = merged(json.loads(args.json.read_text()), result)
    if args.markdown:
        args.markdown.write_text("\n".join(markdown(result)))
    write_json(args.json, result)


if __name__ == "__main__":
    main()
