"""The phpBB engine against our fixture boards (fixtures/phpbb/board33: phpBB 3.3 prosilver, board30:
phpBB 3.0 prosilver): every page parses to exactly what its expectation file, read off the page, says."""

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from parsel import Selector
from scrapy.http import HtmlResponse

from miata_spiders.dates import DateResolver
from miata_spiders.engines import get_engine, phpbb

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "phpbb"
SPECS = sorted(p for p in FIXTURES.glob("*/*.json") if p.name != "site.json")
POST_FIELDS = ("post_id", "position", "author", "author_id", "posted_at", "edited_at", "edited_by", "is_deleted",
               "body_text", "quotes", "images", "links", "signature", "url")


def load(spec_path: Path):
    spec = json.loads(spec_path.read_text(encoding="utf-8"))
    response = HtmlResponse(url=spec["url"], body=spec_path.with_suffix(".html").read_bytes(),
                            headers={"Content-Type": "text/html; charset=UTF-8"})
    dates = DateResolver(tz=spec["timezone"], now=datetime.fromisoformat(spec["now"]))
    return spec, response, dates


def iso(value):
    return value.isoformat() if isinstance(value, datetime) else value


def collapse(text):
    return " ".join(text.split()) if isinstance(text, str) else text


def test_registered_as_an_engine():
    assert get_engine("phpbb") is phpbb.ENGINE


@pytest.mark.parametrize("spec_path", SPECS, ids=[f"{p.parent.name}/{p.stem}" for p in SPECS])
def test_fixture_page_matches_its_expectations(spec_path):
    spec, response, dates = load(spec_path)
    if spec["kind"] == "thread":
        assert phpbb.page_kind(response) == "thread"
        page = phpbb.parse_thread_page(response, spec["url"], dates)
        assert (page.thread_id, page.title, page.forum_id, page.forum_path, page.page, page.next_page) == (
            spec["thread_id"], spec["title"], spec["forum_id"], spec["forum_path"], spec["page"], spec["next_page"])
        assert [p.post_id for p in page.posts] == [p["post_id"] for p in spec["posts"]]
        assert page.unparsed_dates == 0
        for got, want in zip(page.posts, spec["posts"]):
            for field in POST_FIELDS:
                value = getattr(got, field)
                expected = want[field]
                if field == "quotes":
                    value = [{**q, "text": collapse(q["text"])} for q in value]
                    expected = [{**q, "text": collapse(q["text"])} for q in expected]
                assert collapse(iso(value)) == collapse(expected), f"post {got.post_id} {field}"
        return
    assert phpbb.page_kind(response) == "listing"
    listing = phpbb.parse_listing_page(response, spec["url"], dates)
    if spec["kind"] == "index":
        want = spec["forums"] + spec.get("categories", [])
        assert sorted((f.forum_id, f.title, f.url) for f in listing.forums) == sorted(
            (f["forum_id"], f["title"], f["url"]) for f in want)
        assert (listing.forum_id, listing.threads, listing.next_page) == (None, [], None)
        return
    assert (listing.forum_id, listing.title, listing.forum_path, listing.page, listing.next_page) == (
        spec["forum_id"], spec["title"], spec["forum_path"], spec["page"], spec["next_page"])
    assert sorted((f.forum_id, f.title, f.url) for f in listing.forums) == sorted(
        (f["forum_id"], f["title"], f["url"]) for f in spec["subforums"])
    assert [{k: iso(v) for k, v in vars(t).items()} for t in listing.threads] == spec["threads"]


def test_link_forums_are_not_followed():
    """A link forum (``dd.redirect``, no topic counts) only redirects to another site."""
    spec, response, dates = load(FIXTURES / "board33" / "index.json")
    listing = phpbb.parse_listing_page(response, spec["url"], dates)
    assert "7" not in [f.forum_id for f in listing.forums]


def test_topic_row_page_links_are_not_the_forum_next_page():
    """Each multi-page topic row carries its own page links; only the forum's pagination counts."""
    spec, response, dates = load(FIXTURES / "board33" / "viewforum-f2-start4.json")
    assert phpbb.parse_listing_page(response, spec["url"], dates).next_page is None


def test_session_ids_never_reach_stored_urls():
    for spec_path in SPECS:
        spec, response, dates = load(spec_path)
        if spec["kind"] != "thread":
            continue
        page = phpbb.parse_thread_page(response, spec["url"], dates)
        urls = [page.next_page or "", page.canonical_url or ""]
        for post in page.posts:
            urls += [post.url] + post.images + post.links
        assert not [u for u in urls if "sid=" in u], spec_path.name


