"""Reddit through PRAW into the post dataset: ``miata reddit`` / ``python -m pipelines.reddit``.

    client.py      read-only PRAW client from praw.ini / praw_* variables; credential errors
    listings.py    every listing and search that reaches a subreddit's submissions
    comments.py    whole comment trees (replace_more, 413 handling)
    backoff.py     429 waits
    mapping.py     submissions and comments -> PostItem rows of the shared schema
    state.py       comment counts of the last complete fetches (incremental runs)
    collector.py   the run: list, fetch, dedupe, write
    cli.py         the command line

See docs/reddit.md.
"""

from pipelines.reddit.cli import add_reddit_parser, main

__all__ = ["add_reddit_parser", "main"]
