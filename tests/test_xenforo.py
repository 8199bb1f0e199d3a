"""The XenForo engine on real XenForo 1 and 2 pages (../shared/reference-html, read-only), on markup
variants in small snippets, and through ``miata parse``.

The mx5nutz fixture pages are checked field by field against their expectation files by
tests/test_fixture_pages.py; tests/test_xenforo_crawl.py crawls them end to end.
"""

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from scrapy.http import HtmlResponse

from miata_spiders.cli import main as miata_main
from miata_spiders.dates import DateResolver
from miata_spiders.engines import get_engine, xenforo

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT.parent / "shared" / "reference-html"
PAGES = json.loads((REFERENCE / "pages.json").read_text()) if (REFERENCE / "pages.json").exists() else {}
XENFORO_PAGES = sorted(name for name, page in PAGES.items() if page["engine"] in ("xenforo1", "xenforo2"))
XF1 = "xenforo1/sufficientvelocity-thread-10402-page54.html"
XF2 = "xenforo2/xenforo-com-community-thread-8276.html"
FIXTURES = ROOT / "fixtures" / "mx5nutz"
NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)

needs_reference = pytest.mark.skipif(not XENFORO_PAGES, reason="../shared/reference-html is not here")


def reference(name, dates=None):
    page = PAGES[name]
    response = HtmlResponse(url=page["url"], body=(REFERENCE / name).read_bytes())
    return response, xenforo.parse_thread_page(response, page["url"], dates or DateResolver(now=NOW))


def snippet(html: str, url: str):
    return HtmlResponse(url=url, body=html.encode(), encoding="utf-8")


# --- Real pages ----------------------------------------------------------------------------------

@needs_reference
@pytest.mark.parametrize("name", XENFORO_PAGES)
def test_every_post_has_author_date_position_and_clean_text(name):
    response, thread = reference(name)
    assert xenforo.page_kind(response) == "thread"
    assert len(thread.posts) == PAGES[name]["posts"]
    assert thread.unparsed_dates == 0
    for post in thread.posts:
        assert post.author and post.author_id, post.post_id
        assert post.posted_at is not None and post.posted_at.tzinfo == timezone.utc, post.post_id
        assert post.position is not None, post.post_id
        assert post.body_text and "Click to expand" not in post.body_text, post.post_id
        assert post.url and post.post_id in post.url
        assert not post.is_deleted
    positions = [p.position for p in thread.posts]
    assert positions == sorted(positions) and len(set(positions)) == len(positions)
    assert thread.canonical_url == PAGES[name]["url"]


@needs_reference
def test_xenforo2_thread_identity_and_machine_dates():
    _, thread = reference(XF2)
    assert (thread.thread_id, thread.forum_id, thread.title) == ("8276", "18", "a dark theme option")
    # Breadcrumb: Home > Forums > Public forums (a category anchor) > XenForo suggestions.
    assert thread.forum_path == ["Public forums", "XenForo suggestions"]
    assert (thread.page, thread.page_count, thread.next_page) == (1, None, None)
    first = thread.posts[0]
    assert (first.post_id, first.position, first.author, first.author_id) == ("114210", 1, "dieketzer", "496")
    # datetime="2010-11-21T10:51:58+0000"; a 2016 post says +0100 (BST): both exact to the second.
    assert first.posted_at == datetime(2010, 11, 21, 10, 51, 58, tzinfo=timezone.utc)
    assert thread.posts[5].posted_at == datetime(2016, 8, 21, 6, 9, 15, tzinfo=timezone.utc)
    assert first.url == "https://xenforo.com/community/threads/a-dark-theme-option.8276/post-114210"
    assert first.body_text.startswith("it would be great if by default a dark theme shipped with xenforo.")
    assert "Reactions" not in first.body_text and "Niro" not in first.body_text  # the reactions bar is not the post
    andy = next(p for p in thread.posts if p.author == "AndyB")
    assert andy.links == ["https://xenforo.com/community/resources/default-style-dark.3656/"]


