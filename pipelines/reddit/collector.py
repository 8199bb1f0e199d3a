"""Collect subreddits into ``DATA_DIR/posts/site=reddit/``: list, fetch trees, dedupe, write.

For each subreddit: check it can be read, list its submissions through every listing and search
(one request at a time, PRAW's rate limiter pacing them), then for each submission write its first
post and, when its comment count changed since the last complete fetch, its whole comment tree.
Every row passes the dataset's dedupe rule (same id and hash: dropped; new hash: a new version)
before the shared Parquet writer gets it.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from datetime import datetime, timezone

from praw.exceptions import PRAWException
from prawcore.exceptions import PrawcoreException
from tqdm import tqdm

from miata_spiders.items import PostItem
from pipelines.dataset import load_seen_keys
from pipelines.dedupe import SeenPosts, Verdict
from pipelines.lock import SiteLock
from pipelines.parquet import ParquetBatchWriter, item_to_row
from pipelines.reddit.backoff import Backoff
from pipelines.reddit.client import is_credentials_error
from pipelines.reddit.comments import fetch_comment_tree
from pipelines.reddit.listings import iterate, open_subreddit, recently_commented, search_listings, standard_listings
from pipelines.reddit.mapping import SITE, comment_item, submission_item, thread_context
from pipelines.reddit.state import CommentCounts

logger = logging.getLogger(__name__)

DEFAULT_SUBREDDITS = ("Miata", "mx5")


@dataclass
class SubredditReport:
    name: str
    problem: str | None = None  # why the subreddit could not be read at all
    listed: int = 0  # distinct submissions found by all listings and searches
    trees_fetched: int = 0
    skipped: int = 0  # comment count unchanged since the last complete fetch, or no comments
    comments: int = 0  # comments in the trees fetched
    new_posts: int = 0
    new_versions: int = 0
    duplicates: int = 0
    failed_listings: list[str] = field(default_factory=list)
    failed_submissions: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.problem is None and not self.failed_listings and not self.failed_submissions

    def summary(self) -> str:
        if self.problem:
            return f"r/{self.name}: skipped, the subreddit {self.problem}"
        line = (
            f"r/{self.name}: {self.listed} submissions listed, {self.trees_fetched} comment trees fetched "
            f"({self.comments} comments), {self.skipped} without new comments; {self.new_posts + self.new_versions} rows written "
            f"({self.new_posts} new, {self.new_versions} new versions), {self.duplicates} duplicates dropped"
        )
        if self.failed_listings:
            line += f"; {len(self.failed_listings)} listings failed"
        if self.failed_submissions:
            line += f"; {len(self.failed_submissions)} submissions incomplete (retried next run)"
        return line


class RedditCollector:
    def __init__(
        self,
        reddit,
        data_dir: str | os.PathLike,
        *,
        batch_size: int,
        search_terms=(),
        limit: int | None = None,
        backoff: Backoff | None = None,
        progress: bool | None = None,
    ):
        self.reddit = reddit
        self.search_terms = tuple(search_terms)
        self.limit = limit
        self.backoff = backoff or Backoff()
        self._bars_disabled = None if progress is None else not progress  # None: bars only on a terminal
        # One writer per site (a second collector would store every comment twice): held until run() ends.
        self.lock = SiteLock(data_dir, SITE).acquire()
        try:
            self.writer = ParquetBatchWriter(data_dir, SITE, batch_size)
            self.seen = SeenPosts(load_seen_keys(data_dir, SITE))
            self.counts = CommentCounts.load(data_dir)
        except BaseException:
            self.lock.release()
            raise

    def run(self, subreddits) -> list[SubredditReport]:
        reports = []
        try:
            for name in subreddits:
                reports.append(self.collect_subreddit(name))
        finally:
            try:
                # Counts are saved only after the rows they stand for are on disk (see state.py).
                self.writer.close()
                self.counts.commit()
            finally:
                self.lock.release()
        return reports

    def _bar(self, **kwargs) -> tqdm:
        return tqdm(disable=self._bars_disabled, dynamic_ncols=True, **kwargs)

    def collect_subreddit(self, name: str) -> SubredditReport:
        name = name.strip().strip("/").removeprefix("r/")  # "r/Miata" and "/r/Miata/" name r/Miata too
        report = SubredditReport(name)
        subreddit, problem = open_subreddit(self.reddit, name, self.backoff)
        if problem:
            report.problem = problem
            logger.error("reddit: r/%s %s; skipping it", name, problem)
            return report
        report.name = subreddit.display_name
        submissions = self._list_submissions(subreddit, report)
        # One bar (two stacked tqdm bars garble each other when closed): submissions, comments alongside.
        with self._bar(total=len(submissions), desc=f"r/{report.name} submissions", unit="sub") as bar:
            for submission in submissions:
                self._collect_submission(submission, report)
                bar.update(1)
                bar.set_postfix(comments=report.comments, written=report.new_posts + report.new_versions)
        return report

    def _list_submissions(self, subreddit, report: SubredditReport) -> list:
        found: dict[str, object] = {}

        def add(submissions) -> None:
            for submission in submissions:
                found.setdefault(submission.id, submission)

        sources = [
            (listing.name, lambda l=listing: add(iterate(l.open(subreddit, self.limit), f"listing r/{report.name} {l.name}", self.backoff)))
            for listing in standard_listings() + search_listings(self.search_terms)
        ]
        # Last, the submissions of the newest comments that no listing showed.
        sources.append(("comments", lambda: add(recently_commented(self.reddit, subreddit, set(found), self.limit, self.backoff))))
        with self._bar(total=len(sources), desc=f"r/{report.name} listings", unit="listing") as bar:
            for name, collect in sources:
                try:
                    collect()
                except PrawcoreException as error:
                    if is_credentials_error(error):
                        raise
                    report.failed_listings.append(name)
                    logger.error("reddit: listing r/%s %s failed: %s", report.name, name, error)
                bar.update(1)
                bar.set_postfix(submissions=len(found))
        report.listed = len(found)
        # Newest first: a nightly run that gets cut short has still taken what is new.
        return sorted(found.values(), key=lambda s: (vars(s).get("created_utc") or 0, s.id), reverse=True)

    def _collect_submission(self, submission, report: SubredditReport) -> None:
        fullname = f"t3_{submission.id}"
        scraped_at = datetime.now(timezone.utc)
        listed_count = vars(submission).get("num_comments")
        if listed_count == 0 or (listed_count is not None and self.counts.get(fullname) == listed_count):
            # Nothing new below it; its own text is still checked, so an edit becomes a new version.
            report.skipped += 1
            self._emit(submission_item(submission, scraped_at), report)
            if listed_count == 0:
                self.counts.record(fullname, 0)
            return
        try:
            tree = fetch_comment_tree(submission, self.backoff)
        # AssertionError: PRAW checks the tree's consistency with asserts ("file a bug report").
        except (PrawcoreException, PRAWException, AssertionError) as error:
            if is_credentials_error(error):
                raise
            report.failed_submissions.append(fullname)
            logger.error("reddit: could not fetch the comments of %s: %s", fullname, error)
            self._emit(submission_item(submission, scraped_at), report)
            return
        report.trees_fetched += 1
        report.comments += len(tree.comments)
        thread = thread_context(submission)
        self._emit(submission_item(submission, scraped_at), report)
        # Positions follow the order comments were written, like a forum thread's pages: new
        # comments get the next positions and the old ones keep theirs.
        in_order = sorted(tree.comments, key=lambda pair: (vars(pair[0]).get("created_utc") or 0, pair[0].id))
        for position, (comment, depth) in enumerate(in_order, start=2):
            self._emit(comment_item(comment, thread, depth, position, scraped_at), report)
        if tree.complete:
            self.counts.record(fullname, vars(submission).get("num_comments"))
        else:
            report.failed_submissions.append(fullname)

    def _emit(self, item: PostItem, report: SubredditReport) -> None:
        row = item_to_row(item, default_site=SITE)
        verdict = self.seen.check_and_add(row["post_id"], row["content_hash"])
        if verdict in (Verdict.SEEN_IN_RUN, Verdict.SEEN_STORED):
            report.duplicates += 1
            return
        if verdict is Verdict.NEW_VERSION:
            report.new_versions += 1
        else:
            report.new_posts += 1
        if self.writer.add(row) is not None:
            self.counts.commit()
