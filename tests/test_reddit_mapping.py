"""Reddit things as rows of the shared schema: bodies, media, deletions (no server needed)."""

from __future__ import annotations

from datetime import datetime, timezone
from types import SimpleNamespace

from pipelines.reddit.mapping import (
    ThreadContext,
    canonical_image_url,
    comment_item,
    gallery_images,
    parse_body_html,
    submission_item,
)
from tests.support.fake_reddit import markdown_html

SCRAPED_AT = datetime(2026, 1, 2, tzinfo=timezone.utc)


class Named:
    """What PRAW leaves in ``author`` and ``subreddit``: objects with a name and a str()."""

    def __init__(self, name):
        self.name = self.display_name = name

    def __str__(self):
        return self.name


def submission(**fields):
    data = {
        "id": "abc123", "title": "NB hardtop fitment", "subreddit": Named("Miata"), "subreddit_id": "t5_2qm4e",
        "permalink": "/r/Miata/comments/abc123/nb_hardtop_fitment/", "author": Named("nb_owner"),
        "author_fullname": "t2_xyz", "created_utc": 1700000000.0, "edited": False, "is_self": True,
        "selftext": "", "selftext_html": None, "url": "https://www.reddit.com/r/Miata/comments/abc123/nb_hardtop_fitment/",
        "domain": "self.Miata", "score": 5, "num_comments": 0, "over_18": False,
    }
    return SimpleNamespace(**(data | fields))


THREAD = ThreadContext(
    thread_id="t3_abc123", thread_title="NB hardtop fitment", thread_url="https://www.reddit.com/r/Miata/comments/abc123/nb/",
    forum_id="t5_2qm4e", forum_path=["r/Miata"], subreddit="Miata", permalink="/r/Miata/comments/abc123/nb/",
)


def comment(**fields):
    data = {
        "id": "k1", "body": "Fits fine.", "author": Named("na_driver"), "created_utc": 1700000100.0, "edited": False,
        "parent_id": "t3_abc123", "link_id": "t3_abc123", "score": 3, "is_submitter": False, "distinguished": None,
        "author_flair_text": None,
    }
    data |= fields
    data.setdefault("body_html", markdown_html(data["body"]))
    return SimpleNamespace(**data)


def test_quotes_are_kept_apart_from_the_comments_own_words():
    body = parse_body_html(markdown_html("> Does a NB top fit an NA?\n> It does.\n\nYes, with the NB latches."))
    assert body.text == "Yes, with the NB latches."
    assert body.quotes == [{"author": None, "post_id": None, "text": "Does a NB top fit an NA? It does."}]


def test_image_links_go_to_images_and_other_links_to_links():
    body = parse_body_html(markdown_html(
        "Before: https://i.imgur.com/before.jpg after: [pic](https://i.redd.it/after1) "
        "and [wiki](/r/Miata/wiki/faq) and https://www.flyinmiata.com/"
    ))
    assert body.images == ["https://i.imgur.com/before.jpg", "https://i.redd.it/after1"]
    assert body.links == ["https://www.reddit.com/r/Miata/wiki/faq", "https://www.flyinmiata.com/"]


def test_signed_preview_urls_become_stable_image_urls():
    signed = "https://preview.redd.it/k3v9x.jpg?width=640&format=pjpg&auto=webp&s=0123abcd"
    assert canonical_image_url(signed) == "https://i.redd.it/k3v9x.jpg"
    first = comment_item(comment(body="x", body_html=f'<div class="md"><p><a href="{signed}">pic</a></p></div>'), THREAD, 0, 2, SCRAPED_AT)
    resigned = signed.replace("0123abcd", "ffff0000")
    again = comment_item(comment(body="x", body_html=f'<div class="md"><p><a href="{resigned}">pic</a></p></div>'), THREAD, 0, 2, SCRAPED_AT)
    assert first.images == ["https://i.redd.it/k3v9x.jpg"] and first.content_hash == again.content_hash


def test_gallery_items_keep_their_order_and_skip_failed_uploads():
    post = submission(
        is_self=False, is_gallery=True, url="https://www.reddit.com/gallery/abc123", domain="reddit.com",
        gallery_data={"items": [{"media_id": "b2"}, {"media_id": "a1"}, {"media_id": "c3"}]},
        media_metadata={
            "a1": {"status": "valid", "e": "Image", "m": "image/png", "s": {"u": "https://preview.redd.it/a1.png?s=1"}},
            "b2": {"status": "valid", "e": "AnimatedImage", "m": "image/gif", "s": {"gif": "https://i.redd.it/b2.gif"}},
            "c3": {"status": "failed"},
        },
    )
    assert gallery_images(post) == ["https://i.redd.it/b2.gif", "https://i.redd.it/a1.png"]
    item = submission_item(post, SCRAPED_AT)
    assert item.images == ["https://i.redd.it/b2.gif", "https://i.redd.it/a1.png"]
    assert item.body_text is None and item.links == [] and item.link_url == "https://www.reddit.com/gallery/abc123"


def test_an_image_post_is_an_image_and_a_link_post_a_link():
    image = submission_item(submission(is_self=False, url="https://i.redd.it/engine.jpg", domain="i.redd.it"), SCRAPED_AT)
    assert image.images == ["https://i.redd.it/engine.jpg"] and image.links == []
    link = submission_item(submission(is_self=False, url="https://www.youtube.com/watch?v=x", domain="youtube.com"), SCRAPED_AT)
    assert link.links == ["https://www.youtube.com/watch?v=x"] and link.body_text == "https://www.youtube.com/watch?v=x"


def test_a_removed_submission_keeps_its_title_but_not_its_body():
    item = submission_item(
        submission(selftext="[removed]", selftext_html='<div class="md"><p>[removed]</p></div>', removed_by_category="moderator",
                   author=None, author_fullname=None),
        SCRAPED_AT,
    )
    assert (item.is_deleted, item.body_text, item.body_html, item.removed_by_category) == (True, None, None, "moderator")
    assert (item.author, item.author_deleted, item.thread_title) == (None, True, "NB hardtop fitment")


def test_an_edited_comment_has_its_edit_time_and_a_new_hash():
    original = comment_item(comment(), THREAD, 1, 3, SCRAPED_AT)
    edited = comment_item(comment(body="Fits fine with NB latches.", edited=1700000500.0), THREAD, 1, 3, SCRAPED_AT)
    assert original.edited_at is None and edited.edited_at.timestamp() == 1700000500.0
    assert edited.edited_by == "na_driver" and edited.content_hash != original.content_hash
    # Score and flair are not content: a new score alone is not a new version.
    assert comment_item(comment(score=99), THREAD, 1, 3, SCRAPED_AT).content_hash == original.content_hash


def test_a_comment_without_a_permalink_gets_one_from_its_thread():
    item = comment_item(comment(id="k9"), THREAD, 0, 2, SCRAPED_AT)
    assert item.permalink == "/r/Miata/comments/abc123/nb/k9/"
    assert item.url == "https://www.reddit.com/r/Miata/comments/abc123/nb/k9/"
    assert (item.post_id, item.thread_id, item.depth, item.position) == ("t1_k9", "t3_abc123", 0, 2)
