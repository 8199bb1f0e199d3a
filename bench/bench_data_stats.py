"""Throughput and peak memory of ``miata data stats`` (with and without ``--plot``), ``links`` and ``images``
on a large synthetic dataset (bench/make_big_dataset.py), at one or more sizes.

    python bench/bench_data_stats.py --posts 100000 1000000 --json bench/results/data_stats.json

Each command runs in a child process; its wall time, CPU time and peak RSS are measured (bench/common.py).
A dataset is generated once per size under ``--workdir`` and reused by later runs (``--regenerate`` to
rebuild it). Posts/s counts the dataset's distinct posts (rows are 3% more: the edited posts' second versions).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from common import DEFAULT_WORKDIR, PYTHON, ROOT, machine, run_measured, write_json  # noqa: E402


def commands(data: Path, scratch: Path) -> dict[str, list[str]]:
    cli = [PYTHON, "-m", "miata_spiders.cli", "data"]
    return {
        "stats --json": [*cli, "stats", "--data-dir", str(data), "--json"],
        "stats --plot": [*cli, "stats", "--data-dir", str(data), "--plot", str(scratch / "stats.png"), "--force"],
        "links": [*cli, "links", "--data-dir", str(data), "--out", str(scratch / "links.parquet"), "--force"],
        "images": [*cli, "images", "--data-dir", str(data), "--out", str(scratch / "images.parquet"), "--force"],
    }


def dataset(posts: int, workdir: Path, regenerate: bool) -> Path:
    # The name other benchmarks use for the same dataset (the export benchmarks read big1m too).
    data = workdir / (f"big{posts // 1_000_000}m" if posts % 1_000_000 == 0 else f"big{posts // 1000}k"
                      if posts % 1000 == 0 else f"big{posts}")
    if regenerate or not any((data / "posts").glob("*/*.parquet")):
        run = run_measured([PYTHON, str(ROOT / "bench" / "make_big_dataset.py"), "--posts", str(posts), "--out",
                            str(data), "--force"])
        if run.returncode != 0:
            raise SystemExit(f"make_big_dataset failed: {run.stderr[-2000:]}")
        print(run.stdout.strip().splitlines()[-1], file=sys.stderr)
    return data


def dataset_rows(data: Path) -> int:
    import pyarrow.parquet as pq

    return sum(pq.ParquetFile(p).metadata.num_rows for p in (data / "posts").glob("*/*.parquet"))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--workdir", type=Path, default=DEFAULT_WORKDIR)
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument("--only", action="append", help="run only these commands (e.g. 'stats --json')")
    parser.add_argument("--json", help="write the results here")
    args = parser.parse_args(argv)
    results = {"machine": machine(), "runs": []}
    for posts in args.posts:
        data = dataset(posts, args.workdir, args.regenerate)
        rows = dataset_rows(data)
        scratch = args.workdir / f"data-stats-out-{posts}"
        scratch.mkdir(parents=True, exist_ok=True)
        for name, cmd in commands(data, scratch).items():
            if args.only and name not in args.only:
                continue
            run = run_measured(cmd)
            if run.returncode != 0:
                raise SystemExit(f"{name} failed on {data}: {run.stderr[-2000:]}")
            entry = {"command": f"miata data {name}", "posts": posts, "rows": rows, "seconds": round(run.seconds, 2),
                     "cpu_seconds": round(run.cpu_seconds, 2), "peak_rss_mib": round(run.peak_rss_mib, 1),
                     "posts_per_second": round(posts / run.seconds), "summary": run.stderr.strip().splitlines()[-1]}
            results["runs"].append(entry)
            print(f"{entry['command']:<24} {posts:>9,} posts  {entry['seconds']:>7.1f} s  "
                  f"{entry['posts_per_second']:>9,} posts/s  peak RSS {entry['peak_rss_mib']:>6.0f} MiB", file=sys.stderr)
    write_json(args.json, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
