"""PRAW submissions and comments as ``PostItem`` rows of the shared post schema.

A submission is a thread whose first post (``position`` 1) is its selftext, or its link when it has
no text; its comments follow in the order they were written (``position`` 2, 3...). Ids are Reddit
fullnames (``t3_...`` submissions, ``t1_...`` comments), so ``parent_id`` joins ``post_id`` and
``thread_id`` is the submission's own ``post_id``.

Attributes are read from each object's ``vars()``, never with ``getattr``: PRAW fetches an object
again when a missing attribute is read, and a listing's submission lacks some (``gallery_data``...).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from urllib.parse import urlsplit

import lxml.html

from miata_spiders.engines.html_text import element_text, image_urls, link_urls
from miata_spiders.items import PostItem

SITE = "reddit"
SOURCE = "reddit"
# Canonical web address of permalinks; the API host may be elsewhere (a test server, a proxy).
REDDIT_WEB = "https://www.reddit.com"
# What Reddit serves instead of a body that is gone, and what that tells about why.
BODY_PLACEHOLDERS = {"[deleted]": "deleted", "[removed]": "removed"}
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".gif", ".webp")
# Reddit's own image hosts: a link there is an image even when its path has no extension.
IMAGE_HOSTS = {"i.redd.it", "preview.redd.it", "i.imgur.com"}
_PREVIEW_IMAGE = re.compile(r"https?://preview\.redd\.it/([\w-]+\.(?:jpe?g|png|gif|webp))(?:\?.*)?$", re.I)


def _value(thing, name: str):
    """An attribute PRAW already holds, or None; never triggers a fetch (see the module doc)."""
    return vars(thing).get(name)


def utc(epoch: float | int | bool | None) -> datetime | None:
    """Reddit's epoch seconds as an aware UTC datetime; ``edited`` is False when never edited."""
    if epoch is None or isinstance(epoch, bool):
        return None
    return datetime.fromtimestamp(epoch, tz=timezone.utc)


def canonical_image_url(url: str) -> str:
    """preview.redd.it URLs carry a signature that changes between fetches; the i.redd.it original
    does not, so the same image always hashes the same."""
    match = _PREVIEW_IMAGE.match(url)
    return f"https://i.redd.it/{match.group(1)}" if match else url


def is_image_url(url: str | None) -> bool:
    if not url:
        return False
    parts = urlsplit(url)
    return parts.path.lower().endswith(IMAGE_EXTENSIONS) or (parts.hostname or "") in IMAGE_HOSTS


@dataclass
class Body:
    """A rendered body split like forum posts: own text, quoted text, images and other links."""

    text: str | None = None
    html: str | None = None
    quotes: list[dict] = field(default_factory=list)
    images: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)


def parse_body_html(body_html: str | None) -> Body:
    if not body_html or not body_html.strip():
        return Body()
    root = lxml.html.fragment_fromstring(body_html, create_parent="div")
    # Only the outermost quotes: a quote inside a quote is part of that quote's text.
    blocks = [q for q in root.iter("blockquote") if not any(a.tag == "blockquote" for a in q.iterancestors())]
    skip = frozenset(blocks)
    images = [canonical_image_url(url) for url in image_urls(root, REDDIT_WEB, skip)]
    links = []
    for url in link_urls(root, REDDIT_WEB, skip):
        url = canonical_image_url(url)
        target = images if is_image_url(url) else links
        if url not in target:
            target.append(url)
    return Body(
        text=element_text(root, skip) or None,
        html=body_html,
        quotes=[{"author": None, "post_id": None, "text": element_text(block)} for block in blocks],
        images=images,
        links=links,
    )


def gallery_images(submission) -> list[str]:
    """Image URLs of a gallery in its own order, then any other media embedded in the post."""
    metadata = _value(submission, "media_metadata") or {}
    ordered = [item["media_id"] for item in (_value(submission, "gallery_data") or {}).get("items", [])]
    ordered += [media_id for media_id in metadata if media_id not in ordered]
    urls = []
    for media_id in ordered:
        media = metadata.get(media_id) or {}
        if media.get("status") != "valid" or media.get("e") not in ("Image", "AnimatedImage"):
            continue  # failed uploads and videos have no image to point at
        extension = (media.get("m") or "image/jpg").split("/")[-1]
        if media.get("e") == "AnimatedImage":
            extension = "gif"
        url = f"https://i.redd.it/{media_id}.{extension}"
        if url not in urls:
            urls.append(url)
    return urls


def _author(thing) -> tuple[str | None, bool]:
    """(name, account gone): PRAW turns Reddit's "[deleted]" author into None."""
    author = _value(thing, "author")
    return (author.name, False) if author is not None else (None, True)


