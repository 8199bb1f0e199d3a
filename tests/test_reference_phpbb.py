"""The phpBB engine on the real phpBB page saved from a live forum (../shared/reference-html, read-only):
every post checked against values read off the raw HTML by hand. Skips, with the reason, when the
folder is absent (a user's fresh clone)."""

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
from scrapy.http import HtmlResponse

from miata_spiders.dates import DateResolver
from miata_spiders.engines import phpbb
from tests.support.reference import REFERENCE, needs_reference

ILP = "phpbb3/ilovephilosophy-viewtopic-194998-page2.html"
NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)

pytestmark = needs_reference


@pytest.fixture(scope="module")
def reference() -> Path:
    return REFERENCE


@pytest.fixture(scope="module")
def pages(reference) -> dict:
    return json.loads((reference / "pages.json").read_text())


def parse(reference, pages, name, url=None):
    url = url or pages[name]["url"]
    response = HtmlResponse(url=url, body=(reference / name).read_bytes())
    return phpbb.parse_thread_page(response, url, DateResolver(now=NOW))


def utc(month, day, hour, minute):
    return datetime(2019, month, day, hour, minute, tzinfo=timezone.utc)


# ilovephilosophy.com, phpBB 3.0 prosilver-based ("leftsilver"), topic 194998 page 2 (start=25).
# Dates are printed "Sun May 26, 2019 4:34 pm" on a page whose footer says "All times are UTC [ DST ]":
# phpBB 3.0 adds the DST hour all year, so UTC is one hour behind the printed time.
# Quotes: (author or None for blockquote.uncited, quoted post id: 3.0 prints none), in document order.
# (post id, author, author id, UTC date, (edited by, edited at) or None, quotes, images, own words,
#  quoted words that must not be in the body text)
ILP_POSTS = [
    ("2729870", "Jakob", "5996", utc(5, 26, 15, 34), None, [], [],
     "Believe me I know the clown part", None),
    ("2729871", "promethean75", "43701", utc(5, 26, 15, 43), None, [], [],
     "https://vocaroo.com/i/s0WJlPuchytm", None),
    ("2729874", "Urwrongx1000", "42956", utc(5, 26, 16, 25), None, [], [],
     "I don't know if you've read this thread but you should", None),
    ("2729875", "Jakob", "5996", utc(5, 26, 16, 28), None, [None], [],
     "Well I think we can get a long way in designing such a morality", "https://vocaroo.com/i/s0WJlPuchytm"),
    ("2729876", "Jakob", "5996", utc(5, 26, 16, 32), None, ["Urwrongx1000"], [],
     "But then if non living things are excluded", "I don't know if you've read this thread"),
    ("2729877", "Jakob", "5996", utc(5, 26, 16, 33), ("Jakob", utc(5, 26, 16, 35)), [], [],
     "On the \"great criminal\" from Nietzsche", None),
    ("2729878", "Urwrongx1000", "42956", utc(5, 26, 16, 34), None, [], [],
     "Silhouette and I argued on this point", None),
    ("2729880", "Jakob", "5996", utc(5, 26, 16, 39), ("Jakob", utc(5, 26, 16, 42)), [None], [],
     "Yeah this is my ontological position as well", "a backward-looking justification for events"),
    ("2729881", "Urwrongx1000", "42956", utc(5, 26, 16, 42), None, ["Jakob"], [],
     "It could very well be a matter of description", "do the examples of fire, water and rocks"),
    ("2729884", "Jakob", "5996", utc(5, 26, 16, 48), None, [], [],
     "So what does a truly free man (also for woman) do with his freedom?", None),
    ("2729885", "Jakob", "5996", utc(5, 26, 16, 55), None, [], [],
     "running definition of insanity", None),
    ("2729886", "Jakob", "5996", utc(5, 26, 17, 0), None, [], [],
     "always nonsensicalizes the ruling order", None),
    ("2729887", "Jakob", "5996", utc(5, 26, 17, 3), None, [], [],
     "Someone still needs to surpass The Shawshank Redemption.", None),
    ("2729888", "Jakob", "5996", utc(5, 26, 17, 4), None, [], [],
     "Deterministic philosophy is like Wing Chun", None),
    ("2729891", "Artimas", "41855", utc(5, 26, 17, 38), None, ["Jakob"], [],
     "This is precisely what it is, determinism determines itself free.", "Deterministic philosophy is like Wing Chun"),
    # Only a quote and four GIFs (two of them twice): no words of its own, legitimately.
    ("2729894", "Jakob", "5996", utc(5, 26, 18, 23), None, [None],
     ["https://i.makeagif.com/media/12-16-2015/npz5Cb.gif", "https://i.gifer.com/PNzq.gif"],
     "", "determinism determines itself free."),
    # Quotes the post above, GIFs and all: the GIFs are inside the quote, so not this post's images.
    ("2729897", "Artimas", "41855", utc(5, 26, 18, 42), None, ["Jakob", None], [],
     "LOL, the red coats with cars", "determinism determines itself free."),
    ("2729898", "Jakob", "5996", utc(5, 26, 18, 57), None, [], [],
     "I believe freedom needs to be guaranteed by numbers.", None),
    ("2729899", "Artimas", "41855", utc(5, 26, 19, 2), None, ["Jakob"], [],
     "I am with you, I advocate organization as well.", "I believe freedom needs to be guaranteed by numbers."),
    ("2730367", "Silhouette", "520", utc(5, 31, 18, 29), None, ["promethean75", "Silhouette", "Silhouette"], [],
     "In spite of your best (and laudible!) efforts", "The people insisting it exists are simply defining"),
    ("2730389", "promethean75", "43701", utc(6, 1, 0, 9), None, [None], [],
     "the difficult part is distinguishing the two types of people", "I would hazard a guess that this whole"),
    ("2730390", "promethean75", "43701", utc(6, 1, 0, 23), None, [], [],
     "i can't ever make heads or tails out of anything he says", None),
    ("2730437", "Urwrongx1000", "42956", utc(6, 1, 16, 46), None, [], [],
     "The Pragmatic argument for Free-Will and Determinism.", None),
    ("2730441", "Artimas", "41855", utc(6, 1, 17, 58), None, ["promethean75"], [],
     "Perhaps that has something to do with you", "i can't ever make heads or tails"),
    ("2730442", "promethean75", "43701", utc(6, 1, 18, 20), None, [None], [],
     "Ohhhh no you don't.", "I understand what we have discussed, Meno and I."),
]


