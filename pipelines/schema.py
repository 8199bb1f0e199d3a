"""The one post schema shared by every forum spider and the Reddit collector.

Every Parquet file under ``DATA_DIR/posts/`` is written with exactly this schema; ``docs/schema.md``
is its dataset card. Timestamps are UTC with microsecond precision. ``miata_spiders.items.PostItem``
is the same fields as a Python class (tests/test_schema.py holds them to each other, type for type),
and the one place ``content_hash`` is computed for a post.
"""

import re

import pyarrow as pa

UTC_TIMESTAMP = pa.timestamp("us", tz="UTC")

QUOTE = pa.struct(
    [
        pa.field("author", pa.string()),
        pa.field("post_id", pa.string()),
        pa.field("text", pa.string()),
    ]
)

POST_SCHEMA = pa.schema(
    [
        pa.field("source", pa.string(), nullable=False),  # "forum" or "reddit"
        pa.field("site", pa.string(), nullable=False),  # spider name, e.g. "miataturbo"
        pa.field("post_id", pa.string(), nullable=False),
        pa.field("thread_id", pa.string(), nullable=False),
        pa.field("thread_title", pa.string()),
        pa.field("thread_url", pa.string()),
        pa.field("forum_id", pa.string()),
        pa.field("forum_path", pa.list_(pa.string())),
        pa.field("position", pa.int32()),
        pa.field("page", pa.int32()),
        pa.field("author", pa.string()),
        pa.field("author_id", pa.string()),
        pa.field("posted_at", UTC_TIMESTAMP),
        pa.field("edited_at", UTC_TIMESTAMP),
        pa.field("edited_by", pa.string()),
        pa.field("is_deleted", pa.bool_()),
        pa.field("body_text", pa.string()),
        pa.field("body_html", pa.string()),
        pa.field("quotes", pa.list_(QUOTE)),
        pa.field("images", pa.list_(pa.string())),
        pa.field("links", pa.list_(pa.string())),
        pa.field("signature", pa.string()),
        pa.field("url", pa.string()),
        pa.field("content_hash", pa.string(), nullable=False),
        pa.field("scraped_at", UTC_TIMESTAMP, nullable=False),
        # Reddit only (null in forum rows), named as Reddit/PRAW name them; see docs/reddit.md.
        pa.field("subreddit", pa.string()),
        pa.field("link_id", pa.string()),  # a comment's submission, t3_...
        pa.field("parent_id", pa.string()),  # t1_... (a comment) or t3_... (the submission)
        pa.field("depth", pa.int32()),  # 0 for a reply to the submission
        pa.field("score", pa.int32()),
        pa.field("num_comments", pa.int32()),
        pa.field("is_submitter", pa.bool_()),
        pa.field("distinguished", pa.string()),
        pa.field("author_flair_text", pa.string()),
        pa.field("link_flair_text", pa.string()),
        pa.field("permalink", pa.string()),
        pa.field("domain", pa.string()),
        pa.field("link_url", pa.string()),  # Reddit's "url": what a link post points to
        pa.field("over_18", pa.bool_()),
        pa.field("author_deleted", pa.bool_()),  # author shown as "[deleted]"; author is null
        pa.field("removed_by_category", pa.string()),  # why is_deleted: "deleted", "removed", "moderator"...
    ]
)

FIELD_NAMES = tuple(POST_SCHEMA.names)
# The form content_hash() returns (SHA-256, lowercase hex); the pipelines refuse any other.
CONTENT_HASH_FORMAT = re.compile(r"[0-9a-f]{64}")


def normalise_text(text: str | None) -> str:
    """Collapse runs of whitespace; the form both hashing and dedupe compare."""
    return " ".join((text or "").split())


def content_hash(body_text: str | None, quotes=(), images=(), is_deleted: bool = False) -> str:
    """Stable hash of what a reader sees in a post: its own text, what it quotes and its images.

    Layout-only changes (whitespace, attribute order) do not change it; an edit does.
    """
    import hashlib
    import json

    payload = {
        "t": normalise_text(body_text),
        "q": [normalise_text(q.get("text") if isinstance(q, dict) else getattr(q, "text", "")) for q in quotes or ()],
        "i": list(images or ()),
        "d": bool(is_deleted),
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
