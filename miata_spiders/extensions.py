"""Crawl-health: a machine-readable summary of every run, and the parser-drift verdict cron needs."""

from __future__ import annotations

import json
import logging
import os
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from scrapy import signals
from scrapy.extensions import corestats

from miata_spiders import errors

logger = logging.getLogger(__name__)

# A layout the engine no longer recognises on this share of thread pages means the site changed its
# skin (or started serving challenges): the data is silently thinning out, so cron must hear of it.
DRIFT_UNRECOGNISED_SHARE = 0.05
DRIFT_UNDATED_SHARE = 0.10


def drift_problems(stats: dict) -> list[str]:
    """Reasons to believe the parser no longer fits the site, from a run's final stats."""
    problems = []
    pages = stats.get("miata/pages/thread", 0)
    unrecognised = stats.get("miata/parse/unrecognised_thread", 0) + stats.get("miata/parse/truncated_thread", 0)
    if stats.get("miata/parse/gave_up", 0):
        problems.append(f"{stats['miata/parse/gave_up']} page(s) never parsed")
    if unrecognised and unrecognised > DRIFT_UNRECOGNISED_SHARE * max(1, pages + unrecognised):
        problems.append(f"{unrecognised} thread page(s) without recognisable posts")
    posts = stats.get("miata/posts/parsed", 0)
    undated = stats.get("miata/parse/date_unparsed", 0)
    if posts and undated > DRIFT_UNDATED_SHARE * posts:
        problems.append(f"{undated} of {posts} post dates not understood")
    if stats.get("miata/pages/listing", 0) and stats.get("miata/threads/listed", 0) == 0:
        problems.append("listing pages parsed but no thread found on any")
    return problems


def summarise(site: str, stats: dict, give_ups_tolerated: int = 0) -> dict:
    rows = stats.get("miata/parquet/rows_written", 0)
    updated = stats.get("miata/dedupe/new_versions", 0)
    logged_errors = stats.get("log_count/ERROR", 0)
    # What the run really ended for (a "finished" spider that got nothing is a failure) and the exit
    # status `scrapy crawl` gives it: crawl-all and cron read these, not Scrapy's finish_reason.
    outcome = errors.run_outcome(stats.get("finish_reason"), stats, give_ups_tolerated=give_ups_tolerated)
    return {
        "site": site,
        "finished_at": datetime.now(timezone.utc).isoformat(),
        "finish_reason": stats.get("finish_reason"),
        "outcome": outcome,
        "exit_status": errors.exit_status_for(outcome),
        "outcome_detail": errors.outcome_detail(outcome, stats) if outcome != "finished" else None,
        "new_posts": rows - updated,
        "updated_posts": updated,
        "requests": stats.get("downloader/request_count", 0),
        "errors": logged_errors,
        "drift": drift_problems(stats),
        "stats": {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in stats.items()},
    }


def summary_line(summary: dict) -> str:
    outcome = summary.get("outcome") or summary.get("finish_reason")
    line = (f"{summary['site']}: {summary['new_posts']} new posts, {summary['updated_posts']} updated, "
            f"{summary['requests']} requests, {summary['errors']} errors ({outcome})")
    if outcome != "finished":
        line += " FAILED: " + errors.fix_for(outcome)
        if summary.get("outcome_detail"):
            line += f" ({summary['outcome_detail']})"
    if summary["drift"]:
        line += " PARSER DRIFT: " + "; ".join(summary["drift"])
    return line


class CoreStats(corestats.CoreStats):
    """Scrapy's CoreStats, quiet about a spider that closed without ever opening (a pipeline refused
    to open, e.g. the site's lock is held): Scrapy's asserts, and prints a traceback over the one line
    that says what happened."""

    def spider_closed(self, spider, reason):
        if self.start_time is None:
            self.stats.set_value("finish_reason", reason)
            return
        super().spider_closed(spider, reason)


class RunSummary:
    """Writes ``DATA_DIR/runs/<site>-<UTC time>.json`` and ``<site>-last.json`` when a spider closes."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.directory = Path(crawler.settings.get("MIATA_DATA_DIR")) / "runs"
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def spider_closed(self, spider, reason):
        stats = dict(self.crawler.stats.get_stats())
        if "start_time" not in stats:
            return  # never opened (refused by a pipeline): the command says why; no run to summarise
        stats["finish_reason"] = reason
        summary = summarise(spider.name, stats, self.crawler.settings.getint("MIATA_GIVE_UPS_TOLERATED", 0))
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
            text = json.dumps(summary, indent=2, default=str)
            write_atomically(self.directory / f"{spider.name}-{stamp}.json", text)
            write_atomically(self.directory / f"{spider.name}-last.json", text)
        except OSError as exc:
            logger.error("could not write the run summary to %s: %s", self.directory, exc)
        logger.info("run summary: %s", summary_line(summary))
        for problem in summary["drift"]:
            logger.error("parser drift on %s: %s", spider.name, problem)


def write_atomically(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` all at once: a reader (crawl-all, a crash mid-write) sees the old
    file or the new one, never a half-written one."""
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


SUMMARY_KEYS = frozenset({"site", "finished_at", "finish_reason", "new_posts", "updated_posts", "requests",
                          "errors", "drift"})


def read_summary(path: Path) -> tuple[dict | None, str | None]:
    """(summary, None) from a run-summary file, or (None, what is wrong with it): missing, empty, not
    JSON, not a summary. A damaged summary is reported, never a crash."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None, f"{path} is missing"
    except OSError as exc:
        return None, f"{path} cannot be read: {exc.strerror}"
    if not text.strip():
        return None, f"{path} is empty"
    try:
        summary = json.loads(text)
    except ValueError as exc:
        return None, f"{path} is not valid JSON ({exc})"
    if not isinstance(summary, dict) or not SUMMARY_KEYS <= summary.keys():
        return None, f"{path} is not a run summary"
    return summary, None
