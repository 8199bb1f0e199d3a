"""``miata reddit`` and ``python -m pipelines.reddit``: collect subreddits into the Parquet dataset.

Exit status: 0 all collected; 1 something was left out (a subreddit that cannot be read, a listing
or comment tree that failed: the next run retries it); 2 missing or rejected credentials, bad
arguments.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from miata_spiders import settings as project_settings

DESCRIPTION = """\
Collect subreddits (default r/Miata and r/mx5) through the Reddit API into
DATA_DIR/posts/site=reddit/, in the same schema as the forum posts. Each run adds
what is new: submissions whose comment count did not change are not fetched again.

Credentials are PRAW's own: a praw.ini section (--praw-site) or the environment
variables praw_client_id, praw_client_secret and praw_user_agent of a Reddit
"script" app. See docs/reddit.md.
"""

LOGGERS = ("pipelines.reddit", "prawcore")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from pipelines.reddit.collector import DEFAULT_SUBREDDITS

    parser.add_argument(
        "-r", "--subreddit", dest="subreddits", action="append", metavar="NAME",
        help=f"subreddit to collect, without r/ (repeatable; default: {', '.join(DEFAULT_SUBREDDITS)})",
    )
    parser.add_argument(
        "--data-dir", default=project_settings.MIATA_DATA_DIR,
        help="dataset root, as MIATA_DATA_DIR for the spiders (default: %(default)s)",
    )
    parser.add_argument(
        "--praw-site", metavar="SECTION",
        help="praw.ini section holding the credentials (default: $praw_site, else [DEFAULT])",
    )
    parser.add_argument(
        "--search", dest="search_terms", action="append", metavar="TERM",
        help="keyword to search each subreddit for, on top of its listings (repeatable; replaces the built-in list)",
    )
    parser.add_argument("--no-search", action="store_true", help="use the listings only, no keyword searches")
    parser.add_argument(
        "--limit", type=int, metavar="N",
        help="at most N submissions from each listing and search (default: all Reddit gives, about 1000)",
    )
    parser.add_argument(
        "--batch-size", type=int, default=project_settings.MIATA_PARQUET_BATCH_SIZE,
        help="rows per Parquet part (default: %(default)s)",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bars (they only show on a terminal anyway)")
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"], help="default: %(default)s")


def add_reddit_parser(subparsers) -> None:
    """Add the ``reddit`` subcommand to ``miata``'s subparsers."""
    parser = subparsers.add_parser(
        "reddit",
        help="collect subreddits (default r/Miata, r/mx5) through the Reddit API into Parquet",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_arguments(parser)
    parser.set_defaults(func=cmd_reddit, prog=parser.prog)


def _search_terms(args) -> tuple[str, ...]:
    from pipelines.reddit.listings import DEFAULT_SEARCH_TERMS

    if args.no_search:
        return ()
    return tuple(args.search_terms) if args.search_terms else DEFAULT_SEARCH_TERMS


def _log_handler(level: str) -> logging.Handler:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    handler.setLevel(level)
    return handler


def cmd_reddit(args) -> int:
    from tqdm.contrib.logging import logging_redirect_tqdm

    from miata_spiders.errors import MiataError
    from pipelines.dataset import DataDirError, site_dir
    from pipelines.reddit.client import CredentialsError, connect, credentials_problem
    from pipelines.reddit.collector import DEFAULT_SUBREDDITS, RedditCollector
    from pipelines.reddit.mapping import SITE

    prog = getattr(args, "prog", "miata reddit")
    if (args.limit is not None and args.limit < 1) or args.batch_size < 1:
        print(f"{prog}: --limit and --batch-size must be at least 1", file=sys.stderr)
        return 2
    handler = _log_handler(args.log_level)
    loggers = [logging.getLogger(name) for name in LOGGERS]
    saved_levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(args.log_level)
    if args.log_level != "DEBUG":
        # prawcore's retries and errors, not its per-request chatter.
        loggers[1].setLevel(max(logging.WARNING, logging.getLevelName(args.log_level)))
    try:
        reddit = connect(args.praw_site)
        collector = RedditCollector(
            reddit,
            args.data_dir,
            batch_size=args.batch_size,
            search_terms=_search_terms(args),
            limit=args.limit,
            progress=False if args.no_progress else None,
        )
        with logging_redirect_tqdm(loggers=loggers):
            reports = collector.run(args.subreddits or DEFAULT_SUBREDDITS)
    except CredentialsError as error:
        print(f"{prog}: {error}", file=sys.stderr)
        return 2
    except MiataError as error:  # another run holds the reddit lock (75); the dataset cannot be written (74)
        print(f"{prog}: {error.message}", file=sys.stderr)
        return error.exit_status
    except DataDirError as error:
        print(f"{prog}: --data-dir {args.data_dir!r} is unusable: {error}", file=sys.stderr)
        return 2
    except Exception as error:
        problem = credentials_problem(error)
        if problem is None:
            raise
        print(f"{prog}: {problem}", file=sys.stderr)
        return 2
    finally:
        for logger, level in zip(loggers, saved_levels):
            logger.removeHandler(handler)
            logger.setLevel(level)
    for report in reports:
        print(report.summary())
    if collector.backoff.waits:
        print(f"waited out {collector.backoff.waits} rate-limit answers (HTTP 429)")
    print(f"data: {site_dir(Path(args.data_dir).resolve(), SITE)}/")
    return 0 if all(report.ok for report in reports) else 1


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pipelines.reddit", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_arguments(parser)
    args = parser.parse_args(argv)
    args.prog = parser.prog
    return cmd_reddit(args)
