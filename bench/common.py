"""Shared helpers of the benchmarks: the machine, child processes with their peak memory, JSON results.

Benchmarks are scripts, not tests: each writes its figures as JSON (``--json FILE``) and
``bench/run_all.py`` turns them into ``docs/benchmarks.md``.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
# Scratch space for generated caches and datasets (gigabytes at the 1M-post size).
DEFAULT_WORKDIR = Path(os.environ.get("MIATA_BENCH_DIR", "/tmp/miata-bench"))
# The synthetic forum is served (or cached) as if from here; nothing listens on it.
BENCH_BASE_URL = "http://127.0.0.1:9"

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def machine() -> dict:
    """What the figures were measured on: compare ratios, not absolute times, across machines."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    import lxml.etree
    import pyarrow
    import scrapy

    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": memory,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "scrapy": scrapy.__version__,
        "lxml": ".".join(map(str, lxml.etree.LXML_VERSION)),
        "pyarrow": pyarrow.__version__,
    }


@dataclass
class ChildRun:
    returncode: int
    seconds: float
    peak_rss_mib: float
    cpu_seconds: float
    stdout: str
    stderr: str


def run_measured(cmd: list[str], env: dict | None = None, cwd: Path = ROOT, timeout: float | None = None) -> ChildRun:
    """Run a command; its wall time, CPU time and peak RSS (of that process alone, from wait4)."""
    started = time.monotonic()
    with open(os.devnull, "rb") as stdin:
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out_chunks, err_chunks = _drain(proc)
    hiwater = _HighWater(proc.pid)
    _, status, usage = os.wait4(proc.pid, 0)
    hiwater.stop()
    seconds = time.monotonic() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    for thread in (out_chunks, err_chunks):
        thread.join()
    return ChildRun(
        returncode=proc.returncode, seconds=seconds, peak_rss_mib=hiwater.peak_mib or usage.ru_maxrss / 1024,
        cpu_seconds=usage.ru_utime + usage.ru_stime,
        stdout=b"".join(out_chunks.data).decode(errors="replace"), stderr=b"".join(err_chunks.data).decode(errors="replace"))


class _HighWater:
    """The process's own peak RSS (VmHWM), sampled from /proc while it runs.

    Not wait4's ru_maxrss: on Linux that also counts the RSS the parent had when it started the child
    (the vfork'd address space is the parent's until exec), so a benchmark that had loaded a big table
    would see every later child as big as itself.
    """

    def __init__(self, pid: int):
        import threading

        self.path, self.peak_mib, self._done = Path(f"/proc/{pid}/status"), 0.0, threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()

    def _poll(self):
        while not self._done.is_set():
            try:
                for line in self.path.read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        self.peak_mib = max(self.peak_mib, int(line.split()[1]) / 1024)
            except (OSError, ValueError):
                pass
            self._done.wait(0.2)

    def stop(self):
        self._done.set()
        self._thread.join()


def _drain(proc):
    """Read both pipes in threads (a full pipe would block the child); wait4 then reaps it."""
    import threading

    class Reader(threading.Thread):
        def __init__(self, pipe):
            super().__init__(daemon=True)
            self.pipe, self.data = pipe, []

        def run(self):
            for chunk in iter(lambda: self.pipe.read(65536), b""):
                self.data.append(chunk)

    readers = Reader(proc.stdout), Reader(proc.stderr)
    for reader in readers:
        reader.start()
    return readers


def scrapy_env() -> dict:
    # A configured User-Agent or data dir in the caller's environment must not change the benchmark.
    return {k: v for k, v in os.environ.items() if k not in ("MIATA_USER_AGENT", "MIATA_DATA_DIR")}


def crawl_stats(data_dir: Path, site: str) -> dict:
    """The final Scrapy stats of the last crawl into ``data_dir`` (the RunSummary extension's file)."""
    path = Path(data_dir) / "runs" / f"{site}-last.json"
    return json.loads(path.read_text())["stats"] if path.exists() else {}


def write_json(path: Path | str | None, result: dict) -> None:
    text = json.dumps(result, indent=2, default=str)
    if path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(text)
    print(text)


def directory_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in Path(path).rglob("*") if f.is_file())


def best_seconds(fn, arg, repeats: int = 5, min_round_seconds: float = 0.05) -> float:
    """Wall seconds per call of ``fn(arg)``: see ``best_times``."""
    return best_times(fn, arg, repeats, min_round_seconds)[0]


def best_times(fn, arg, repeats: int = 5, min_round_seconds: float = 0.05) -> tuple[float, float]:
    """(wall, CPU) seconds per call of ``fn(arg)``: warm-up first, then the best of ``repeats`` rounds,
    timed with ``time.perf_counter`` (and the thread's CPU clock beside it) with the garbage collector
    off; each round loops enough calls to last at least ``min_round_seconds``. The best round is the one
    least disturbed by other jobs; on a machine loaded past its cores even that one is slowed, and the
    CPU time (which does not count waiting for a core) is the steadier figure.

    Standard library only: the forumscraper driver imports it from its own Python 3.12 virtualenv.
    """
    import gc

    started = time.perf_counter()
    fn(arg)  # warm-up: imports, caches, compiled expressions
    once = max(time.perf_counter() - started, 1e-6)
    loops = max(1, int(min_round_seconds / once))
    best_wall = best_cpu = float("inf")
    gc.collect()
    gc.disable()
    try:
        for _ in range(repeats):
            started, cpu_started = time.perf_counter(), time.thread_time()
            for _ in range(loops):
                fn(arg)
            best_cpu = min(best_cpu, (time.thread_time() - cpu_started) / loops)
            best_wall = min(best_wall, (time.perf_counter() - started) / loops)
    finally:
        gc.enable()
    return best_wall, best_cpu
