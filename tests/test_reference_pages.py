"""Smoke checks on real pages saved from live forums (../shared/reference-html, read-only): every
vBulletin post found, none without author, author id, date, position or text. Skips, with the reason,
when the folder is absent (a user's fresh clone); tests/test_reference_vbulletin.py checks every value."""

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
from scrapy.http import HtmlResponse

from miata_spiders.dates import DateResolver
from miata_spiders.engines import vbulletin

REFERENCE = Path(__file__).resolve().parents[1].parent / "shared" / "reference-html"
VBULLETIN_PAGES = ["ib-vbulletin/pprune-showthread-666472-page1.html",
                   "vbulletin3/animesuki-showthread-128882-page152.html",
                   "vbulletin4/militarytimes-showthread-9687-page1.html"]


@pytest.fixture(scope="module")
def pages() -> dict:
    if not (REFERENCE / "pages.json").is_file():
        pytest.skip(f"real reference pages not available: {REFERENCE} is absent (it sits beside the project in CI)")
    return json.loads((REFERENCE / "pages.json").read_text())


def parse(pages, name):
    page = pages[name]
    response = HtmlResponse(url=page["url"], body=(REFERENCE / name).read_bytes())
    return vbulletin.parse_thread_page(response, page["url"], DateResolver(now=datetime(2026, 1, 1, tzinfo=timezone.utc)))


def test_every_vbulletin_page_in_the_reference_set_is_covered(pages):
    assert sorted(n for n, p in pages.items() if p["engine"] in ("ib-vbulletin", "vbulletin3", "vbulletin4")) == VBULLETIN_PAGES


@pytest.mark.parametrize("name", VBULLETIN_PAGES)
def test_every_post_has_author_date_position_and_text(pages, name):
    thread = parse(pages, name)
    assert len(thread.posts) == pages[name]["posts"]
    for post in thread.posts:
        assert post.author and post.author_id, post.post_id
        assert post.posted_at is not None, post.post_id
        assert post.position is not None, post.post_id
        assert post.body_text, post.post_id
    positions = [p.position for p in thread.posts]
    assert positions == sorted(positions) and len(set(positions)) == len(positions)


def test_ib_thread_page_identity_and_quotes(pages):
    thread = parse(pages, "ib-vbulletin/pprune-showthread-666472-page1.html")
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


def test_classic_vbulletin3_page_uses_its_footer_offset(pages):
    thread = parse(pages, "vbulletin3/animesuki-showthread-128882-page152.html")
    first = thread.posts[0]
    # "2016-02-01, 02:21" on a page that says "All times are GMT -5."
    assert (first.position, first.author, first.posted_at) == (3021, "Shirohige", datetime(2016, 2, 1, 7, 21, tzinfo=timezone.utc))
    assert thread.next_page == "https://forums.animesuki.com/showthread.php?t=128882&page=153"
