"""URLs of classic vBulletin 3.8 (forum.miata.net/vb/) and vBulletin 4 (clubroadster.net/vb_forum/):
session ids never survive, the archive is the thread it shows, ids come out of every URL form, and a
real vBulletin 4 page parses to its own identity."""

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
from scrapy.http import HtmlResponse

from miata_spiders.dates import DateResolver
from miata_spiders.engines import vbulletin
from miata_spiders.spiders.clubroadster import ClubroadsterSpider
from miata_spiders.spiders.miatanet import MiatanetSpider

VB = "https://forum.miata.net/vb/"
VB4 = "https://www.clubroadster.net/vb_forum/"
SESSION = "0123456789abcdef0123456789abcdef"
REFERENCE = Path(__file__).resolve().parents[1].parent / "shared" / "reference-html"


@pytest.mark.parametrize("url, canonical", [
    # vBulletin 3 prints $session[sessionurl] first ("?s=...&amp;t=5"); some templates put it last.
    (f"{VB}showthread.php?s={SESSION}&t=5", f"{VB}showthread.php?t=5"),
    (f"{VB}showthread.php?t=5&s={SESSION}&page=2", f"{VB}showthread.php?t=5&page=2"),
    (f"{VB}forumdisplay.php?s=&f=12", f"{VB}forumdisplay.php?f=12"),  # empty session id
    # "&amp;" left in a URL taken from page source or escaped twice
    (f"{VB}showthread.php?t=5&amp;s={SESSION}&amp;page=3", f"{VB}showthread.php?t=5&page=3"),
    (f"{VB}forumdisplay.php?f=12&amp;amp;s=abc&order=desc&page=2#top", f"{VB}forumdisplay.php?f=12&order=desc&page=2"),
    (f"{VB}index.php?s={SESSION}", f"{VB}index.php"),
    # the low-fi archive shows a thread (or forum) already crawled through showthread.php
    (f"{VB}archive/index.php/t-690663.html", f"{VB}showthread.php?t=690663"),
    (f"{VB}archive/index.php/t-690663-p-4.html", f"{VB}showthread.php?t=690663"),
    (f"{VB}archive/index.php/f-151.html", f"{VB}forumdisplay.php?f=151"),
    # vBulletin 4 friendly URLs: a query key without a value stays exactly as written
    (f"{VB4}showthread.php?91833-Rough-idle&s={SESSION}", f"{VB4}showthread.php?91833-Rough-idle"),
    (f"{VB4}showthread.php/91833-Rough-idle/page2?s={SESSION}", f"{VB4}showthread.php/91833-Rough-idle/page2"),
    (f"{VB4}forumdisplay.php/7-NA-NB-Tech?s={SESSION}", f"{VB4}forumdisplay.php/7-NA-NB-Tech"),
])
def test_canonical_url_drops_session_ids_and_maps_the_archive(url, canonical):
    assert vbulletin.canonical_url(url) == canonical


@pytest.mark.parametrize("url, thread_id, forum_id", [
    (f"{VB}showthread.php?s={SESSION}&t=781500&page=3", "781500", None),
    (f"{VB}forumdisplay.php?s={SESSION}&f=44", None, "44"),
    (f"{VB}archive/index.php/t-702001.html", "702001", None),
    (f"{VB}archive/index.php/f-12-p-2.html", None, "12"),
    (f"{VB}showthread.php?p=15501019#post15501019", None, None),  # a post link names no thread
    (f"{VB}showpost.php?p=15501019&postcount=2", None, None),
    (f"{VB4}showthread.php/91833-Rough-idle/page2", "91833", None),
    (f"{VB4}showthread.php?91833-Rough-idle/page2", "91833", None),
    (f"{VB4}showthread.php?t=91833", "91833", None),
    (f"{VB4}forumdisplay.php/21-Suspension-Brakes/page3", None, "21"),
    (f"{VB4}forumdisplay.php?21-Suspension-Brakes", None, "21"),
    ("https://www.miataturbo.net/engine-performance-56/bp-4w-97412/page2/", "97412", None),
    ("https://www.miataturbo.net/engine-performance-56/", None, "56"),
])
def test_thread_and_forum_ids_come_out_of_every_url_form(url, thread_id, forum_id):
    assert (vbulletin.thread_id_from_url(url), vbulletin.forum_id_from_url(url)) == (thread_id, forum_id)


