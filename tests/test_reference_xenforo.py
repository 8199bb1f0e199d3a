"""The XenForo engine on the real XenForo 1 and 2 pages in ../shared/reference-html, post by post.

Every expected value below was read off the raw HTML of the page (not from our parser's output):
XF2 from ``article.message[data-author][data-content="post-N"]``, ``a.username[data-user-id]``,
``time[datetime]`` and the ``#N`` link; XF1 from ``li#post-N[data-author]``, the ``members/name.N/``
link, ``span.DateTime[title]`` (printed at the page's UTC-5, per its ``serverTimeInfo``), ``a.postNumber``,
``div.bbCodeQuote[data-author]`` with its ``goto/post?id=N`` attribution link, and ``.editDate``.
The tests skip when ../shared/reference-html is not beside the repository (a user's fresh clone).
"""

import json
from datetime import datetime, timezone
from typing import NamedTuple

import pytest
from scrapy.http import HtmlResponse

from miata_spiders.dates import DateResolver
from miata_spiders.engines import xenforo
from tests.support.reference import ABSENT, REFERENCE

XF2 = "xenforo2/xenforo-com-community-thread-8276.html"
XF1 = "xenforo1/sufficientvelocity-thread-10402-page54.html"


class Post(NamedTuple):
    post_id: str
    position: int
    author: str
    author_id: str
    posted_at: tuple  # UTC
    quotes: tuple  # (author, quoted post id) of every quote, in order
    own: str  # a phrase of the post's own words
    quoted: str | None  # a phrase only its quotes hold: absent from its own text
    images: tuple = ()


XF2_POSTS = [
    Post("114210", 1, "dieketzer", "496", (2010, 11, 21, 10, 51, 58), (), "a dark theme shipped with xenforo", None),
    Post("114243", 2, "krstep", "1029", (2010, 11, 21, 13, 24, 47), (), "the theme should stay just as it is", None),
    Post("114249", 3, "dieketzer", "496", (2010, 11, 21, 13, 39, 28), (), "a dark theme OPTION", None),
    Post("114253", 4, "anotheralias", "693", (2010, 11, 21, 13, 47, 23), (), "Inverting the colors", None),
    Post("115610", 5, "T3G Silas", "3362", (2010, 11, 23, 23, 42, 24), (), "a dark option would be nice", None),
    # datetime="2016-08-21T07:09:15+0100": BST, one hour ahead of UTC.
    Post("1091229", 6, "Azofan", "85474", (2016, 8, 21, 6, 9, 15), (), "please do this at some point", None),
    Post("1091230", 7, "AndyB", "1327", (2016, 8, 21, 6, 22, 26), (), "You might be interested in this add-on", None),
    Post("1358710", 8, "sub_ubi", "53960", (2019, 6, 26, 9, 25, 9), (), "i want this added to xenforo.com itself", None),
]

XF1_POSTS = [
    Post("2146286", 1326, "TheBleachDoctor", "4525", (2014, 10, 31, 3, 48), (), "Rolling.", None),
    Post("2146297", 1327, "Crow", "1923", (2014, 10, 31, 3, 49), (("Higure", "2146285"), ("TheBleachDoctor", "2146286")),
         "OOC behavior? which part?", "Okay, I need rolls for OOC"),
    Post("2146298", 1328, "TheBleachDoctor", "4525", (2014, 10, 31, 3, 50), (), "How about this, then?", None),
    Post("2146342", 1329, "Higure", "4178", (2014, 10, 31, 3, 58), (("Crow", "2146297"),),
         "If the Doctor's second roll", "OOC behavior? which part?"),
    Post("2146356", 1330, "TheBleachDoctor", "4525", (2014, 10, 31, 4, 0), (), "Poor Homu...", None),
    Post("2146361", 1331, "Omegastar", "507", (2014, 10, 31, 4, 0), (("Crow", "2146297"),), "\u2665",
         "OOC behavior? which part?"),
    Post("2146367", 1332, "Higure", "4178", (2014, 10, 31, 4, 2), (("TheBleachDoctor", "2146356"),),
         "Grief Syndrome has apparently infected", "Poor Homu"),
    Post("2146370", 1333, "TheBleachDoctor", "4525", (2014, 10, 31, 4, 2), (("Omegastar", "2146361"), ("Higure", "2146367")),
         "my revenge is somehow manifesting as low dice rolls", "Grief Syndrome has apparently infected",
         ("http://33.media.tumblr.com/4defd892aab30fd27d4e355ffe395d32/tumblr_n4el29Po661qj4315o1_500.gif",)),
    Post("2146398", 1334, "Higure", "4178", (2014, 10, 31, 4, 6), (("TheBleachDoctor", "2146370"),),
         "as one of your players, and as a Witch", "Is that a challenge?"),
    Post("2146423", 1335, "Crow", "1923", (2014, 10, 31, 4, 11), (("Higure", "2146342"),),
         "I should go and erase my roll then", "If the Doctor's second roll"),
    Post("2146424", 1336, "Omegastar", "507", (2014, 10, 31, 4, 11), (("Higure", "2146398"),),
         "I thought you where a good witch?", "as one of your players"),
    Post("2146427", 1337, "Crow", "1923", (2014, 10, 31, 4, 12), (("Omegastar", "2146424"),),
         "He means it in the way that he wants", "I thought you where a good witch"),
    Post("2146428", 1338, "Higure", "4178", (2014, 10, 31, 4, 13), (("Crow", "2146427"),),
         "See Bleach's Avvie text.", "He means it in the way"),
    Post("2146433", 1339, "TheBleachDoctor", "4525", (2014, 10, 31, 4, 14), (),
         "Happy Endings are the things of fairy tales.", None, ("http://i.minus.com/ibdZ2mE6szS0ct.gif",)),
    Post("2146434", 1340, "Entropy Judge", "1609", (2014, 10, 31, 4, 14), (("Crow", "2146423"),),
         "no in-character reason", "I should go and erase my roll"),
    Post("2146458", 1341, "Higure", "4178", (2014, 10, 31, 4, 18), (("TheBleachDoctor", "2146433"),),
         "Happy endings are free in fairy tales.", "Happy Endings are the things of fairy tales."),
    Post("2146470", 1342, "Crow", "1923", (2014, 10, 31, 4, 20), (("Entropy Judge", "2146434"),),
         "Thats not very convincing for me", "no in-character reason"),
    Post("2146498", 1343, "Entropy Judge", "1609", (2014, 10, 31, 4, 25), (("Crow", "2146470"),),
         "are you arguing for what you want to happen", "Thats not very convincing"),
    Post("2146541", 1344, "Higure", "4178", (2014, 10, 31, 4, 35), (), "[X] Do nothing", None),
    Post("2146551", 1345, "TheBleachDoctor", "4525", (2014, 10, 31, 4, 38), (), "That was good.", None),
    Post("2146562", 1346, "Crow", "1923", (2014, 10, 31, 4, 40), (("Higure", "2146541"),),
         "can we agree to keep the enchantment on", "to be continued in a minute or two"),
    Post("2146566", 1347, "TheBleachDoctor", "4525", (2014, 10, 31, 4, 41), (), "Homu has begun to form her HomuHarem.", None),
    Post("2146595", 1348, "Hyp3rB14d3", "4980", (2014, 10, 31, 4, 47), (("TheBleachDoctor", "2146566"),),
         "it consists of Sayaka and Kyouko", "Homu has begun to form her HomuHarem"),
    Post("2146608", 1349, "Wzd_JA", "2117", (2014, 10, 31, 4, 50), (("Higure", "2146541"),), "Hora", "[X] Do nothing"),
    Post("2146619", 1350, "Entropy Judge", "1609", (2014, 10, 31, 4, 52), (("Crow", "2146562"),),
         "any profligate use of magic", "can we agree to keep the enchantment on"),
]

