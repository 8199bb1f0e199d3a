"""Run every benchmark and write docs/benchmarks.md.

    .venv/bin/pip install -e .[bench]           # BeautifulSoup for the baselines: benchmark-only, not a runtime dependency
    .venv/bin/python bench/run_all.py           # full sizes (about 30-40 min on 2 cores), figures in bench/results/
    .venv/bin/python bench/run_all.py --quick   # small sizes in a few minutes, to try changes (doc not overwritten
                                                # unless --doc is given)
    .venv/bin/python bench/run_all.py --only offline --sizes 10000,100000,1000000   # re-run one benchmark
    .venv/bin/python bench/run_all.py --only real_pages,nesting   # parse speed on real and nested pages (~15 min)

The forumscraper column of real_pages needs its bench-only virtualenv (Python 3.12): see
bench/forumscraper_env/README.md; without it that column is left out and the document says why.

Each benchmark is a script of its own (``bench/bench_*.py``, run as a child process so memory figures
are its own) that writes JSON; the document is rendered from the JSON files of the results directory,
so re-running one benchmark re-renders the document with the others' last figures.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import DEFAULT_WORKDIR, PYTHON, ROOT, machine  # noqa: E402

# In run order: profile reads real_pages' forumscraper times and replays offline's 10k cache.
BENCHMARKS = ("real_pages", "nesting", "parse", "offline", "profile", "requests", "storage", "dedupe")


def commands(quick: bool, sizes: str | None, results: Path, workdir: Path) -> dict[str, list[str]]:
    def script(name: str, *args: str) -> list[str]:
        return [PYTHON, f"bench/{name}.py", *args, "--json", str(results / f"{name.removeprefix('bench_')}.json")]

    offline_sizes = sizes or ("10000" if quick else "10000,100000,300000")
    return {
        "real_pages": script("bench_real_pages", "--repeats", "3" if quick else "5"),
        "nesting": script("bench_nesting", "--depths", "300,1000" if quick else "300,1000,5000"),
        "parse": script("bench_parse", *(["--quick"] if quick else [])),
        "offline": script("bench_offline", "--sizes", offline_sizes, "--workdir", str(workdir),
                          "--scaling-size", "10000", "--whatif-size", "0"),  # the what-if patches are in the product now
        "profile": script("bench_profile", "--posts", "10000", "--workdir", str(workdir)),
        "requests": script("bench_requests", "--posts", "10000" if quick else "100000", "--workdir", str(workdir)),
        "storage": script("bench_storage", "--posts", "10000" if quick else "100000", "--workdir", str(workdir)),
        "dedupe": [PYTHON, "bench/bench_dedupe_load.py", "--rows", "1000000" if quick else "10000000",
                   "--dir", str(workdir / "dedupe"), "--json", str(results / "dedupe_load.json")],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, to iterate")
    parser.add_argument("--only", help=f"comma-separated subset of {', '.join(BENCHMARKS)}")
    parser.add_argument("--list", action="store_true", help="print each benchmark's command and exit")
    parser.add_argument("--sizes", help="post counts of the offline benchmark, e.g. 10000,100000,1000000")
    parser.add_argument("--workdir", type=Path, default=DEFAULT_WORKDIR, help="scratch space (caches: GBs)")
    parser.add_argument("--results", type=Path, help="JSON results directory (default: bench/results, or WORKDIR/results-quick)")
    parser.add_argument("--doc", type=Path, help="document to write (default: docs/benchmarks.md; --quick: WORKDIR/benchmarks-quick.md)")
    parser.add_argument("--render-only", action="store_true", help="re-render the document from existing results")
    args = parser.parse_args()
    results = args.results or (args.workdir / "results-quick" if args.quick else ROOT / "bench" / "results")
    doc = args.doc or (args.workdir / "benchmarks-quick.md" if args.quick else ROOT / "docs" / "benchmarks.md")
    results.mkdir(parents=True, exist_ok=True)
    args.workdir.mkdir(parents=True, exist_ok=True)
    wanted = args.only.split(",") if args.only else list(BENCHMARKS)
    unknown = sorted(set(wanted) - set(BENCHMARKS))
    if unknown:
        parser.error(f"--only: unknown benchmark(s) {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}")
    if args.list:
        for name, cmd in commands(args.quick, args.sizes, results, args.workdir).items():
            print(f"{name}: {shlex.join(_relative(cmd))}")
        return
    runs = json.loads((results / "runs.json").read_text()) if (results / "runs.json").exists() else {}
    if not args.render_only:
        for name, cmd in commands(args.quick, args.sizes, results, args.workdir).items():
            if name not in wanted:
                continue
            print(f"== {name}: {shlex.join(cmd)}", file=sys.stderr)
            started, load_before = time.monotonic(), os.getloadavg()[0]
            subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
            runs[name] = {"command": shlex.join(_relative(cmd)), "seconds": round(time.monotonic() - started),
                          "finished": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                          # Other jobs on the machine slow wall-clock figures: a load above the benchmark's own
                          # processes says so (1-minute load averages, before and after).
                          "load_average": [round(load_before, 1), round(os.getloadavg()[0], 1)],
                          "commit": _commit()}
            (results / "runs.json").write_text(json.dumps(runs, indent=2))
    from render import render

    shown = ".venv/bin/python bench/run_all.py" + (" --quick" if args.quick else "")
    generated = with_parse_speed_sections(render(results, runs, machine(), shown), results, runs)
    doc.write_text(generated + hand_run_sections(doc))
    print(f"wrote {doc}", file=sys.stderr)


#: Everything after this line of the document is written by hand (benchmarks run on their own, with their
#: commands in their sections) and kept as it is when the generated part above it is re-rendered.
HAND_RUN_MARKER = "<!-- hand-run sections below: kept as they are by bench/run_all.py -->"


def hand_run_sections(doc: Path) -> str:
    """The hand-written tail of ``doc`` from its marker on ("" when there is none)."""
    text = doc.read_text() if doc.exists() else ""
    at = text.find(HAND_RUN_MARKER)
    return "" if at < 0 else "\n" + text[at:]


def with_parse_speed_sections(text: str, results: Path, runs: dict) -> str:
    """Add the real-page and nested-page sections (and their rows of the targets table) to the document."""
    import bench_nesting
    import bench_real_pages

    real = _load(results / "real_pages.json")
    nesting = _load(results / "nesting.json")
    rows, sections = [], []
    if real:
        names = {"times_lxml_bare": "parse, real pages: within 3x of lxml's bare parse",
                 "vs_forumscraper": "parse, real pages: >= 5x forumscraper 0.1.21",
                 "vs_bs4": "parse, real pages: >= 12x BeautifulSoup's bare parse"}
        for key, name in names.items():
            t = real["targets"].get(key, {})
            if t.get("met") is None:
                rows.append(("12", name, "not measured" + (f" ({real['forumscraper']['skipped'][:80]})"
                                                           if key == "vs_forumscraper" and "skipped" in real["forumscraper"] else ""),
                             "not run"))
                continue
            measured = (f"{t['best']}x .. {t['worst']}x the bare parse" if key == "times_lxml_bare"
                        else f"{t['worst']}x .. {t['best']}x faster") + f" (all real pages: {t['all_real_pages']}x)"
            cpu = t.get("cpu") or {}
            if cpu.get("met") is not None:
                measured += f"; on CPU time: all real pages {cpu['all_real_pages']}x, worst page {cpu['worst']}x"
            verdict = "**met**" if t["met"] else "**not met**"
            if cpu.get("met") is not None and cpu["met"] != t["met"]:
                verdict += f" (CPU time: {'met' if cpu['met'] else 'not met'})"
            rows.append(("12", name, measured, verdict))
        sections += ["## Parse speed on real pages", "", f"Command: {_run_command(runs, 'real_pages')}", "",
                     *bench_real_pages.markdown(real)]
    if nesting:
        s = nesting["summary"]
        measured = f"{s['parsed_whole']}/{s['cases']} parsed whole; worst nested/flat ratio {s['worst_ratio']}x"
        ok = s["parsed_whole"] == s["cases"] and s["worst_ratio"] is not None and s["worst_ratio"] <= 5
        rows.append(("11", "nested 300/1,000/5,000 deep: whole, within a few times (<= 5x) a flat page", measured,
                     "**met**" if ok else "**not met**"))
        sections += ["## Nested pages", "", f"Command: {_run_command(runs, 'nesting')}", "",
                     *bench_nesting.markdown(nesting)]
    # bs4 now comes with the project's `bench` extra.
    text = text.replace("`.venv/bin/pip install beautifulsoup4`", "`.venv/bin/pip install -e .[bench]`")
    lines = text.split("\n")
    if rows and "| # | target | measured | verdict |" in lines:
        at = lines.index("| # | target | measured | verdict |") + 2
        lines[at:at] = [f"| {n} | {name} | {measured} | {verdict} |" for n, name, measured, verdict in rows]
    anchor = next((i for i, line in enumerate(lines) if line.startswith("## 1. ")), len(lines))
    lines[anchor:anchor] = sections
    return "\n".join(lines)


def _load(path: Path) -> dict | None:
    return json.loads(path.read_text()) if path.exists() else None


def _run_command(runs: dict, name: str) -> str:
    run = runs.get(name)
    if not run:
        return "(not recorded)"
    return (f"`{run['command']}` ({run['seconds']} s, {run['finished']}; code: {run.get('commit', 'unknown')}; "
            f"machine load average {run['load_average'][0]} before, {run['load_average'][1]} after)")


def _commit() -> str:
    """The code measured: HEAD, and whether the working tree differed from it."""
    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
        return done.stdout.strip() if done.returncode == 0 else ""

    head = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--untracked-files=no", "--", "miata_spiders", "pipelines")
    return head + (" + uncommitted changes" if dirty else "")


def _relative(cmd: list[str]) -> list[str]:
    """Commands as a reader would type them from the project root."""
    out = []
    for part in cmd:
        if part == PYTHON or part == sys.executable:
            part = ".venv/bin/python"
        elif part.startswith(str(ROOT) + os.sep):
            part = os.path.relpath(part, ROOT)
        out.append(part)
    return out


if __name__ == "__main__":
    main()
