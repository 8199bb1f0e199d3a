"""A dataset made by the real pipeline, for the ``miata data`` tests: two crawls of a synthetic
vBulletin forum (the second after the forum grew and some posts were edited, so edited posts have two
versions; posts quote earlier posts, carry images, links and signatures) plus a Reddit collection
from the fake Reddit API, all in one data dir.

Building it costs three subprocess crawls, so tests share one copy per test session (``sample_dataset``
fixture in tests/conftest.py) and must not write into it: copy it first (``copy_sample``).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from miata_spiders.testing.forumgen import ForumShape, SyntheticForum
from miata_spiders.testing.render_ib import IBForumSite
from miata_spiders.testing.server import ForumServer
from tests.support.crawl import scrapy_crawl
from tests.support.fake_reddit import FakeReddit, point_praw_at, sample_subreddits

FORUM_SITE = "miataturbo"
# Big enough for several threads with quotes, images, links and edits; small enough to crawl in seconds.
SHAPE = ForumShape(seed=23, threads_per_forum=6, posts_per_thread=9, posts_per_page=5, threads_per_page=4)


@dataclass(frozen=True)
class SampleDataset:
    data_dir: Path
    forum_site: str
    forum_before: SyntheticForum  # what the first crawl saw
    forum_after: SyntheticForum  # what the second crawl saw (grown, some posts edited)


def build_sample_dataset(root: Path) -> SampleDataset:
    data_dir = root / "data"
    before = SyntheticForum(replace(SHAPE, generation=0))
    after = SyntheticForum(replace(SHAPE, generation=1))
    server = ForumServer(IBForumSite(before))
    server.start()
    try:
        scrapy_crawl(FORUM_SITE, server.base_url, data_dir)
        server.site = IBForumSite(after)
        scrapy_crawl(FORUM_SITE, server.base_url, data_dir)
    finally:
        server.stop()
    with pytest.MonkeyPatch.context() as monkeypatch, FakeReddit(sample_subreddits()) as fake:
        from pipelines.reddit.cli import main as reddit_main

        point_praw_at(fake, monkeypatch, root)
        status = reddit_main(["--praw-site", "fake_reddit", "--data-dir", str(data_dir), "--no-search", "--no-progress"])
        assert status == 0, "the Reddit sample collection failed"
    return SampleDataset(data_dir, FORUM_SITE, before, after)


def copy_sample(sample: SampleDataset, dest: Path) -> Path:
    """A writable copy of the sample's data dir (for commands that rewrite it, like ``compact``)."""
    target = dest / "data"
    shutil.copytree(sample.data_dir, target)
    return target
