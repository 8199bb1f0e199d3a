"""``miata crawl-all``: the cron entry point. Brings every configured source up to date, one after
the other, under a lock, with rotating logs and a one-line summary per source.

Exit status: 0 all sources fine; 1 a source failed (blocked, unreachable, nothing fetched, pages lost or
unparsed, dataset not written: see errors.CLOSE_REASONS) or its parser drifted; 75 another run holds the lock.
"""

from __future__ import annotations

import fcntl
import os
import socket
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from miata_spiders import errors
from miata_spiders.extensions import read_summary, summary_line, write_atomically

LOCKED_EXIT = errors.TEMPFAIL  # cron may simply try again next time
KEEP_LOGS = 10


def add_crawl_all_parser(sub) -> None:
    p = sub.add_parser("crawl-all", help="cron entry point: bring every forum and Reddit up to date")
    p.add_argument("--sources", help="comma-separated spider names and/or 'reddit' (default: setting MIATA_CRAWL_ALL_SOURCES)")
    p.add_argument("--base-url", action="append", default=[], metavar="SITE=URL",
                   help="crawl SITE at another address (a mirror, a test server); repeatable")
    p.add_argument("-s", "--set", action="append", default=[], metavar="NAME=VALUE",
                   help="a Scrapy/miata setting for every forum crawl, like `scrapy crawl -s`; repeatable")
    p.add_argument("--redis", metavar="URL", default="",
                   help="be one worker of each forum's shared crawl (MIATA_REDIS_URL, docs/scaling.md): run it on "
                        "several machines at once; forums only unless --sources names reddit")
    p.add_argument("--last", action="store_true", help="print the last run's summary and exit")
    p.set_defaults(func=cmd_crawl_all)


def _settings():
    from scrapy.utils.project import get_project_settings

    return get_project_settings()


def default_sources(settings) -> list[str]:
    configured = settings.getlist("MIATA_CRAWL_ALL_SOURCES")
    if configured:
        return configured
    from scrapy.spiderloader import SpiderLoader

    from miata_spiders.forum_spider import BaseForumSpider

    loader = SpiderLoader.from_settings(settings)
    forums = [name for name in sorted(loader.list())
              if issubclass(loader.load(name), BaseForumSpider) and loader.load(name).start_url]
    return forums + ["reddit"]


def rotate(log: Path, keep: int = KEEP_LOGS) -> None:
    """log -> log.1 -> log.2 ... (the oldest beyond ``keep`` is dropped)."""
    for n in range(keep - 1, 0, -1):
        older = log.with_name(f"{log.name}.{n}")
        if older.exists():
            older.replace(log.with_name(f"{log.name}.{n + 1}"))
    if log.exists():
        log.replace(log.with_name(f"{log.name}.1"))


def run_forum(site: str, data_dir: Path, log: Path, base_url: str | None, settings=()) -> tuple[bool, str]:
    cmd = [sys.executable, "-m", "scrapy", "crawl", site, "-s", f"LOG_FILE={log}", "-s", f"MIATA_DATA_DIR={data_dir}"]
    for setting in settings:
        cmd += ["-s", setting]
    if base_url:
        cmd += ["-a", f"base_url={base_url}"]
    env = {**os.environ, "SCRAPY_SETTINGS_MODULE": "miata_spiders.settings"}
    started = time.time()
    proc = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    # The crawl command's last stderr line names the cause and the fix when it failed.
    last_line = (proc.stderr.strip().splitlines() or [f"exit status {proc.returncode}"])[-1]
    summary, problem = read_summary(data_dir / "runs" / f"{site}-last.json")
    if summary is not None and _finished_before(summary, started):
        summary, problem = None, "its run summary is from an earlier run"
    if summary is None:
        return False, f"{site}: FAILED (exit status {proc.returncode}): {last_line} ({problem}; log: {log})"
    ok = proc.returncode == 0 and summary.get("outcome", summary["finish_reason"]) == "finished" and not summary["drift"]
    line = summary_line(summary)
    if proc.returncode != 0 and "FAILED" not in line:
        line += f" FAILED (exit status {proc.returncode}): {last_line}"
    return ok, line


def _finished_before(summary: dict, started: float) -> bool:
    try:
        return datetime.fromisoformat(summary["finished_at"]).timestamp() < started
    except (TypeError, ValueError):
        return True


