"""Every saved fixture page parses to exactly what its expectation file (written from the page) says."""

import json
from datetime import datetime
from pathlib import Path

import pytest
from scrapy.http import HtmlResponse

from miata_spiders.cli import spider_class
from miata_spiders.dates import DateResolver

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
# A fixture site's manifest; its "spider" key names the spider that crawls it (else the directory does:
# the phpBB boards under fixtures/phpbb/ are crawled by the generic "forum" spider).
MANIFESTS = ("site.json",)
PAGES = sorted(
    (manifest, page)
    for manifest in FIXTURES.rglob("*.json") if manifest.name in MANIFESTS
    for page in manifest.parent.glob("*.json") if page.name not in MANIFESTS
)
POST_FIELDS = ("post_id", "position", "author", "author_id", "posted_at", "edited_at", "edited_by", "is_deleted",
               "body_text", "quotes", "images", "links", "signature", "url")


def load(manifest_path: Path, spec_path: Path):
    spec = json.loads(spec_path.read_text())
    manifest = json.loads(manifest_path.read_text())
    html = spec_path.with_suffix(".html").read_bytes()
    response = HtmlResponse(url=spec["url"], body=html, headers={"Content-Type": manifest.get("content_type", "text/html")})
    name = manifest.get("spider", manifest_path.parent.name)
    # The generic spider is built as `scrapy crawl forum -a url=...` builds it, and detects the engine.
    spider = spider_class(name)(url=spec["url"]) if name == "forum" else spider_class(name)()
    engine = spider.parser or spider.engine_for(response)
    dates = DateResolver(tz=spider.timezone, now=datetime.fromisoformat(spec["now"]), date_order=spider.date_order)
    return spec, response, engine, dates


def iso(value):
    return value.isoformat() if isinstance(value, datetime) else value


def collapse(text):
    return " ".join(text.split()) if isinstance(text, str) else text


@pytest.mark.parametrize("manifest, spec_path", PAGES,
                         ids=[str(p.relative_to(FIXTURES).with_suffix("")) for _, p in PAGES])
def test_fixture_page_matches_its_expectations(manifest, spec_path):
    spec, response, engine, dates = load(manifest, spec_path)
    assert engine is not None, "no engine recognised the page"
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
