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


def exit_status_for(reason: str | None) -> int:
    """The exit status of a run that closed with ``reason`` (close reasons may carry a suffix after
    a colon, e.g. ``unsupported_engine:vbulletin5``)."""
    if not reason:
        return FAILED
    return CLOSE_REASONS.get(reason.split(":", 1)[0], (FAILED, ""))[0]


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