@needs_reference
def test_xenforo1_quotes_signatures_edits_and_smilies():
    _, thread = reference(XF1)
    assert (thread.thread_id, thread.forum_id, thread.title) == ("10402", "29", "Renascence: A Homura Quest")
    assert thread.forum_path == ["Creative Forums", "Quests"]
    assert (thread.page, thread.page_count) == (54, 347)
    assert thread.next_page == "https://forums.sufficientvelocity.com/threads/renascence-a-homura-quest.10402/page-55"
    first = thread.posts[0]
    assert (first.post_id, first.position, first.author, first.author_id) == ("2146286", 1326, "TheBleachDoctor", "4525")
    assert first.url == "https://forums.sufficientvelocity.com/posts/2146286/"
    # "Oct 30, 2014 at 10:48 PM" on a page whose JS clock puts local midnight at 05:00 UTC: UTC-5.
    assert first.posted_at == datetime(2014, 10, 31, 3, 48, tzinfo=timezone.utc)
    assert first.posted_at_text == "Oct 30, 2014 at 10:48 PM"

    crow = next(p for p in thread.posts if p.post_id == "2146297")
    assert [(q["author"], q["post_id"]) for q in crow.quotes] == [("Higure", "2146285"), ("TheBleachDoctor", "2146286")]
    assert crow.quotes[1]["text"] == "Rolling."
    assert crow.body_text.startswith("OOC behavior? which part?\n\nI think thats wrong dok.")
    assert "Okay, I need rolls" not in crow.body_text and "Click to expand" not in crow.body_text
    # The dice add-on's legend is text, its SVG drawing is not.
    assert crow.body_text.endswith("Crow threw 100-faced die for: OOC Behavior\nTotal: 156")
    assert crow.signature.startswith("Quests: Verdant Dreams") and "Verdant Dreams" not in crow.body_text

    edited = next(p for p in thread.posts if p.post_id == "2146541")
    assert (edited.edited_by, edited.edited_at) == ("Higure", datetime(2014, 12, 4, 7, 29, tzinfo=timezone.utc))
    assert all(p.edited_at is None for p in thread.posts if p.post_id != "2146541")
    # "Poor Homu... :(" - the smilie sprite (styles/default/xenforo/clear.png) is not an image.
    poor = next(p for p in thread.posts if p.post_id == "2146356")
    assert (poor.body_text, poor.images) == ("Poor Homu...", [])
    gif = next(p for p in thread.posts if p.post_id == "2146433")
    assert gif.images == ["http://i.minus.com/ibdZ2mE6szS0ct.gif"]


@needs_reference
def test_printed_dates_keep_the_sites_zone_when_it_agrees_with_the_page():
    # The XF1 page was rendered at UTC-5 in July 2017. A site configured as US Central agrees with that,
    # so its zone (which knows DST) reads the December edit date at UTC-6; a zone that disagrees is
    # overruled by the page's own offset.
    _, central = reference(XF1, DateResolver(tz=ZoneInfo("America/Chicago"), now=NOW))
    _, london = reference(XF1, DateResolver(tz=ZoneInfo("Europe/London"), now=NOW))
    edited_central = next(p for p in central.posts if p.post_id == "2146541").edited_at
    edited_london = next(p for p in london.posts if p.post_id == "2146541").edited_at
    assert edited_central == datetime(2014, 12, 4, 8, 29, tzinfo=timezone.utc)
    assert edited_london == datetime(2014, 12, 4, 7, 29, tzinfo=timezone.utc)


# --- URLs and small helpers ------------------------------------------------------------------------

@pytest.mark.parametrize("url, thread_id, forum_id", [
    ("https://www.mx5nutz.com/threads/rust-on-the-sills.101/", "101", None),
    ("https://www.mx5nutz.com/threads/rust-on-the-sills.101/page-3", "101", None),
    ("https://www.mx5nutz.com/threads/v1.6-vs-1.8-engine.2045/post-99", "2045", None),
    ("https://www.mx5nutz.com/threads/101/", "101", None),
    ("https://forum.example/index.php?threads/rust.101/page-2", "101", None),
    ("https://www.mx5nutz.com/forums/general-mx-5-chat.2/page-2", None, "2"),
    ("https://www.mx5nutz.com/members/rustbucket.2042/", None, None),
])
def test_ids_from_friendly_and_plain_urls(url, thread_id, forum_id):
    assert (xenforo.thread_id_from_url(url), xenforo.forum_id_from_url(url)) == (thread_id, forum_id)


def test_canonical_url_drops_fragment_token_and_page_one_but_keeps_plain_routes():
    assert xenforo.canonical_url("https://x.org/threads/a.1/page-1#post-5") == "https://x.org/threads/a.1/"
    assert xenforo.canonical_url("https://x.org/threads/a.1/page-2?_xfToken=1,abc") == "https://x.org/threads/a.1/page-2"
    assert xenforo.canonical_url("https://x.org/index.php?threads/a.1/page-2") == "https://x.org/index.php?threads/a.1/page-2"


@pytest.mark.parametrize("printed, count", [("8", 8), ("1,234", 1234), ("2K", 2000), ("1.2K", 1200), ("3.4M", 3_400_000),
                                            ("\u2013", None), ("", None)])
def test_counts_as_xenforo_prints_them(printed, count):
    assert xenforo._count(printed) == count