def test_post_body_html_is_the_content_div():
    spec, response, dates = load(FIXTURES / "board33" / "viewtopic-t10.json")
    first = phpbb.parse_thread_page(response, spec["url"], dates).posts[0]
    assert first.body_html.startswith('<div class="content">') and "na8-turbo-bay.jpg" in first.body_html


@pytest.mark.parametrize("url, canonical", [
    ("https://f.example/forum/viewtopic.php?f=2&t=10&sid=0123abcd&start=0#p101", "https://f.example/forum/viewtopic.php?t=10"),
    ("https://f.example/forum/viewtopic.php?f=2&t=10&start=25", "https://f.example/forum/viewtopic.php?t=10&start=25"),
    ("https://f.example/forum/viewtopic.php?p=108&sid=0123abcd#p108", "https://f.example/forum/viewtopic.php?p=108"),
    ("https://f.example/forum/viewforum.php?f=2&sid=0123abcd&start=4", "https://f.example/forum/viewforum.php?f=2&start=4"),
    ("https://f.example/forum/viewtopic.php?t=10&hilit=restrictor", "https://f.example/forum/viewtopic.php?t=10"),
])
def test_canonical_url(url, canonical):
    assert phpbb.canonical_url(url) == canonical


@pytest.mark.parametrize("footer, offset", [
    ("All times are UTC - 5 hours [ <abbr title='Daylight Saving Time'>DST</abbr> ]", timedelta(hours=-4)),
    ("All times are UTC - 5 hours", timedelta(hours=-5)),
    ("All times are UTC + 5:30 hours", timedelta(hours=5, minutes=30)),
    ("All times are UTC [ DST ]", timedelta(hours=1)),
    ("All times are <span title='UTC-7'>UTC-07:00</span>", timedelta(hours=-7)),
    ("All times are <span title='UTC'>UTC</span>", timedelta(0)),
])
def test_footer_offsets(footer, offset):
    sel = Selector(text=f"<html><body><ul><li><a href='#'>The team</a> &bull; {footer}</li></ul></body></html>")
    tz = phpbb.timezone_from_footer(sel)
    assert tz.utcoffset(datetime(2024, 1, 15)) == offset


def test_footer_zone_name_keeps_dst_rules():
    sel = Selector(text="<html><body><p>All times are <span title='America/New York'>UTC-04:00</span></p></body></html>")
    tz = phpbb.timezone_from_footer(sel)
    assert tz == ZoneInfo("America/New_York")
    assert tz.utcoffset(datetime(2024, 1, 15)) == timedelta(hours=-5)


def test_less_than_a_minute_ago():
    now = datetime(2024, 3, 11, 13, 30, tzinfo=timezone.utc)
    html = ("<html><body id='phpbb'><div id='p5' class='post bg1'><div class='postbody'>"
            "<p class='author'>by <strong><a href='./memberlist.php?mode=viewprofile&amp;u=2'>a</a></strong>"
            " &raquo; Less than a minute ago</p><div class='content'>hi</div></div></div></body></html>")
    page = phpbb.parse_thread_page(Selector(text=html), "https://f.example/viewtopic.php?t=1", DateResolver(now=now))
    assert page.posts[0].posted_at == now


def test_unrecognised_pages():
    assert phpbb.page_kind(Selector(text="<html><body><h1>Down for maintenance</h1></body></html>")) is None
    empty_forum = "<html><body id='phpbb' class='nojs notouch section-viewforum ltr'><h2 class='forum-title'>x</h2></body></html>"
    assert phpbb.page_kind(Selector(text=empty_forum)) == "listing"


def test_page_from_a_mirror_yields_the_forums_own_urls():
    """Served from 127.0.0.1, a 3.3 page still resolves its relative links on the host its canonical
    link names, so stored URLs and content hashes do not depend on where it was fetched from."""
    spec, _, dates = load(FIXTURES / "board33" / "viewtopic-t10.json")
    mirror = "http://127.0.0.1:8123/forum/viewtopic.php?t=10"
    response = HtmlResponse(url=mirror, body=(FIXTURES / "board33" / "viewtopic-t10.html").read_bytes())
    page = phpbb.parse_thread_page(response, mirror, dates)
    assert page.next_page == spec["next_page"]
    assert [p.url for p in page.posts] == [p["url"] for p in spec["posts"]]
    assert page.posts[0].images == spec["posts"][0]["images"]
