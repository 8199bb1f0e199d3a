"""Throughput (posts/s) and peak memory of ``miata data export rag`` and ``export chat`` on a big dataset.

    python bench/make_big_dataset.py --posts 1000000 --out /tmp/miata-bench/big1m
    python bench/bench_data_export.py /tmp/miata-bench/big1m

Each export runs as its own ``miata`` process (exactly as a user runs it); its wall time comes from
here and its peak resident memory from the kernel (``wait4`` rusage of that child). Posts/s counts the
latest-version posts the export read, as its summary line reports them. Results go to stdout as a
Markdown table (paste into docs/benchmarks.md) and to ``--json``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MIATA = [sys.executable, "-m", "miata_spiders.cli"]


def measure(argv: list[str]) -> dict:
    """Run ``argv`` as a child and return wall seconds, peak RSS (MB) and its last stdout line."""
    started = time.monotonic()
    process = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # Read the pipes in the background while waiting with wait4, which returns the child's rusage.
    import threading

    out: dict[str, str] = {}
    readers = [threading.Thread(target=lambda name=name, stream=stream: out.__setitem__(name, stream.read()))
               for name, stream in (("stdout", process.stdout), ("stderr", process.stderr))]
    for reader in readers:
        reader.start()
    _, status, usage = os.wait4(process.pid, 0)
    for reader in readers:
        reader.join()
    seconds = time.monotonic() - started
    if status != 0:
        raise SystemExit(f"{' '.join(argv)} failed (status {status}):\n{out.get('stderr', '')}")
    summary = out["stdout"].strip().splitlines()[-1]
    # CPU seconds too: on a shared machine the wall time says as much about the neighbours as about us.
    return {"seconds": round(seconds, 1), "cpu_s": round(usage.ru_utime + usage.ru_stime, 1),
            "peak_rss_mb": round(usage.ru_maxrss / 1024), "summary": summary}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data_dir", help="a dataset, e.g. made by bench/make_big_dataset.py")
    parser.add_argument("--json", help="also write the results here")
    parser.add_argument("--only", choices=("rag", "chat", "rag-no-dedupe"), action="append",
                        help="run only these (repeatable; default: all three)")
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory(prefix="miata-bench-export-") as scratch:
        cases = {
            "rag": ["data", "export", "rag", "--out", f"{scratch}/rag"],
            "rag-no-dedupe": ["data", "export", "rag", "--no-dedupe", "--out", f"{scratch}/rag-nodedupe"],
            "chat": ["data", "export", "chat", "--out", f"{scratch}/chat.jsonl"],
        }
        for name, argv in cases.items():
            if args.only and name not in args.only:
                continue
            result = measure([*MIATA, *argv, "--data-dir", args.data_dir])
            posts = int(re.search(r"(\d+) posts", result["summary"]).group(1))
            result["posts"] = posts
            result["posts_per_s"] = round(posts / result["seconds"])
            result["posts_per_cpu_s"] = round(posts / result["cpu_s"])
            results[name] = result
            print(f"{name}: {result}", file=sys.stderr)
    print("| export | posts | wall | posts/s (wall) | CPU | posts per CPU-second | peak RSS |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, r in results.items():
        print(f"| `{name}` | {r['posts']:,} | {r['seconds']} s | {r['posts_per_s']:,} | {r['cpu_s']} s | "
              f"{r['posts_per_cpu_s']:,} | {r['peak_rss_mb']} MB |")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
