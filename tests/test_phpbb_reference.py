"""Smoke checks of the phpBB engine on real phpBB 3 pages saved from live forums
(../shared/reference-html, read-only): every post found, with author, date, position and text."""

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
from scrapy.http import HtmlResponse

from miata_spiders.dates import DateResolver
from miata_spiders.engines import phpbb

REFERENCE = Path(__file__).resolve().parents[1].parent / "shared" / "reference-html"
PAGES = json.loads((REFERENCE / "pages.json").read_text())
PHPBB_PAGES = sorted(name for name, page in PAGES.items() if page["engine"] == "phpbb3")
ILP = "phpbb3/ilovephilosophy-viewtopic-194998-page2.html"


def parse(name):
    page = PAGES[name]
    response = HtmlResponse(url=page["url"], body=(REFERENCE / name).read_bytes())
    assert phpbb.page_kind(response) == "thread"
    return phpbb.parse_thread_page(response, page["url"], DateResolver(now=datetime(2026, 1, 1, tzinfo=timezone.utc)))


@pytest.mark.parametrize("name", PHPBB_PAGES)
def test_every_post_has_author_date_position_and_content(name):
    thread = parse(name)
    assert len(thread.posts) == PAGES[name]["posts"]
    assert thread.unparsed_dates == 0
    for post in thread.posts:
        assert post.author and post.author_id, post.post_id
        assert post.posted_at is not None, post.post_id
        assert post.position is not None, post.post_id
        # An image-only reply has no words of its own, but it has its images.
        assert post.body_text or post.images, post.post_id
        assert "wrote:" not in post.body_text, post.post_id
    positions = [p.position for p in thread.posts]
    assert positions == sorted(positions) and len(set(positions)) == len(positions)


def test_phpbb30_page_identity_positions_and_dst_footer():
    thread = parse(ILP)
    assert (thread.thread_id, thread.title, thread.forum_id, thread.page, thread.page_count) == (
        "194998", "Biological Will", "1", 2, 10)
    assert thread.forum_path == ["Philosophy Forums", "Philosophy"]
    assert thread.next_page == "http://www.ilovephilosophy.com/viewtopic.php?t=194998&start=50"
    # No post numbers are printed: page 2 starts at offset 25 (start=25, 25 posts per page).
    assert [p.position for p in thread.posts] == list(range(26, 51))
    first = thread.posts[0]
    assert (first.post_id, first.author, first.author_id) == ("2729870", "Jakob", "5996")
    # "Sun May 26, 2019 4:34 pm" on a page that says "All times are UTC [ DST ]": phpBB 3.0 adds the hour.
    assert first.posted_at == datetime(2019, 5, 26, 15, 34, tzinfo=timezone.utc)
    assert first.signature == "For behold, all acts of love and pleasure are my rituals"
    assert "rituals" not in first.body_text


def test_phpbb30_quotes_edits_and_links():
    posts = {p.post_id: p for p in parse(ILP).posts}
    cited = posts["2729876"]
    assert cited.quotes[0]["author"] == "Urwrongx1000" and cited.quotes[0]["post_id"] is None
    assert cited.quotes[0]["text"].startswith("I don't know if you've read this thread")
    assert cited.body_text.startswith("But then if non living things are excluded")
    assert posts["2729875"].quotes == [{"author": None, "post_id": None, "text": "https://vocaroo.com/i/s0WJlPuchytm"}]
    edited = posts["2729877"]
    assert (edited.edited_by, edited.edited_at) == ("Jakob", datetime(2019, 5, 26, 16, 35, tzinfo=timezone.utc))
    assert posts["2729874"].links == ["http://www.ilovephilosophy.com/viewtopic.php?f=6&t=194003"]
    image_only = posts["2729894"]
    assert image_only.body_text == "" and image_only.images == [
        "https://i.makeagif.com/media/12-16-2015/npz5Cb.gif", "https://i.gifer.com/PNzq.gif"]


def test_page_reached_by_a_post_link_knows_its_topic_and_offset():
    url = "http://www.ilovephilosophy.com/viewtopic.php?p=2729870&sid=0f1e2d3c#p2729870"
    response = HtmlResponse(url=url, body=(REFERENCE / ILP).read_bytes())
    thread = phpbb.parse_thread_page(response, url, DateResolver(now=datetime(2026, 1, 1, tzinfo=timezone.utc)))
    assert thread.thread_id == "194998"
    assert thread.canonical_url == "http://www.ilovephilosophy.com/viewtopic.php?t=194998&start=25"
    assert thread.posts[0].position == 26  # page 2 at 25 per page, from phpBB 3.0's per_page script variable
