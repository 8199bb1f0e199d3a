"""Run every benchmark and write docs/benchmarks.md.

    .venv/bin/pip install beautifulsoup4        # the baseline's parser: benchmark-only, not a project dependency
    .venv/bin/python bench/run_all.py           # full sizes (about 30-40 min on 2 cores), figures in bench/results/
    .venv/bin/python bench/run_all.py --quick   # small sizes in a few minutes, to try changes (doc not overwritten
                                                # unless --doc is given)
    .venv/bin/python bench/run_all.py --only offline --sizes 10000,100000,1000000   # re-run one benchmark

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

BENCHMARKS = ("parse", "offline", "requests", "storage", "dedupe")


def commands(quick: bool, sizes: str | None, results: Path, workdir: Path) -> dict[str, list[str]]:
    def script(name: str, *args: str) -> list[str]:
        return [PYTHON, f"bench/{name}.py", *args, "--json", str(results / f"{name.removeprefix('bench_')}.json")]

    offline_sizes = sizes or ("10000" if quick else "10000,100000,300000")
    return {
        "parse": script("bench_parse", *(["--quick"] if quick else [])),
        "offline": script("bench_offline", "--sizes", offline_sizes, "--workdir", str(workdir),
                          "--scaling-size", "10000", "--whatif-size", "10000"),
        "requests": script("bench_requests", "--posts", "10000" if quick else "100000", "--workdir", str(workdir)),
        "storage": script("bench_storage", "--posts", "10000" if quick else "100000", "--workdir", str(workdir)),
        "dedupe": [PYTHON, "bench/bench_dedupe_load.py", "--rows", "1000000" if quick else "10000000",
                   "--dir", str(workdir / "dedupe"), "--json", str(results / "dedupe_load.json")],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, to iterate")
    parser.add_argument("--only", help=f"comma-separated subset of {', '.join(BENCHMARKS)}")
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
    doc.write_text(render(results, runs, machine(), shown))
    print(f"wrote {doc}", file=sys.stderr)


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
