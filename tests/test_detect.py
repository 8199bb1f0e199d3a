"""Forum-software detection on real pages (../shared/reference-html, read-only), on every fixture page
we hold, on the synthetic IB forum, and on pages that must not be mistaken for a forum engine."""

import json
from pathlib import Path

import pytest
from parsel import Selector
from scrapy.http import HtmlResponse, TextResponse

from miata_spiders.engines import ENGINES
from miata_spiders.engines.detect import Detection, detect, detect_engine

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT.parent / "shared" / "reference-html"
FIXTURES = ROOT / "fixtures"
# The reference pages live beside the repository, not in it: on a fresh clone these tests skip.
if (REFERENCE / "pages.json").is_file():
    PAGES = json.loads((REFERENCE / "pages.json").read_text())
    REFERENCE_NAMES = sorted(PAGES)
else:
    PAGES = {}
    REFERENCE_NAMES = [pytest.param("absent", marks=pytest.mark.skip(reason=f"{REFERENCE} is absent (pages saved "
                                                                           "from real forums, kept beside the repo)"))]

# pages.json engine name -> (engine, version family)
EXPECTED = {
    "ib-vbulletin": ("ib-vbulletin", "3"),
    "vbulletin3": ("vbulletin", "3"),
    "vbulletin4": ("vbulletin", "4"),
    "xenforo1": ("xenforo", "1"),
    "xenforo2": ("xenforo", "2"),
    "phpbb3": ("phpbb", "3.0"),
    "discourse": ("discourse", "2"),
    # recognised and named, not parsed
    "vbulletin5": ("vbulletin5", "5"),
    "nodebb": ("nodebb", None),
    "forumotion": ("forumotion", None),
}
# fixture site -> (engine, version family); sites not written yet are skipped
FIXTURE_ENGINES = {
    "miataturbo": ("ib-vbulletin", "3"),
    "mx5nutz": ("xenforo", "2"),
    "phpbb/board33": ("phpbb", "3.2+"),
    "phpbb/board30": ("phpbb", "3.0"),
}
FIXTURE_PAGES = sorted(
    (site, page) for site in FIXTURE_ENGINES for page in (FIXTURES / site).glob("*.html") if (FIXTURES / site).is_dir()
)


@pytest.mark.parametrize("name", REFERENCE_NAMES)
def test_reference_pages(name):
    page = PAGES[name]
    body = (REFERENCE / name).read_bytes()
    response = HtmlResponse(url=page["url"], body=body)
    found = detect(response)
    assert (found.engine, found.family) == EXPECTED[page["engine"]], found.evidence
    assert found.evidence
    # Pages of software we do not parse are named as such, never passed to a parser.
    if page.get("expect") == "unsupported":
        assert not found.supported
        assert found.describe().startswith(f"unsupported forum software: {found.engine} (seen: ")
    else:
        assert found.supported
    # The same answer from a selector and from raw bytes.
    assert detect_engine(response.selector) == detect_engine(body) == found.engine


def test_discourse_topic_json():
    if not REFERENCE.is_dir():
        pytest.skip(f"{REFERENCE} is absent")
    body = (REFERENCE / "discourse" / "try-discourse-t-57.json").read_bytes()
    assert detect(body) == Detection("discourse", "json", ("JSON topic with a post_stream object",))
    response = TextResponse(url="https://try.discourse.org/t/57.json", body=body, encoding="utf-8")
    assert detect_engine(response) == "discourse"
    assert detect_engine(body.decode("utf-8")) == "discourse"
    assert "discourse" in ENGINES  # parsed: engines/discourse.py


def test_discourse_html_generator():
    html = ('<html><head><meta name="generator" content="Discourse 3.3.0 - https://github.com/discourse/discourse version abc">'
            '<meta name="discourse_theme_id" content="2"></head><body><noscript data-path="/t/x/1"></noscript></body></html>')
    assert detect(html).engine == "discourse" and detect(html).family == "3"


@pytest.mark.parametrize("site, page", FIXTURE_PAGES, ids=[f"{s}/{p.name}" for s, p in FIXTURE_PAGES])
def test_fixture_pages(site, page):
    found = detect(page.read_bytes())
    assert (found.engine, found.family) == FIXTURE_ENGINES[site], found.evidence


def test_every_detected_fixture_engine_has_a_parser():
    for engine, _ in FIXTURE_ENGINES.values():
        assert engine in ENGINES


def test_synthetic_ib_forum():
    from miata_spiders.testing.forumgen import ForumShape, SyntheticForum
    from miata_spiders.testing.render_ib import IBForumSite

    status, body, _ = IBForumSite(SyntheticForum(ForumShape())).respond("/")
    assert status == 200 and detect_engine(body) == "ib-vbulletin"


@pytest.mark.parametrize("html, engine", [
    # vBulletin 5 is recognised but has no parser.
    ('<html><head><meta name="generator" content="vBulletin 5.6.9"></head><body></body></html>', "vbulletin5"),
    # A vBulletin 3 page whose admin removed the generator tag.
    ('<html><head><script src="clientscript/vbulletin_global.js?v=387"></script></head><body>'
     '<div id="post_message_12">hi</div></body></html>', "vbulletin"),
    # phpBB 2: profile.php links and the phpBB Group footer.
    ('<html><body><a href="profile.php?mode=viewprofile&amp;u=2">admin</a>'
     '<span class="copyright">Powered by <a href="http://www.phpbb.com/">phpBB</a> &copy; 2001, 2005 phpBB Group</span></body></html>',
     "phpbb2"),
    # phpBB 3 subsilver2 (no body#phpbb, table layout) without its footer credit: ucp.php and b.postauthor.
    ('<html><body class="ltr"><a href="./ucp.php?mode=login&amp;sid=1">Login</a><table class="tablebg">'
     '<tr class="row1"><td><a name="p3301"></a><b class="postauthor">Kenji</b></td>'
     '<td><div class="postbody">Shim it.</div></td></tr></table></body></html>', "phpbb"),
    # XenForo 2 without the html id (a stripped template) still has its data-xf-init widgets.
    ('<html><body><div data-xf-init="lightbox">x</div></body></html>', "xenforo"),
])
def test_other_generations(html, engine):
    assert detect_engine(html) == engine


@pytest.mark.parametrize("html", [
    "<html><head><title>Down for maintenance</title></head><body><h1>Back soon</h1></body></html>",
    # A post on some other software that merely talks about, and links to, phpBB and vBulletin.
    '<html><body><div class="post">We moved off vBulletin 3.8 to <a href="https://www.phpbb.com/">phpBB</a>.</div></body></html>',
    "",
    b"\x00\x01 not a page",
    '{"error": "not found"}',
])
def test_pages_that_are_no_known_forum(html):
    assert detect(html) == Detection(None)


def test_page_text_never_decides():
    """A phpBB page whose posts quote vBulletin and XenForo by name is a phpBB page."""
    body = (FIXTURES / "phpbb" / "board33" / "viewtopic-t12.html").read_text(encoding="utf-8")
    body = body.replace("Swapping to a Koyo", "vBulletin_init() <code>html id=XenForo</code> Swapping to a Koyo")
    assert detect_engine(Selector(text=body)) == "phpbb"
