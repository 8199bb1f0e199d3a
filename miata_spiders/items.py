"""Items the spiders yield. ``PostItem`` mirrors ``pipelines.schema.POST_SCHEMA`` field for field
(a test keeps the two in step)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


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
    forum_path: list[str] = field(default_factory=list)
    position: int | None = None
    page: int | None = None
    author: str | None = None
    author_id: str | None = None
    posted_at: datetime | None = None
    edited_at: datetime | None = None
    edited_by: str | None = None
    is_deleted: bool = False
    body_text: str | None = None
    body_html: str | None = None
    quotes: list[dict] = field(default_factory=list)
    images: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    signature: str | None = None
    url: str | None = None
    content_hash: str = ""
    scraped_at: datetime | None = None
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
