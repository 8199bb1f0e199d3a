"""Smoke checks on real pages saved from live forums (../shared/reference-html, read-only):
every post found, none without author, date, position or text."""

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
from scrapy.http import HtmlResponse

from miata_spiders.dates import DateResolver
from miata_spiders.engines import vbulletin

REFERENCE = Path(__file__).resolve().parents[1].parent / "shared" / "reference-html"
PAGES = json.loads((REFERENCE / "pages.json").read_text())
VBULLETIN_PAGES = {name: page for name, page in PAGES.items() if page["engine"] in ("ib-vbulletin", "vbulletin3", "vbulletin4")}


def parse(name):
    page = PAGES[name]
    response = HtmlResponse(url=page["url"], body=(REFERENCE / name).read_bytes())
    return vbulletin.parse_thread_page(response, page["url"], DateResolver(now=datetime(2026, 1, 1, tzinfo=timezone.utc)))


@pytest.mark.parametrize("name", sorted(VBULLETIN_PAGES))
def test_every_post_has_author_date_position_and_text(name):
    thread = parse(name)
    assert len(thread.posts) == PAGES[name]["posts"]
    for post in thread.posts:
        assert post.author and post.author_id, post.post_id
        assert post.posted_at is not None, post.post_id
        assert post.position is not None, post.post_id
        assert post.body_text, post.post_id
    positions = [p.position for p in thread.posts]
    assert positions == sorted(positions) and len(set(positions)) == len(positions)


def test_ib_thread_page_identity_and_quotes():
    thread = parse("ib-vbulletin/pprune-showthread-666472-page1.html")
    assert (thread.thread_id, thread.forum_id, thread.page, thread.page_count) == ("666472", "139", 1, 87)
    assert thread.forum_path == ["Flight Deck Forums", "Accidents and Close Calls"]
    assert thread.next_page == "https://www.pprune.org/accidents-close-calls/666472-plane-crash-near-ahmedabad-2.html"
    first = thread.posts[0]
    assert (first.post_id, first.author, first.author_id) == ("11898891", "JanetFlight", "125757")
    assert first.posted_at == datetime(2025, 6, 12, 8, 57, tzinfo=timezone.utc)  # "All times are GMT."
    # The "Top Answer" box re-shows post 11903346 from page 87: it is not a post of this page.
    assert "11903346" not in [p.post_id for p in thread.posts]
    reply = next(p for p in thread.posts if p.post_id == "11898919")
    assert reply.quotes == [{"author": "logansi", "post_id": "11898912",
                             "text": "I just saw the crash video, and I'm convinced I can't see take off flaps set"}]
    assert reply.body_text.startswith("are you confident the video is legit?")
    assert "take off flaps" not in reply.body_text


def test_classic_vbulletin3_page_uses_its_footer_offset():
    thread = parse("vbulletin3/animesuki-showthread-128882-page152.html")
    first = thread.posts[0]
    # "2016-02-01, 02:21" on a page that says "All times are GMT -5."
    assert (first.position, first.author, first.posted_at) == (3021, "Shirohige", datetime(2016, 2, 1, 7, 21, tzinfo=timezone.utc))
    assert thread.next_page == "https://forums.animesuki.com/showthread.php?t=128882&page=153"
