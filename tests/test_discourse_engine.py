"""The Discourse engine on hand-written API answers: one behaviour per test, values as Discourse sends them."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from html import escape

from scrapy.http import HtmlResponse, TextResponse

from miata_spiders.dates import DateResolver
from miata_spiders.engines import get_engine
from miata_spiders.engines.discourse import categories, error_of, json_url, topic_listing, topic_page

ROOT = "https://forum.example"
DATES = DateResolver(now=datetime(2026, 1, 1, tzinfo=timezone.utc))


def post(number, cooked="<p>hello</p>", **fields):
    return {"id": 500 + number, "post_number": number, "username": f"user{number}", "user_id": 70 + number,
            "created_at": "2024-03-01T10:00:00.000Z", "updated_at": "2024-03-01T10:00:00.000Z", "version": 1,
            "post_type": 1, "cooked": cooked, "topic_id": 9, "topic_slug": "nb-swap", "reply_to_post_number": None,
            **fields}


def topic(*posts, **fields):
    return {"id": 9, "title": "NB swap", "slug": "nb-swap", "category_id": 4, "posts_count": len(posts),
            "post_stream": {"posts": list(posts), "stream": [p["id"] for p in posts]}, **fields}


def quote(username, number, topic_id, inner=""):
    return (f'<aside class="quote no-group" data-username="{username}" data-post="{number}" data-topic="{topic_id}">'
            f'<div class="title"><img class="avatar" src="/user_avatar/x/{username}/24/1.png"> {username}:</div>'
            f'<blockquote>{inner}</blockquote></aside>')


def test_quotes_resolve_the_quoted_post_id_within_the_topic_only():
    cooked = (quote("user1", 1, 9, quote("user2", 2, 9, "<p>inner words</p>") + "<p>outer words</p>")
              + quote("far", 3, 77, "<p>elsewhere</p>") + "<p>my own reply</p>")
    page = topic_page(topic(post(1), post(2), post(3, cooked)), f"{ROOT}/t/9.json")
    third = page.posts[2]
    assert third.body_text == "my own reply"
    assert [(q["author"], q["post_id"], q["text"]) for q in third.quotes] == [
        ("user1", "501", "outer words"), ("user2", "502", "inner words"), ("far", None, "elsewhere")]
    assert third.images == []  # quote avatars are not images


def test_a_quote_of_an_earlier_chunk_resolves_from_the_numbers_the_crawl_carries():
    cooked = quote("user1", 1, 9, "<p>first</p>") + "<p>later</p>"
    chunk = {"post_stream": {"posts": [post(25, cooked)]}, "id": 9}
    assert topic_page(chunk, f"{ROOT}/t/9/posts.json?post_ids[]=525").posts[0].quotes[0]["post_id"] is None
    page = topic_page(chunk, f"{ROOT}/t/9/posts.json?post_ids[]=525", known_numbers={1: 501})
    assert page.posts[0].quotes[0]["post_id"] == "501"
    assert (page.thread_id, page.title, page.page, page.canonical_url) == ("9", None, None, f"{ROOT}/t/nb-swap/9")


def test_images_are_lightbox_originals_and_plain_images_never_emoji():
    cooked = ('<p><div class="lightbox-wrapper"><a class="lightbox" href="/uploads/default/original/2X/a/abc.jpeg">'
              '<img src="/uploads/default/optimized/2X/a/abc_2_690x388.jpeg"><div class="meta"><span class="filename">'
              'abc.jpeg</span><span class="informations">1920×1080 320 KB</span></div></a></div></p>'
              '<p>look <img src="https://i.imgur.com/x.png" alt="x"> '
              '<img src="/images/emoji/twitter/smile.png?v=12" class="emoji" alt=":smile:"></p>')
    parsed = topic_page(topic(post(1, cooked)), f"{ROOT}/t/9.json").posts[0]
    assert parsed.images == [f"{ROOT}/uploads/default/original/2X/a/abc.jpeg", "https://i.imgur.com/x.png"]
    assert parsed.body_text == "look"
    assert parsed.links == []


def test_a_onebox_keeps_its_url_as_a_link_but_not_its_preview_text():
    cooked = ('<p>see this</p><aside class="onebox allowlistedgeneric" data-onebox-src="https://shop.example/p">'
              '<header class="source"><a href="https://shop.example/p">shop.example</a></header>'
              '<article class="onebox-body"><h3><a href="https://shop.example/p">Coilovers</a></h3><p>Buy now!</p>'
              '</article></aside><p>and <a href="/t/other-topic/12/3">this topic</a></p>')
    parsed = topic_page(topic(post(1, cooked)), f"{ROOT}/t/9.json").posts[0]
    assert parsed.body_text == "see this\n\nand this topic"
    assert parsed.links == ["https://shop.example/p", f"{ROOT}/t/other-topic/12/3"]


def test_edited_only_for_a_new_version_deleted_flagged_small_actions_skipped():
    page = topic_page(topic(
        post(1, version=3, updated_at="2024-03-02T08:00:00.000Z"),
        post(2, updated_at="2024-03-05T08:00:00.000Z"),  # a like moved updated_at: not an edit
        post(3, "<p>(post deleted by author)</p>", user_deleted=True),
        post(4, "", post_type=3, action_code="closed.enabled"),
        post(5, user_id=None, reply_to_post_number=1),
    ), f"{ROOT}/t/9.json")
    assert [p.position for p in page.posts] == [1, 2, 3, 5]
    first, second, deleted, last = page.posts
    assert first.edited_at == datetime(2024, 3, 2, 8, tzinfo=timezone.utc) and second.edited_at is None
    assert (deleted.is_deleted, deleted.body_text) == (True, None)
    assert (last.author, last.author_id, last.parent_id) == ("user5", None, "1")
    assert first.posted_at == datetime(2024, 3, 1, 10, tzinfo=timezone.utc)
    assert (page.thread_id, page.forum_id, page.page) == ("9", "4", 1)


def test_categories_nest_and_parents_list_only_their_own_topics():
    data = {"category_list": {"categories": [
        {"id": 1, "name": "Cars", "slug": "cars", "topic_count": 3, "subcategory_ids": [2],
         "subcategory_list": [{"id": 2, "name": "NA", "slug": "na", "parent_category_id": 1,
                               "subcategory_list": [{"id": 3, "name": "Turbo", "slug": "turbo"}]}]},
        {"id": 5, "name": "Lounge", "slug": "lounge"}]}}
    found = categories(data, f"{ROOT}/categories.json?include_subcategories=true")
    assert {c.category_id: (c.path, c.parent_id, c.url) for c in found.values()} == {
        "1": (("Cars",), None, f"{ROOT}/c/cars/1/none.json"),
        "2": (("Cars", "NA"), "1", f"{ROOT}/c/cars/na/2/none.json"),
        "3": (("Cars", "NA", "Turbo"), "2", f"{ROOT}/c/cars/na/turbo/3.json"),
        "5": (("Lounge",), None, f"{ROOT}/c/lounge/5.json"),
    }


def test_topic_list_rows_and_its_next_page_as_json():
    data = {"topic_list": {"more_topics_url": "/c/cars/1/none?page=2", "topics": [
        {"id": 9, "title": "NB swap", "slug": "nb-swap", "posts_count": 12, "pinned": True,
         "last_posted_at": "2024-03-01T10:00:00.000Z", "bumped_at": "2024-03-04T10:00:00.000Z", "views": 40}]}}
    listing = topic_listing(data, f"{ROOT}/c/cars/1/none.json?page=1")
    assert (listing.forum_id, listing.page, listing.next_page) == ("1", 2, f"{ROOT}/c/cars/1/none.json?page=2")
    row = listing.threads[0]
    assert (row.thread_id, row.url, row.reply_count, row.sticky) == ("9", f"{ROOT}/t/nb-swap/9", 11, True)
    assert row.last_post_at == datetime(2024, 3, 4, 10, tzinfo=timezone.utc)  # bumped after the last post
    assert json_url("/latest?page=1") == "/latest.json?page=1"


def test_errors_are_named_and_content_is_not_an_error():
    assert error_of({"errors": ["You need to be logged in to do that."], "error_type": "not_logged_in"}) == "not_logged_in"
    assert error_of(topic(post(1))) is None


def test_engine_reads_json_responses_and_the_preloaded_store_of_a_page():
    engine = get_engine("discourse")
    body = json.dumps(topic(post(1), post(2))).encode()
    response = TextResponse(f"{ROOT}/t/9.json", body=body, headers={"Content-Type": "application/json"})
    assert engine.page_kind(response) == "thread"
    assert [p.post_id for p in engine.parse_thread_page(response, response.url, DATES).posts] == ["501", "502"]
    store = escape(json.dumps({"topic_9": json.dumps(topic(post(1)))}))
    html = (f'<html><head><link rel="canonical" href="{ROOT}/t/nb-swap/9"></head><body>'
            f'<div class="hidden" id="data-preloaded" data-preloaded="{store}"></div></body></html>')
    page = HtmlResponse(f"{ROOT}/t/nb-swap/9", body=html.encode())
    assert engine.page_kind(page) == "thread"
    assert [p.post_id for p in engine.parse_thread_page(page, page.url, DATES).posts] == ["501"]
    assert engine.thread_id_from_url(f"{ROOT}/t/nb-swap/9/4") == engine.thread_id_from_url(f"{ROOT}/t/9/posts.json") == "9"
    assert engine.forum_id_from_url(f"{ROOT}/c/cars/na/2/none.json") == "2"


def test_site_json_names_sub_categories_an_older_categories_answer_gives_only_by_id():
    older = {"category_list": {"categories": [{"id": 1, "name": "Cars", "slug": "cars", "subcategory_ids": [2]}]}}
    assert categories(older, f"{ROOT}/categories.json")["1"].child_ids == ("2",)
    site = {"categories": [{"id": 1, "name": "Cars", "slug": "cars"},
                           {"id": 2, "name": "NA", "slug": "na", "parent_category_id": 1}]}
    found = categories(site, f"{ROOT}/site.json")
    assert {c.category_id: (c.path, c.url) for c in found.values()} == {
        "1": (("Cars",), f"{ROOT}/c/cars/1/none.json"), "2": (("Cars", "NA"), f"{ROOT}/c/cars/na/2.json")}


def test_onebox_thumbnails_are_not_the_posts_images_and_listing_filters_keep_the_category_id():
    cooked = ('<aside class="onebox" data-onebox-src="https://shop.example/p"><article class="onebox-body">'
              '<img src="https://shop.example/thumb.jpg" class="thumbnail"><h3><a href="https://shop.example/p">'
              'Coilovers</a></h3></article></aside>')
    parsed = topic_page(topic(post(1, cooked)), f"{ROOT}/t/9.json").posts[0]
    assert (parsed.images, parsed.links) == ([], ["https://shop.example/p"])
    assert get_engine("discourse").forum_id_from_url(f"{ROOT}/c/site-feedback/2/l/latest.json?page=1") == "2"
