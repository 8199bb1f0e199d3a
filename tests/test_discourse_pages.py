"""A Discourse topic page saved as HTML (`miata parse`): its ``#data-preloaded`` store gives the page's
posts exactly as the API does; without the store, the ``<noscript>`` crawler view gives every post with
author, date, position and text (no ids: ``<topic>#<number>``). Pages of the synthetic Discourse site."""

from __future__ import annotations

import re
from datetime import datetime, timezone

from miata_spiders.cli import parse_page_records
from miata_spiders.testing.forumgen import POST_SLOTS, ForumShape, SyntheticForum
from miata_spiders.testing.render_discourse import DiscourseForumSite
from pipelines.schema import normalise_text

SITE = DiscourseForumSite(SyntheticForum(ForumShape(seed=7, threads_per_forum=5, posts_per_thread=6)), chunk_size=4)
THREAD = max((SITE.forum.thread(t) for t in SITE.forum.all_thread_ids()), key=lambda t: t.post_count)
NOW = datetime(2026, 12, 1, tzinfo=timezone.utc)


def parse(page: int, with_store: bool) -> list[dict]:
    url = SITE.thread_url(THREAD) + (f"?page={page}" if page > 1 else "")
    _, body, _ = SITE.respond(url[len(SITE.host):])
    if not with_store:
        body = re.sub(rb'<div class="hidden" id="data-preloaded"[^>]*></div>', b"", body)
    return list(parse_page_records("mx5oc", url, body, now=NOW))


def posts_of(page: int) -> list:
    per = SITE.chunk_size
    return [SITE.forum.post(THREAD.thread_id, n) for n in range((page - 1) * per + 1, min(THREAD.post_count, page * per) + 1)]


def test_the_preloaded_store_gives_the_pages_posts_with_their_real_ids():
    records = parse(2, with_store=True)
    posts = [r for r in records if r["kind"] == "post"]
    assert [r["post_id"] for r in posts] == [str(p.post_id) for p in posts_of(2)]
    assert {(r["page"], r["thread_id"], tuple(r["forum_path"])) for r in posts} == {
        (2, str(THREAD.thread_id), tuple(SITE.expected_path(THREAD)))}
    assert {"kind": "next_page", "url": SITE.thread_url(THREAD) + "?page=3"} in records


def test_without_the_store_the_crawler_view_gives_every_post():
    for page in range(1, SITE.crawler_pages(THREAD) + 1):
        posts = [r for r in parse(page, with_store=False) if r["kind"] == "post"]
        assert [r["post_id"] for r in posts] == [f"{THREAD.thread_id}#{p.position}" for p in posts_of(page)]
        for row, post in zip(posts, posts_of(page)):
            want = SITE.expected_row(post)
            assert (row["position"], row["author"], row["author_id"], row["page"]) == (post.position, want["author"], None, page)
            assert row["posted_at"] == want["posted_at"]
            assert (row["body_text"] and normalise_text(row["body_text"]), row["is_deleted"]) == (
                want["body_text"], post.deleted)
            assert [q["author"] for q in row["quotes"]] == [q["author"] for q in want["quotes"]]
            assert row["images"] == want["images"] or post.deleted
            assert divmod(post.post_id, POST_SLOTS)[0] == THREAD.thread_id
