"""Items the spiders yield. ``PostItem`` is ``pipelines.schema.POST_SCHEMA`` as a Python class: the same
fields in the same order, ``X | None`` exactly where the column is nullable (tests/test_schema.py keeps
the two in step, type for type). The schema says what is stored; the item adds the defaults a
collector may leave out and the content hash.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

from pipelines.schema import content_hash


@dataclass
class Quote:
    author: str | None
    post_id: str | None
    text: str


@dataclass
class PostItem:
    source: str
    site: str
    post_id: str
    thread_id: str
    thread_title: str | None = None
    thread_url: str | None = None
    forum_id: str | None = None
    forum_path: list[str] | None = field(default_factory=list)
    position: int | None = None
    page: int | None = None
    author: str | None = None
    author_id: str | None = None
    posted_at: datetime | None = None
    edited_at: datetime | None = None
    edited_by: str | None = None
    is_deleted: bool | None = False
    body_text: str | None = None
    body_html: str | None = None
    quotes: list[dict] | None = field(default_factory=list)
    images: list[str] | None = field(default_factory=list)
    links: list[str] | None = field(default_factory=list)
    signature: str | None = None
    url: str | None = None
    content_hash: str = ""  # computed from the post's content when the item is made, unless given
    scraped_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))  # when the page was fetched
    # Reddit only (None for forum posts), in POST_SCHEMA's order; see docs/reddit.md.
    subreddit: str | None = None
    link_id: str | None = None
    parent_id: str | None = None
    depth: int | None = None
    score: int | None = None
    num_comments: int | None = None
    is_submitter: bool | None = None
    distinguished: str | None = None
    author_flair_text: str | None = None
    link_flair_text: str | None = None
    permalink: str | None = None
    domain: str | None = None
    link_url: str | None = None
    over_18: bool | None = None
    author_deleted: bool | None = None
    removed_by_category: str | None = None

    def __post_init__(self):
        # Once, here: dedupe and the writer trust it, and the Reddit collector and the forum spider
        # cannot hash a post two different ways.
        if not self.content_hash:
            self.content_hash = content_hash(self.body_text, self.quotes, self.images, self.is_deleted)