def run_reddit(data_dir: Path, log: Path) -> tuple[bool, str]:
    # Nightly: listings only. Keyword searches cost hundreds of requests per subreddit; run
    # `miata reddit` with them weekly (docs/reddit.md).
    cmd = [sys.executable, "-m", "pipelines.reddit", "--data-dir", str(data_dir), "--no-progress", "--no-search"]
    with open(log, "w", encoding="utf-8") as out:
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=out, text=True)
    reports = [line for line in proc.stdout.splitlines() if line.startswith("r/")]
    if proc.returncode == 2:
        reason = (log.read_text(encoding="utf-8").strip().splitlines() or ["bad configuration"])[-1]
        if "credentials missing" in reason:
            # Not configured is a choice, not a failure of the schedule.
            return True, "reddit: skipped, no Reddit API credentials configured (see docs/reddit.md)"
        return False, f"reddit: FAILED: {reason.split(': ', 1)[-1]}"
    line = "reddit: " + ("; ".join(reports) or f"exit status {proc.returncode}")
    if proc.returncode != 0:
        line += f" (incomplete, log: {log})"
    return proc.returncode == 0, line


def print_last(last: Path, runs: Path) -> int:
    """``--last``: the last crawl-all report, then every source's run summary that cannot be read
    (a damaged one is reported, never a crash)."""
    if not last.exists():
        print(f"miata crawl-all: no run recorded yet in {runs}", file=sys.stderr)
        return 1
    print(last.read_text(encoding="utf-8", errors="replace"), end="")
    status = 0
    for path in sorted(runs.glob("*-last.json")):
        summary, problem = read_summary(path)
        if summary is None:
            print(f"miata crawl-all: run summary {problem}", file=sys.stderr)
            status = 1
    return status


def cmd_crawl_all(args) -> int:
    settings = _settings()
    data_dir = Path(settings.get("MIATA_DATA_DIR"))
    runs = data_dir / "runs"
    last = runs / "crawl-all-last.txt"
    if args.last:
        return print_last(last, runs)
    sources = [s.strip() for s in args.sources.split(",")] if args.sources else default_sources(settings)
    worker = getattr(args, "redis", "")
    if worker:
        # Every forum crawl is a worker of that site's shared crawl. Reddit's collector has no shared
        # queue: it stays with one machine's plain crawl-all unless named explicitly.
        if not args.sources:
            sources = [s for s in sources if s != "reddit"]
        args.set = [*args.set, f"MIATA_REDIS_URL={worker}"]
    base_urls = dict(item.split("=", 1) for item in args.base_url)
    log_dir = Path(settings.get("MIATA_LOG_DIR") or data_dir / "logs")
    for directory in (runs, log_dir):
        directory.mkdir(parents=True, exist_ok=True)
    lock_file = open(data_dir / "crawl-all.lock", "a+")
    try:
        # Workers on several machines may share the data directory: they hold this lock together.
        fcntl.flock(lock_file, (fcntl.LOCK_SH if worker else fcntl.LOCK_EX) | fcntl.LOCK_NB)
    except BlockingIOError:
        lock_file.seek(0)
        holder = lock_file.read().strip() or "unknown"
        print(f"miata crawl-all: another run holds {lock_file.name} ({holder}); not starting", file=sys.stderr)
        return LOCKED_EXIT
    lock_file.seek(0)
    lock_file.truncate()
    lock_file.write(f"pid {os.getpid()} since {datetime.now(timezone.utc).isoformat()}\n")
    lock_file.flush()
    lines, failed = [], False
    try:
        for source in sources:
            # A worker's log is its machine's: workers sharing the data directory must not rotate each other's.
            log = log_dir / (f"{source}.{socket.gethostname()}.log" if worker else f"{source}.log")
            rotate(log)
            ok, line = run_reddit(data_dir, log) if source == "reddit" else run_forum(
                source, data_dir, log, base_urls.get(source), args.set)
            failed |= not ok
            lines.append(line)
            print(line, flush=True)
    finally:
        stamp = datetime.now(timezone.utc).isoformat(timespec="seconds")
        write_atomically(last, f"crawl-all finished {stamp}\n" + "".join(f"  {line}\n" for line in lines))
        fcntl.flock(lock_file, fcntl.LOCK_UN)
        lock_file.close()
    return 1 if failed else 0
