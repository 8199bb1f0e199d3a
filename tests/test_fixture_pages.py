"""Every saved fixture page parses to exactly what its expectation file (written from the page) says."""

import json
from datetime import datetime
from pathlib import Path

import pytest
from scrapy.http import HtmlResponse

from miata_spiders.cli import spider_class
from miata_spiders.dates import DateResolver

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
PAGES = sorted(
    (site.name, page)
    for site in FIXTURES.iterdir() if (site / "site.json").exists()
    for page in site.glob("*.json") if page.name != "site.json"
)
POST_FIELDS = ("post_id", "position", "author", "author_id", "posted_at", "edited_at", "edited_by", "is_deleted",
               "body_text", "quotes", "images", "links", "signature", "url")


def load(site: str, spec_path: Path):
    spec = json.loads(spec_path.read_text())
    manifest = json.loads((spec_path.parent / "site.json").read_text())
    html = spec_path.with_suffix(".html").read_bytes()
    response = HtmlResponse(url=spec["url"], body=html, headers={"Content-Type": manifest.get("content_type", "text/html")})
    cls = spider_class(site)
    dates = DateResolver(tz=cls.timezone, now=datetime.fromisoformat(spec["now"]), date_order=cls.date_order)
    return spec, response, cls().parser, dates


def iso(value):
    return value.isoformat() if isinstance(value, datetime) else value


def collapse(text):
    return " ".join(text.split()) if isinstance(text, str) else text


@pytest.mark.parametrize("site, spec_path", PAGES, ids=[f"{s}/{p.stem}" for s, p in PAGES])
def test_fixture_page_matches_its_expectations(site, spec_path):
    spec, response, engine, dates = load(site, spec_path)
    if spec["kind"] == "thread":
        assert engine.page_kind(response) == "thread"
        page = engine.parse_thread_page(response, spec["url"], dates)
        assert (page.thread_id, page.title, page.forum_id, page.forum_path, page.page, page.next_page) == (
            spec["thread_id"], spec["title"], spec["forum_id"], spec["forum_path"], spec["page"], spec["next_page"])
        assert [p.post_id for p in page.posts] == [p["post_id"] for p in spec["posts"]]
        for got, want in zip(page.posts, spec["posts"]):
            for field in POST_FIELDS:
                value = getattr(got, field)
                if field == "quotes":
                    value = [{**q, "text": collapse(q["text"])} for q in value]
                    want = {**want, "quotes": [{**q, "text": collapse(q["text"])} for q in want["quotes"]]}
                assert collapse(iso(value)) == collapse(want[field]), f"post {got.post_id} {field}"
    else:
        assert engine.page_kind(response) == "listing"
        listing = engine.parse_listing_page(response, spec["url"], dates)
        if spec["kind"] == "index":
            want_forums = spec["forums"] + spec.get("categories", [])
            assert sorted((f.forum_id, f.title, f.url) for f in listing.forums) == sorted(
                (f["forum_id"], f["title"], f["url"]) for f in want_forums)
            assert listing.threads == []
            return
        assert (listing.forum_id, listing.title, listing.forum_path, listing.next_page) == (
            spec["forum_id"], spec["title"], spec["forum_path"], spec["next_page"])
        assert sorted((f.forum_id, f.title, f.url) for f in listing.forums) == sorted(
            (f["forum_id"], f["title"], f["url"]) for f in spec["subforums"])
        got = [{k: iso(v) for k, v in vars(t).items()} for t in listing.threads]
        want = [{k: t[k] for k in got[0]} for t in spec["threads"]] if got else spec["threads"]
        assert got == want
