"""What an engine parser returns: plain records, independent of Scrapy and of any one forum software."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime


@dataclass
class ForumLink:
    forum_id: str
    title: str
    url: str


@dataclass
class ThreadLink:
    thread_id: str
    title: str
    url: str
    author: str | None = None
    reply_count: int | None = None
    view_count: int | None = None
    last_post_at: datetime | None = None
    sticky: bool = False
    moved: bool = False


@dataclass
class ParsedPost:
    post_id: str
    position: int | None
    author: str | None
    author_id: str | None
    posted_at: datetime | None
    posted_at_text: str | None
    body_text: str | None
    body_html: str | None
    url: str | None
    edited_at: datetime | None = None
    edited_by: str | None = None
    is_deleted: bool = False
    quotes: list[dict] = field(default_factory=list)
    images: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    signature: str | None = None
    # the post this one answers, where the software records it (Discourse: reply_to_post_number)
    parent_id: str | None = None


@dataclass
class ListingPage:
    """A forum index or a forum's thread listing (forumdisplay): sub-forums, threads, next page."""

    forum_id: str | None
    title: str | None
    forum_path: list[str]
    forums: list[ForumLink]
    threads: list[ThreadLink]
    next_page: str | None
    page: int = 1


@dataclass
class ThreadPage:
    thread_id: str | None
    title: str | None
    forum_id: str | None
    forum_path: list[str]
    page: int
    page_count: int | None
    posts: list[ParsedPost]
    next_page: str | None
    canonical_url: str | None = None
    # Dates on the page that could not be read (the post keeps posted_at=None).
    unparsed_dates: int = 0
    # Post containers that raised while being read (each counted and skipped, its neighbours kept).
    parse_errors: int = 0


def to_dict(record) -> dict:
    return asdict(record)