@pytest.mark.parametrize("href, member_id", [
    (f"member.php?s={SESSION}&u=183377", "183377"),
    ("member.php?u=5", "5"),
    ("member.php/1201-roadster-ray", "1201"),
    (f"member.php?1201-roadster-ray&s={SESSION}", "1201"),
])
def test_member_ids(href, member_id):
    assert vbulletin.member_id_from_url(href) == member_id


@pytest.mark.parametrize("spider_cls, url, crawled", [
    (MiatanetSpider, f"{VB}showthread.php?s={SESSION}&t=5", "http://127.0.0.1:8123/vb/showthread.php?t=5"),
    (ClubroadsterSpider, f"{VB4}showthread.php/9-x/page2?s={SESSION}", "http://127.0.0.1:8123/vb_forum/showthread.php/9-x/page2"),
])
def test_the_spider_never_requests_a_session_id(spider_cls, url, crawled):
    assert spider_cls(base_url="http://127.0.0.1:8123/").rebase(url) == crawled


def test_urls_printed_in_posts_lose_session_ids_but_keep_their_fragment():
    page = f"""<html><head><meta name="generator" content="vBulletin 3.8.11" /></head><body>
    <table id="post7" class="tborder"><tr><td class="thead"><!-- status icon and date -->01-02-2024, 10:00 AM
    <!-- / status icon and date --></td><td class="thead">#<a href="showpost.php?s={SESSION}&amp;p=7&amp;postcount=1"
    id="postcount7" name="1"><strong>1</strong></a></td></tr><tr><td class="alt2"><div id="postmenu_7">
    <a class="bigusername" href="member.php?s={SESSION}&amp;u=3">ann</a></div></td><td class="alt1" id="td_post_7">
    <div id="post_message_7"><a href="showthread.php?s={SESSION}&amp;t=9#post_x" target="_blank">here</a>
    <a href="https://forum.miata.net/vb/showthread.php?s={SESSION}&amp;t=8" target="_blank">there</a>
    <a href="https://example.org/find?s=shock+mounts" target="_blank">search</a>
    <img src="attachment.php?attachmentid=4&amp;s={SESSION}" border="0" alt="" /></div></td></tr></table>
    <a href="printthread.php?t=9">Print</a></body></html>"""
    url = "http://127.0.0.1:8123/vb/showthread.php?t=9"
    thread = vbulletin.parse_thread_page(HtmlResponse(url=url, body=page.encode()), url,
                                         DateResolver(tz="America/Los_Angeles", now=datetime(2024, 1, 3, tzinfo=timezone.utc)))
    post = thread.posts[0]
    assert post.url == "http://127.0.0.1:8123/vb/showpost.php?p=7&postcount=1"
    assert post.links == ["http://127.0.0.1:8123/vb/showthread.php?t=9#post_x",
                          "https://forum.miata.net/vb/showthread.php?t=8",
                          "https://example.org/find?s=shock+mounts"]  # another site's own "s" is its business
    assert post.images == ["http://127.0.0.1:8123/vb/attachment.php?attachmentid=4"]
    assert (post.author, post.author_id) == ("ann", "3")


def test_real_vbulletin4_thread_page_identity():
    if not (REFERENCE / "pages.json").is_file():
        pytest.skip(f"real reference pages not available: {REFERENCE} is absent (it sits beside the project in CI)")
    page = json.loads((REFERENCE / "pages.json").read_text())["vbulletin4/militarytimes-showthread-9687-page1.html"]
    body = (REFERENCE / "vbulletin4" / "militarytimes-showthread-9687-page1.html").read_bytes()
    thread = vbulletin.parse_thread_page(HtmlResponse(url=page["url"], body=body), page["url"],
                                         DateResolver(now=datetime(2026, 1, 1, tzinfo=timezone.utc)))
    assert (thread.thread_id, thread.forum_id, thread.page, thread.page_count) == ("9687", "380", 1, 2)
    assert thread.title == "Legendary military columnist, author Bob Dorr dies at 76"
    assert thread.forum_path == ["Military Service", "Air Force"]  # "Forum" (forum.php) is no forum
    assert thread.next_page == page["url"] + "/page2"
    assert thread.canonical_url == page["url"]
    first = thread.posts[0]
    assert first.url == page["url"] + "?p=365266&viewfull=1#post365266"
    assert (first.position, first.author, first.author_id) == (1, "Rainmaker", "13985")
    assert first.posted_at == datetime(2016, 6, 15, 15, 3, tzinfo=timezone.utc)  # "All times are GMT."