def test_engine_is_registered_and_the_mx5nutz_spider_uses_it():
    from miata_spiders.spiders.mx5nutz import Mx5nutzSpider

    assert get_engine("xenforo") is xenforo.ENGINE
    spider = Mx5nutzSpider(base_url="http://127.0.0.1:8123/")
    assert (spider.parser, spider.timezone, spider.date_order) == (xenforo.ENGINE, "Europe/London", "DMY")
    assert spider.rebase("https://www.mx5nutz.com/threads/rust.101/page-1#post-3") == "http://127.0.0.1:8123/threads/rust.101/"


# --- Markup variants -------------------------------------------------------------------------------

XF23_POST = """<!DOCTYPE html><html id="XF" data-template="thread_view" data-content-key="thread-7"><head>
<link rel="canonical" href="https://f.example/threads/seven.7/" /></head><body>
<article class="message message--post js-post" data-author="Ann" data-content="post-70" id="js-post-70">
 <div class="message-userDetails"><h4 class="message-name"><a href="/members/ann.5/" class="username " data-user-id="5">Ann</a></h4></div>
 <header class="message-attribution message-attribution--split">
  <ul class="message-attribution-main listInline "><li class="u-concealed"><a href="/threads/seven.7/post-70">
   <time class="u-dt" dir="auto" data-timestamp="1732530600" data-date="25 Nov 2024" data-time="10:30" data-short="Nov 24">25 Nov 2024</time></a></li></ul>
  <ul class="message-attribution-opposite message-attribution-opposite--list"><li><a href="/threads/seven.7/post-70">#1,024</a></li></ul>
 </header>
 <div class="message-userContent"><article class="message-body js-selectToQuote"><div class="bbWrapper">Hello <img src="https://cdn.example/emoji/1f600.png" class="smilie smilie--emoji" alt="x" /></div></article>
  <section class="message-attachments"><ul class="attachmentList">
   <li class="file file--linked"><a class="file-preview js-lbImage" href="/attachments/a-jpg.9/"><img src="/data/attachments/0/9-h.jpg" alt="a.jpg" /></a></li>
   <li class="file file--linked"><a class="file-preview" href="/attachments/b-zip.10/"><i aria-hidden="true"></i></a></li>
  </ul></section></div>
</article></body></html>"""


def test_xenforo_23_dates_without_datetime_attribute_and_2_2_file_attachments():
    response = snippet(XF23_POST, "https://f.example/threads/seven.7/")
    thread = xenforo.parse_thread_page(response, response.url, DateResolver(now=NOW))
    (post,) = thread.posts
    # data-time is a clock string on 2.3 ("10:30"); only the unix data-timestamp is a date.
    assert post.posted_at == datetime(2024, 11, 25, 10, 30, tzinfo=timezone.utc)
    assert (post.position, post.author_id, post.body_text) == (1024, "5", "Hello")
    assert post.images == ["https://f.example/attachments/a-jpg.9/"]
    assert post.links == ["https://f.example/attachments/b-zip.10/"]


XF1_LISTING = """<!DOCTYPE html><html id="XenForo"><head><base href="https://old.example/" /></head><body>
<div class="titleBar"><h1>Mk1 Tech</h1></div>
<ol class="discussionListItems">
<li id="thread-5" class="discussionListItem visible sticky" data-author="Mod">
 <div class="listBlock main"><div class="titleText"><h3 class="title">
  <a href="threads/read-me.5/" class="PreviewTooltip">Read me</a></h3></div></div>
 <div class="listBlock stats pairsJustified"><dl class="major"><dt>Replies:</dt> <dd>0</dd></dl><dl class="minor"><dt>Views:</dt> <dd>1,502</dd></dl></div>
 <div class="listBlock lastPost"><dl class="lastPostInfo"><dd class="muted"><a class="dateTime">
  <abbr class="DateTime" data-time="1521411528" data-datestring="Mar 18, 2018" data-timestring="5:18 PM">Mar 18, 2018 at 5:18 PM</abbr></a></dd></dl></div>
</li>
<li id="thread-6" class="discussionListItem visible " data-author="Bob">
 <div class="listBlock main"><div class="titleText"><h3 class="title">
  <span class="prefix prefixOrange">Help</span> <a href="threads/clutch.6/" class="PreviewTooltip">Clutch judder</a></h3></div></div>
 <div class="listBlock stats pairsJustified"><dl class="major"><dt>Replies:</dt> <dd>
7
</dd></dl><dl class="minor"><dt>Views:</dt> <dd>20</dd></dl></div>
 <div class="listBlock lastPost"><dl class="lastPostInfo"><dd class="muted"><a class="dateTime">
  <span class="DateTime" title="Mar 1, 2018 at 9:05 AM">Mar 1, 2018</span></a></dd></dl></div>
</li></ol>
<div class="PageNav" data-page="1" data-range="2" data-start="2" data-end="2" data-last="2" data-sentinel="{{sentinel}}" data-baseurl="forums/mk1-tech.4/page-{{sentinel}}"></div>
</body></html>"""


