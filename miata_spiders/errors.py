"""How a run ends: the spider close reasons we use and the exit status each one maps to.

One place for both, so that ``scrapy crawl``, ``miata crawl-all``, ``miata reparse`` and the Reddit
collector tell cron the same thing. Exit statuses follow BSD ``sysexits.h`` where one fits.
"""

from __future__ import annotations

# --- exit statuses ------------------------------------------------------------------------------
OK = 0
FAILED = 1  # the run went wrong in a way none of the codes below names (parse errors, drift, give-ups)
USAGE = 2  # bad arguments or settings
UNAVAILABLE = 69  # EX_UNAVAILABLE: the site cannot be resolved or reached, or every request failed
IOERR = 74  # EX_IOERR: the dataset (or crawl state) could not be written
TEMPFAIL = 75  # EX_TEMPFAIL: another process holds the lock; cron may simply try again next time
NOPERM = 77  # EX_NOPERM: the site blocks us (ban, bot challenge, login wall, rate-limit page)

# --- spider close reasons -> (exit status, what to do about it) ----------------------------------
CLOSE_REASONS: dict[str, tuple[int, str]] = {
    "finished": (OK, "the crawl completed"),
    "shutdown": (FAILED, "the crawl was interrupted (Ctrl-C / SIGTERM); run the same command again to resume"),
    "site_blocking": (NOPERM, "the site answers with ban, bot-challenge, rate-limit or login pages; stop and "
                              "check the site by hand (never bypass a challenge); lower the request rate"),
    "site_unreachable": (UNAVAILABLE, "the host cannot be resolved or reached; check the URL and the network"),
    "all_requests_failed": (UNAVAILABLE, "every request failed; check the URL, the network and the site"),
    "retries_exhausted": (FAILED, "too many pages were given up after retries; the site is failing, try later"),
    "parse_errors": (FAILED, "pages could not be parsed; run `miata parse` on a saved page to see why"),
    "unsupported_engine": (FAILED, "the forum runs software no engine parser supports"),
    "storage_error": (IOERR, "the dataset could not be written (disk full? permissions?); free space and run "
                             "again: nothing already written is lost or doubled"),
    "site_locked": (TEMPFAIL, "another run on this site holds its lock"),
}


def _known(reason: str) -> str | None:
    """The CLOSE_REASONS key of ``reason``: itself, or the key it extends with a ``:detail`` or ``_detail``
    suffix (``unsupported_engine:vbulletin5``, ``unsupported_engine_vbulletin5``)."""
    if reason in CLOSE_REASONS:
        return reason
    return next((key for key in CLOSE_REASONS if reason.startswith((key + ":", key + "_"))), None)


def exit_status_for(reason: str | None) -> int:
    """The exit status of a run that closed with ``reason`` (close reasons may carry a suffix after
    a colon, e.g. ``unsupported_engine:vbulletin5``)."""
    key = _known(reason or "")
    return CLOSE_REASONS[key][0] if key else FAILED


def fix_for(reason: str | None) -> str:
    """What to do about a run that closed with ``reason``, one sentence."""
    key = _known(reason or "")
    return CLOSE_REASONS[key][1] if key else "see the log for what went wrong"


def run_outcome(reason: str | None, stats: dict, *, give_ups_tolerated: int = 0) -> str:
    """The reason a run really ended for: ``reason`` as the spider closed, or, for a spider that
    "finished", what its stats say went wrong (cron must not read a run that lost pages as a success).

    - a Parquet part or the crawl state could not be written: ``storage_error``;

    - pages were blocked and none was usable: ``site_blocking`` (the index itself was a ban page);
    - no page at all came back with a 2xx status: ``all_requests_failed`` (a site answering 403 or
      503 to everything "finishes" quickly, with nothing);
    - more pages than ``give_ups_tolerated`` were given up after retries: ``retries_exhausted``;
    - pages could not be parsed (exceptions, or still unusable after their re-fetches): ``parse_errors``.
    """
    if reason != "finished":
        return reason or "failed"
    if stats.get("miata/parquet/write_errors", 0) or stats.get("miata/state/write_errors", 0):
        return "storage_error"  # the last part, written at close, failed after the close reason was set
    succeeded = sum(value for key, value in stats.items()
                    if key.startswith("downloader/response_status_count/2") and isinstance(value, int))
    if stats.get("miata/blocked/pages", 0) and not (stats.get("miata/pages/thread") or stats.get("miata/pages/listing")):
        return "site_blocking"  # blocked from the first page on: fewer pages than the stop limit were ever seen
    if stats.get("downloader/request_count", 0) and not succeeded:
        return "all_requests_failed"
    if stats.get("miata/retry/gave_up", 0) > give_ups_tolerated:
        return "retries_exhausted"
    if stats.get("miata/parse/errors", 0) or stats.get("miata/parse/gave_up", 0):
        return "parse_errors"
    return "finished"


def outcome_line(command: str, reason: str, detail: str | None = None) -> str:
    """The one line a failed run ends with: the command, the reason, what to do, and what was seen."""
    line = f"{command}: {reason}: {fix_for(reason)}"
    return f"{line} ({detail})" if detail else line


def outcome_detail(reason: str, stats: dict) -> str | None:
    """The facts behind ``reason`` from a run's stats, for :func:`outcome_line`."""
    if reason == "all_requests_failed":
        statuses = sorted(key.rsplit("/", 1)[1] for key in stats if key.startswith("downloader/response_status_count/"))
        errors = stats.get("downloader/exception_count", 0)
        seen = f"statuses {', '.join(statuses)}" if statuses else "no response"
        return f"{stats.get('downloader/request_count', 0)} requests, {seen}, {errors} connection errors"
    if reason == "retries_exhausted":
        return f"{stats.get('miata/retry/gave_up', 0)} pages given up"
    if reason == "parse_errors":
        return (f"{stats.get('miata/parse/errors', 0)} pages raised while parsing, "
                f"{stats.get('miata/parse/gave_up', 0)} never parsed")
    if reason == "site_blocking":
        return f"{stats.get('miata/blocked/pages', 0)} blocked pages, last: {stats.get('miata/blocked/reason', '?')}"
    return stats.get("miata/close/detail")


class MiataError(Exception):
    """An error that ends a command with one plain line (no traceback) and a chosen exit status."""

    exit_status = FAILED
    close_reason = "failed"

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class SiteLockedError(MiataError):
    """Another process writes this site: the per-site lock under DATA_DIR is held."""

    exit_status = TEMPFAIL
    close_reason = "site_locked"


class StorageError(MiataError):
    """The dataset or crawl state could not be written (ENOSPC, EIO, permissions)."""

    exit_status = IOERR
    close_reason = "storage_error"