def test_every_reference_page_of_the_engine_is_covered(pages):
    assert sorted(name for name, page in pages.items() if page["engine"] == "phpbb3") == [ILP]


def test_page_identity_paging_and_forum_path(reference, pages):
    thread = parse(reference, pages, ILP)
    assert (thread.thread_id, thread.title, thread.forum_id, thread.page, thread.page_count) == (
        "194998", "Biological Will", "1", 2, 10)
    assert thread.forum_path == ["Philosophy Forums", "Philosophy"]
    assert thread.next_page == "http://www.ilovephilosophy.com/viewtopic.php?t=194998&start=50"
    assert (thread.unparsed_dates, thread.parse_errors) == (0, 0)
    assert phpbb.ENGINE.missing_posts((reference / ILP).read_bytes(), thread) == 0


@pytest.mark.parametrize("row", ILP_POSTS, ids=[row[0] for row in ILP_POSTS])
def test_post_as_read_off_the_page(reference, pages, row):
    post_id, author, author_id, posted_at, edit, quote_authors, images, own, quoted = row
    posts = {p.post_id: p for p in parse(reference, pages, ILP).posts}
    post = posts[post_id]
    # No post numbers are printed: page 2 at 25 posts per page starts at offset 25.
    position = 26 + [r[0] for r in ILP_POSTS].index(post_id)
    assert (post.author, post.author_id, post.posted_at, post.position) == (author, author_id, posted_at, position)
    assert (post.edited_by, post.edited_at) == (edit or (None, None))
    assert [q["author"] for q in post.quotes] == quote_authors
    assert all(q["post_id"] is None for q in post.quotes)  # phpBB 3.0 quotes carry no post id
    assert post.images == images
    assert post.url == f"http://www.ilovephilosophy.com/viewtopic.php?p={post_id}"
    assert not post.is_deleted
    if own:
        assert own in post.body_text
    else:
        assert post.body_text == ""
    if quoted:
        assert quoted not in post.body_text
        assert any(quoted in q["text"] for q in post.quotes)
    assert "wrote:" not in post.body_text


def test_every_post_in_page_order(reference, pages):
    thread = parse(reference, pages, ILP)
    assert [p.post_id for p in thread.posts] == [row[0] for row in ILP_POSTS]
    assert len(thread.posts) == pages[ILP]["posts"]


def test_signature_kept_out_of_the_body(reference, pages):
    posts = {p.post_id: p for p in parse(reference, pages, ILP).posts}
    assert posts["2729870"].signature == "For behold, all acts of love and pleasure are my rituals"
    assert "rituals" not in posts["2729870"].body_text
    assert posts["2730442"].body_text == "Ohhhh no you don't."  # its "soundcloud" signature stays apart
    assert posts["2729874"].signature is None and posts["2729874"].links == [
        "http://www.ilovephilosophy.com/viewtopic.php?f=6&t=194003"]


def test_nested_quotes_are_their_own_records(reference, pages):
    post = {p.post_id: p for p in parse(reference, pages, ILP).posts}["2730367"]
    outer, inner, later = post.quotes
    assert outer["text"].startswith("you might have missed sil's earlier point")
    assert "The people insisting it exists" not in outer["text"]
    assert inner["text"].startswith("The people insisting it exists are simply defining")
    assert later["text"].startswith("There seem to be conflicting interpretations of truth")


def test_page_reached_by_a_post_link_knows_its_topic_and_offset(reference, pages):
    url = "http://www.ilovephilosophy.com/viewtopic.php?p=2729870&sid=0f1e2d3c#p2729870"
    thread = parse(reference, pages, ILP, url)
    assert thread.thread_id == "194998"
    assert thread.canonical_url == "http://www.ilovephilosophy.com/viewtopic.php?t=194998&start=25"
    assert thread.posts[0].position == 26  # page 2 at 25 per page, from phpBB 3.0's per_page script variable


def test_forumotion_is_not_read_as_phpbb(reference):
    """Forumotion's templates look like phpBB's, but it is another product (detection names it)."""
    page = reference / "forumotion" / "wolfsrebellen-t7.html"
    response = HtmlResponse(url="https://wolfsrebellen-netz.forumieren.com/t7-forums-regeln", body=page.read_bytes())
    assert phpbb.page_kind(response) is None