# The only edit on either page: "Last edited: Dec 4, 2014" (title "Dec 4, 2014 at 2:29 AM", UTC-5), by its author.
XF1_EDITS = {"2146541": ("Higure", datetime(2014, 12, 4, 7, 29, tzinfo=timezone.utc))}


@pytest.fixture(scope="module")
def pages():
    if not (REFERENCE / "pages.json").exists():
        pytest.skip(ABSENT)
    known = json.loads((REFERENCE / "pages.json").read_text())
    parsed = {}
    for name in (XF2, XF1):
        url = known[name]["url"]
        response = HtmlResponse(url=url, body=(REFERENCE / name).read_bytes())
        parsed[name] = xenforo.parse_thread_page(response, url, DateResolver(now=datetime(2026, 1, 1, tzinfo=timezone.utc)))
    return parsed


def check_posts(thread, expected: list[Post], edits: dict):
    assert [p.post_id for p in thread.posts] == [e.post_id for e in expected]
    assert (thread.unparsed_dates, thread.parse_errors) == (0, 0)
    for got, want in zip(thread.posts, expected):
        where = f"post {want.post_id}"
        assert (got.position, got.author, got.author_id) == (want.position, want.author, want.author_id), where
        assert got.posted_at == datetime(*want.posted_at, tzinfo=timezone.utc), where
        assert [(q["author"], q["post_id"]) for q in got.quotes] == list(want.quotes), where
        assert want.own in got.body_text, where
        if want.quoted:
            assert want.quoted not in got.body_text, where
            assert any(want.quoted in q["text"] for q in got.quotes), where
        assert got.images == list(want.images), where
        assert (got.edited_by, got.edited_at) == edits.get(want.post_id, (None, None)), where
        assert not got.is_deleted and got.url and want.post_id in got.url, where


def test_xenforo2_every_post(pages):
    thread = pages[XF2]
    check_posts(thread, XF2_POSTS, {})
    assert (thread.thread_id, thread.forum_id, thread.title) == ("8276", "18", "a dark theme option")
    # Home > Forums > Public forums (a category anchor "/community/.#public-forums.17") > XenForo suggestions.
    assert thread.forum_path == ["Public forums", "XenForo suggestions"]
    assert (thread.page, thread.page_count, thread.next_page) == (1, None, None)
    assert thread.posts[0].url == "https://xenforo.com/community/threads/a-dark-theme-option.8276/post-114210"


def test_xenforo1_every_post(pages):
    thread = pages[XF1]
    check_posts(thread, XF1_POSTS, XF1_EDITS)
    assert (thread.thread_id, thread.forum_id, thread.title) == ("10402", "29", "Renascence: A Homura Quest")
    # Forums > Creative Forums (categories/creative-forums.1/) > Quests (forums/quests.29/).
    assert thread.forum_path == ["Creative Forums", "Quests"]
    assert (thread.page, thread.page_count) == (54, 347)
    assert thread.next_page == "https://forums.sufficientvelocity.com/threads/renascence-a-homura-quest.10402/page-55"


def test_every_post_id_in_the_markup_is_in_the_tree(pages):
    for name, thread in pages.items():
        assert xenforo.ENGINE.missing_posts((REFERENCE / name).read_bytes(), thread) == 0, name
