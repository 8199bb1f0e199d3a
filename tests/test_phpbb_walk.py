"""The phpBB 3.3 fixture board walked the way the forum spider routes (index -> forums -> every listing
page -> every topic page), with only the engine's functions: every expected post is reached, once, and
no request carries a session id (so the same page is never fetched twice under two URLs)."""

import json
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

from scrapy.http import HtmlResponse

from miata_spiders.dates import DateResolver
from miata_spiders.engines import phpbb

BOARD = Path(__file__).resolve().parents[1] / "fixtures" / "phpbb" / "board33"


def walk(board: Path):
    manifest = json.loads((board / "site.json").read_text(encoding="utf-8"))
    dates = DateResolver(tz=manifest["timezone"], now=datetime.fromisoformat(manifest["now"]))
    queue = [(phpbb.canonical_url(manifest["base_url"] + "/forum/"), "listing")]
    seen, missing, posts, listed = set(), [], [], []
    while queue:
        url, expected = queue.pop(0)
        if url in seen:
            continue
        seen.add(url)
        parts = urlsplit(url)
        name = manifest["pages"].get(parts.path + (f"?{parts.query}" if parts.query else ""))
        if name is None:
            missing.append(url)  # a page the fixture board does not hold (other forums, other topics)
            continue
        response = HtmlResponse(url=url, body=(board / name).read_bytes(), headers={"Content-Type": manifest["content_type"]})
        kind = phpbb.page_kind(response)
        if kind == "thread":
            page = phpbb.parse_thread_page(response, url, dates)
            posts += [(page.thread_id, p.post_id) for p in page.posts]
            if page.next_page:
                queue.append((phpbb.canonical_url(page.next_page), "thread"))
            continue
        assert kind == "listing" and expected == "listing", url
        listing = phpbb.parse_listing_page(response, url, dates)
        queue += [(phpbb.canonical_url(f.url), "listing") for f in listing.forums]
        for thread in listing.threads:
            listed.append(thread.thread_id)
            queue.append((phpbb.canonical_url(thread.url), "thread"))
        if listing.next_page:
            queue.append((phpbb.canonical_url(listing.next_page), "listing"))
    return manifest, seen, missing, posts, listed


def test_walk_reaches_every_expected_post_once():
    manifest, seen, missing, posts, _ = walk(BOARD)
    post_ids = [post_id for _, post_id in posts]
    assert sorted(post_ids) == sorted(manifest["expected_post_ids"])
    assert len(post_ids) == len(set(post_ids))
    assert sorted({thread_id for thread_id, _ in posts}) == sorted(manifest["expected_thread_ids"])
    # Every page the board holds was requested, under exactly one URL.
    reached = {urlsplit(u).path + (f"?{urlsplit(u).query}" if urlsplit(u).query else "") for u in seen}
    assert set(manifest["pages"]) - {"/forum/index.php"} <= reached
    assert not [u for u in seen if "sid=" in u]


def test_announcements_are_on_every_listing_page():
    _, _, _, _, listed = walk(BOARD)
    # phpBB shows announcements on every page of a forum; the walk requests each topic once all the same.
    assert listed.count("20") == 2 and listed.count("21") == 2