@dataclass(frozen=True)
class ThreadContext:
    """What every post of one submission shares."""

    thread_id: str
    thread_title: str | None
    thread_url: str
    forum_id: str | None
    forum_path: list[str]
    subreddit: str
    permalink: str


def thread_context(submission) -> ThreadContext:
    subreddit = str(_value(submission, "subreddit"))
    permalink = _value(submission, "permalink")
    return ThreadContext(
        thread_id=f"t3_{submission.id}",
        thread_title=_value(submission, "title"),
        thread_url=REDDIT_WEB + permalink,
        forum_id=_value(submission, "subreddit_id"),
        forum_path=[f"r/{subreddit}"],
        subreddit=subreddit,
        permalink=permalink,
    )


def submission_item(submission, scraped_at: datetime) -> PostItem:
    thread = thread_context(submission)
    author, author_gone = _author(submission)
    selftext = _value(submission, "selftext") or ""
    removed_by = _value(submission, "removed_by_category") or BODY_PLACEHOLDERS.get(selftext.strip())
    is_self = bool(_value(submission, "is_self"))
    link_url = _value(submission, "url")
    body = Body() if removed_by else parse_body_html(_value(submission, "selftext_html"))
    images = gallery_images(submission) + body.images
    links = list(body.links)
    if not is_self and link_url and not _value(submission, "is_gallery"):
        target = images if is_image_url(link_url) else links
        target.insert(0, canonical_image_url(link_url))
    if not is_self and not body.text and not removed_by and not _value(submission, "is_gallery"):
        body.text = link_url  # a link post's link is its first post; a gallery's are its images
    edited_at = utc(_value(submission, "edited"))
    return PostItem(
        source=SOURCE,
        site=SITE,
        post_id=thread.thread_id,
        thread_id=thread.thread_id,
        thread_title=thread.thread_title,
        thread_url=thread.thread_url,
        forum_id=thread.forum_id,
        forum_path=list(thread.forum_path),
        position=1,
        author=author,
        author_id=_value(submission, "author_fullname"),
        posted_at=utc(_value(submission, "created_utc")),
        edited_at=edited_at,
        edited_by=author if edited_at else None,  # only its author can edit a Reddit post
        is_deleted=bool(removed_by),
        body_text=body.text,
        body_html=body.html,
        quotes=body.quotes,
        images=list(dict.fromkeys(images)),
        links=list(dict.fromkeys(links)),
        url=thread.thread_url,
        scraped_at=scraped_at,
        subreddit=thread.subreddit,
        score=_value(submission, "score"),
        num_comments=_value(submission, "num_comments"),
        distinguished=_value(submission, "distinguished"),
        link_flair_text=_value(submission, "link_flair_text"),
        author_flair_text=_value(submission, "author_flair_text"),
        permalink=thread.permalink,
        domain=_value(submission, "domain"),
        link_url=link_url,
        over_18=_value(submission, "over_18"),
        author_deleted=author_gone,
        removed_by_category=removed_by,
    )


def comment_item(comment, thread: ThreadContext, depth: int, position: int, scraped_at: datetime) -> PostItem:
    author, author_gone = _author(comment)
    raw_body = (_value(comment, "body") or "").strip()
    removed_by = BODY_PLACEHOLDERS.get(raw_body)
    body = Body() if removed_by else parse_body_html(_value(comment, "body_html"))
    permalink = _value(comment, "permalink") or f"{thread.permalink}{comment.id}/"
    edited_at = utc(_value(comment, "edited"))
    return PostItem(
        source=SOURCE,
        site=SITE,
        post_id=f"t1_{comment.id}",
        thread_id=thread.thread_id,
        thread_title=thread.thread_title,
        thread_url=thread.thread_url,
        forum_id=thread.forum_id,
        forum_path=list(thread.forum_path),
        position=position,
        author=author,
        author_id=_value(comment, "author_fullname"),
        posted_at=utc(_value(comment, "created_utc")),
        edited_at=edited_at,
        edited_by=author if edited_at else None,
        is_deleted=bool(removed_by),
        body_text=body.text,
        body_html=body.html,
        quotes=body.quotes,
        images=body.images,
        links=body.links,
        url=REDDIT_WEB + permalink,
        scraped_at=scraped_at,
        subreddit=thread.subreddit,
        link_id=_value(comment, "link_id") or thread.thread_id,
        parent_id=_value(comment, "parent_id"),
        depth=depth,
        score=_value(comment, "score"),
        is_submitter=_value(comment, "is_submitter"),
        distinguished=_value(comment, "distinguished"),
        author_flair_text=_value(comment, "author_flair_text"),
        permalink=permalink,
        author_deleted=author_gone,
        removed_by_category=removed_by,
    )
