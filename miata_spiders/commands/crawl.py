"""``scrapy crawl SITE``, with an exit status that tells the truth.

Scrapy's own ``crawl`` exits 0 whenever the spider could be started, even when the site was never
reached, blocked us, or answered 503 to everything. This one ends the same way as Scrapy's on
success, and otherwise exits with the status ``miata_spiders.errors`` gives the run's outcome,
after one plain line on stderr naming the cause and the fix (no traceback):

    scrapy crawl miataturbo: site_unreachable: the host cannot be resolved or reached; check the URL ...
"""

from __future__ import annotations

import asyncio
import sys

from scrapy.commands.crawl import Command as ScrapyCrawlCommand

from miata_spiders import errors


class Command(ScrapyCrawlCommand):
    def short_desc(self) -> str:
        return "Run a spider of the current project, by name; the exit status says how the crawl ended"

    def run(self, args, opts) -> None:
        if len(args) != 1:
            super().run(args, opts)  # Scrapy's usage errors
            return
        name = args[0]
        crawler = self._create_crawler(name)
        refused: list[Exception] = []
        running = self.crawler_process.crawl(crawler, **opts.spargs)
        _keep_refusals(running, refused)
        self.crawler_process.start()

        command = f"scrapy crawl {name}"
        if refused:
            # e.g. another run holds the site's lock, the dataset cannot be opened for writing, or a
            # spider argument is wrong (the spider's own message names it).
            error = refused[0]
            if isinstance(error, errors.MiataError):
                print(f"{command}: {error.message}", file=sys.stderr)
                self.exitcode = error.exit_status
            else:
                print(f"{command}: {error}", file=sys.stderr)
                self.exitcode = errors.USAGE
            return
        try:
            stats = crawler.stats.get_stats()
        except RuntimeError:  # the crawl never started: Scrapy has already said why
            stats = {}
        reason = stats.get("finish_reason")
        if reason is None:
            self.exitcode = errors.FAILED if self.crawler_process.bootstrap_failed else errors.OK
            return
        outcome = errors.run_outcome(reason, stats,
                                     give_ups_tolerated=crawler.settings.getint("MIATA_GIVE_UPS_TOLERATED", 0))
        self.exitcode = errors.exit_status_for(outcome)
        if outcome != "finished":
            print(errors.outcome_line(command, outcome, errors.outcome_detail(outcome, stats)), file=sys.stderr)


#: Errors that refuse a run before it starts with a message of their own: a MiataError (lock, data
#: directory), or a spider argument the spider rejects (``-a base_url=ftp://...``, an unknown engine).
_REFUSALS = (errors.MiataError, ValueError)


def _keep_refusals(running, refused: list) -> None:
    """Take a refusal out of the crawl's Deferred (or asyncio Task) into ``refused``, so it ends the
    command with its own line and status instead of an unhandled-error traceback."""
    if isinstance(running, asyncio.Future):
        def done(task):
            if not task.cancelled() and isinstance(task.exception(), _REFUSALS):
                refused.append(task.exception())

        running.add_done_callback(done)
        return

    def catch(failure):
        if failure.check(*_REFUSALS):
            refused.append(failure.value)
        else:
            # A bug, not a condition of the site: Scrapy would drop it silently; show where it is.
            failure.printTraceback(file=sys.stderr)
        return None

    running.addErrback(catch)