def test_xenforo1_thread_listing():
    response = snippet(XF1_LISTING, "https://old.example/forums/mk1-tech.4/")
    assert xenforo.page_kind(response) == "listing"
    listing = xenforo.parse_listing_page(response, response.url, DateResolver(tz=ZoneInfo("Europe/London"), now=NOW))
    assert (listing.forum_id, listing.title, listing.forum_path) == ("4", "Mk1 Tech", ["Mk1 Tech"])
    sticky, normal = listing.threads
    assert (sticky.thread_id, sticky.title, sticky.url, sticky.sticky) == ("5", "Read me", "https://old.example/threads/read-me.5/", True)
    assert (sticky.view_count, sticky.last_post_at) == (1502, datetime(2018, 3, 18, 22, 18, 48, tzinfo=timezone.utc))
    assert (normal.title, normal.author, normal.reply_count, normal.view_count) == ("Clutch judder", "Bob", 7, 20)
    assert normal.last_post_at == datetime(2018, 3, 1, 9, 5, tzinfo=timezone.utc)  # printed, London winter
    # No Next link in the markup: page 2 is built from the PageNav template URL.
    assert listing.next_page == "https://old.example/forums/mk1-tech.4/page-2"


def test_server_clock_gives_the_page_offset():
    page = snippet("<html id='XF'><body><script>XF.config = {time: {\n now: 1562130994,\n today: 1562108400,\n"
                   " todayDow: 3}};</script></body></html>", "https://x.org/")
    now, offset = xenforo._server_clock(page)
    assert (now, offset) == (datetime(2019, 7, 3, 5, 16, 34, tzinfo=timezone.utc), timedelta(hours=1))


@pytest.mark.parametrize("html", [
    b"<html><head><title>Down for maintenance</title></head><body><h1>Back soon</h1></body></html>",
    b"<html id='XF' data-template='error'><body><div class='blockMessage'>Oops! We ran into some problems.</div></body></html>",
])
def test_pages_that_are_not_forum_pages_are_not_recognised(html):
    assert xenforo.page_kind(HtmlResponse(url="https://www.mx5nutz.com/", body=html)) is None


# --- miata parse -----------------------------------------------------------------------------------

def test_miata_parse_reads_a_saved_mx5nutz_page(capsys):
    spec = json.loads((FIXTURES / "thread-101-page2.json").read_text())
    status = miata_main(["parse", "--site", "mx5nutz", "--url", spec["url"], "--now", spec["now"],
                         str(FIXTURES / "thread-101-page2.html")])
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert status == 0
    posts = [r for r in records if r["kind"] == "post"]
    assert [p["post_id"] for p in posts] == [p["post_id"] for p in spec["posts"]]
    assert all(p["site"] == "mx5nutz" and p["thread_id"] == "101" and p["page"] == 2 for p in posts)
    assert records[-1] == {"kind": "next_page", "url": spec["next_page"]}


# --- The fixture forum is coherent ------------------------------------------------------------------

def test_fixture_manifest_serves_every_page_and_counts_every_post():
    manifest = json.loads((FIXTURES / "site.json").read_text())
    pages = {path: name for path, name in manifest["pages"].items() if name.endswith(".html")}
    assert sorted(pages.values()) == sorted(p.name for p in FIXTURES.glob("*.html"))
    specs = [json.loads((FIXTURES / name).with_suffix(".json").read_text()) for name in pages.values()]
    assert all(spec["url"] == manifest["base_url"] + path for path, spec in zip(pages, specs))
    posts = [p for spec in specs if spec["kind"] == "thread" for p in spec["posts"]]
    assert sorted(p["post_id"] for p in posts) == sorted(manifest["expected_post_ids"])
    assert sorted(p["post_id"] for p in posts if p["is_deleted"]) == manifest["deleted_post_ids"]
    assert sorted({spec["thread_id"] for spec in specs if spec["kind"] == "thread"}) == sorted(manifest["expected_thread_ids"])
    # Every page is reachable from the index through the links the expectations list.
    linked = {manifest["base_url"] + "/"}
    for spec in specs:
        linked |= {f["url"] for f in spec.get("forums", []) + spec.get("subforums", [])}
        linked |= {t["url"] for t in spec.get("threads", []) if not t["moved"]}
        linked |= {spec["next_page"]} if spec.get("next_page") else set()
    assert {spec["url"] for spec in specs} == linked
    for stub, target in manifest["redirects"].items():
        assert stub not in manifest["pages"] and target in manifest["pages"]
