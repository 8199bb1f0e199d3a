"""The vBulletin engine on the real pages saved from live forums (../shared/reference-html, read-only):
one IB vBulletin 3.9 page (pprune), one classic vBulletin 3.8 page (AnimeSuki), one vBulletin 4.2 page
(militarytimes). Every post is checked against values read off the raw HTML (post ids, ``postcount``
names, the printed dates and the footer's offset, member links, "Originally Posted by" lines and their
``#post`` links, edit notes); skips, with the reason, when the folder is absent (a user's fresh clone)."""

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
from scrapy.http import HtmlResponse

from miata_spiders.dates import DateResolver
from miata_spiders.engines import vbulletin
from tests.support.reference import ABSENT, REFERENCE

NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)
IB = "ib-vbulletin/pprune-showthread-666472-page1.html"
VB3 = "vbulletin3/animesuki-showthread-128882-page152.html"
VB4 = "vbulletin4/militarytimes-showthread-9687-page1.html"


@pytest.fixture(scope="module")
def reference() -> Path:
    if not (REFERENCE / "pages.json").is_file():
        pytest.skip(ABSENT)
    return REFERENCE


@pytest.fixture(scope="module")
def parsed(reference):
    pages = json.loads((reference / "pages.json").read_text())
    cache = {}

    def parse(name):
        if name not in cache:
            url, body = pages[name]["url"], (reference / name).read_bytes()
            thread = vbulletin.parse_thread_page(HtmlResponse(url=url, body=body), url, DateResolver(now=NOW))
            cache[name] = (thread, body)
        return cache[name]
    return parse


def utc(year, month, day, hour, minute):
    return datetime(year, month, day, hour, minute, tzinfo=timezone.utc)


# Each row: (post id, position, author, author id, UTC date, (edited by, edited at) or None,
#            [(quoted author, quoted post id)], images, own words, quoted words absent from the body text)

# pprune.org, IB vBulletin 3.9.3.9: "12th Jun 2025, 08:57" on a page that says "All times are GMT.";
# positions from `postcount{id}` name=, authors `a.bigusername` -> /members/{id}-{name}; quotes are
# <label>Quote:</label> + div.panel with "Originally Posted by <strong>X</strong>" and a #post link.
IB_POSTS = [
    ("11898891", 1, 'JanetFlight', "125757", utc(2025, 6, 12, 8, 57), None,
     [], [],
     'Plane crash acc lots of sites...', None),
    ("11898894", 2, 'rixt', "390429", utc(2025, 6, 12, 9, 1), None,
     [], [],
     'Air India Ahmedabad-London flight crashes near', None),
    ("11898897", 3, 'Wee Weasley Welshman', "6151", utc(2025, 6, 12, 9, 2), None,
     [], ['https://cimg6.ibsrv.net/gimg/pprune.org-vbulletin/1357x1381/img_0267_844bf93f4664908fc2c6a11dac33dc5825c25970.jpeg'],
     'Also video of a massive smoke', None),
    ("11898903", 4, 'xanda_man', "347629", utc(2025, 6, 12, 9, 7), None,
     [], [],
     'Reported to be AI171 - LGW', None),
    ("11898905", 5, 'PAXfips', "444692", utc(2025, 6, 12, 9, 9), None,
     [], [],
     "Crash video on X 'i/status/1933088706665263170'", None),
    ("11898912", 6, 'logansi', "449147", utc(2025, 6, 12, 9, 15), None,
     [], [],
     'I just saw the crash video,', None),
    ("11898915", 7, 'ara01jbb', "234729", utc(2025, 6, 12, 9, 16), None,
     [], [],
     'The FR24 track is extremely limited,', None),
    ("11898919", 8, 'rationalfunctions', "476068", utc(2025, 6, 12, 9, 20), None,
     [('logansi', '11898912')], [],
     'are you confident the video is', 'I just saw the crash video,'),
    ("11898923", 9, 'safelife', "142217", utc(2025, 6, 12, 9, 21), None,
     [], [],
     'Or flaps up iso gear up', None),
    ("11898924", 10, 'SOPS', "8160", utc(2025, 6, 12, 9, 22), None,
     [('logansi', '11898912')], [],
     'I agree. It does not look', 'I just saw the crash video,'),
    ("11898927", 11, 'compressor stall', "13045", utc(2025, 6, 12, 9, 23), None,
     [('logansi', '11898912')], [],
     'a Dreamliner do on takeoff if', 'I just saw the crash video,'),
    ("11898928", 12, 'Tu.114', "291583", utc(2025, 6, 12, 9, 24), None,
     [], [],
     'The video seems to show the', None),
    ("11898929", 13, 'skysod', "70434", utc(2025, 6, 12, 9, 24), None,
     [], [],
     'You Tube', None),
    ("11898930", 14, 'ACMS', "7156", utc(2025, 6, 12, 9, 24), None,
     [('logansi', '11898912')], [],
     'appear to be an Engine failure,', 'I just saw the crash video,'),
    ("11898932", 15, 'mobov98423', "526350", utc(2025, 6, 12, 9, 25), None,
     [('rationalfunctions', '11898919')], [],
     "professional video guy here. it's legit", 'are you confident the video is'),
    ("11898933", 16, 'krismiler', "333150", utc(2025, 6, 12, 9, 28), None,
     [('safelife', '11898923')], [],
     'Exactly what I was thinking, landing', 'Or flaps up iso gear up'),
    ("11898935", 17, 'MightyGem', "4330", utc(2025, 6, 12, 9, 31), None,
     [], [],
     '', None),
    ("11898936", 18, 'DogTailRed2', "507292", utc(2025, 6, 12, 9, 32), None,
     [('Tu.114', '11898928')], [],
     'Not video, shows a live feed?', 'The video seems to show the'),
    ("11898938", 19, 'mobov98423', "526350", utc(2025, 6, 12, 9, 34), None,
     [('DogTailRed2', '11898936')], [],
     'Vijaykumar Desai on X: "LIVE VIDEO', 'Not video, shows a live feed?'),
    ("11898939", 20, 'shared reality', "506827", utc(2025, 6, 12, 9, 35), None,
     [], [],
     'Not familiar with the Dreamliner, but', None),
]

# forums.animesuki.com, vBulletin 3.8.11: "2016-02-01, 02:21" with "All times are GMT -5." (UTC = +5 h);
# quotes without an "Originally Posted by" line have no author and no post id; edit notes
# "Last edited by X; 2016-02-01 at <span class="time">03:31</span>."; the "View Post" button inside a
# quote is not an image of the post.
VB3_POSTS = [
    ("5768670", 3021, 'Shirohige', "250472", utc(2016, 2, 1, 7, 21), None,
     [('TinyRedLeaf', '5768621'), (None, None), (None, None), ('Romanticide', '5768655')], [],
     'Let me reword it from lesbians', "Well, what's offensive to me is"),
    ("5768676", 3022, 'BBOvenGuy', "32968", utc(2016, 2, 1, 7, 29), None,
     [('Shirohige', '5768613')], [],
     "That's a rather loose interpretation, if", "So what I got from Yamada's"),
    ("5768683", 3023, 'Romanticide', "135828", utc(2016, 2, 1, 7, 44), None,
     [], [],
     "you can't pick your battles when", None),
    ("5768696", 3024, 'Shirohige', "250472", utc(2016, 2, 1, 8, 20), ("Shirohige", utc(2016, 2, 1, 8, 31)),
     [('BBOvenGuy', '5768676')], [],
     "So what you're telling me is", "That's a rather loose interpretation, if"),
    ("5768715", 3025, 'karice67', "103720", utc(2016, 2, 1, 8, 41), ("karice67", utc(2016, 2, 1, 10, 50)),
     [('Shirohige', '5768696'), ('Romanticide', '5768683')], [],
     'May I ask, what do you', "So what I'm saying here is,"),
    ("5768743", 3026, 'wolfie74', "250491", utc(2016, 2, 1, 9, 35), None,
     [('Shirohige', '5768696')], [],
     "Gonna chime in as I don't", "So what you're telling me is"),
    ("5768758", 3027, 'Romanticide', "135828", utc(2016, 2, 1, 10, 10), None,
     [('karice67', '5768715')], [],
     "Well, i'd say i know what", 'Like TRL, I sympathise. GLBT people'),
    ("5769003", 3028, 'BBOvenGuy', "32968", utc(2016, 2, 1, 16, 45), None,
     [('Shirohige', '5768696'), ('Romanticide', '5768683')], [],
     'Karice and wolfie have some great', "So what you're telling me is"),
    ("5769034", 3029, 'Sagitta Luminis', "247784", utc(2016, 2, 1, 17, 37), None,
     [], [],
     'There is a term called "The', None),
    ("5769040", 3030, 'BBOvenGuy', "32968", utc(2016, 2, 1, 17, 59), None,
     [('Sagitta Luminis', '5769034'), ('karice67', '5768715')], [],
     "Oh yes, I'm quite familiar with", 'There is a term called "The'),
    ("5769820", 3031, 'BBOvenGuy', "32968", utc(2016, 2, 2, 19, 28), None,
     [], [],
     'I finally watched the OVA last', None),
    ("5770009", 3032, 'karice67', "103720", utc(2016, 2, 3, 2, 22), None,
     [('wolfie74', '5768743'), (None, None), ('karice67', '5686112'), ('Kamieichi', '5687023'), (None, None)], [],
     'Thanks, wolfie. Honestly glad to read', "Gonna chime in as I don't"),
    ("5772378", 3033, 'pimathbrainiac', "260794", utc(2016, 2, 6, 6, 54), None,
     [], [],
     'First post here, and I think', None),
    ("5772383", 3034, 'Marcus H.', "95900", utc(2016, 2, 6, 7, 5), None,
     [], [],
     "So there's actually a section stereotype.", None),
    ("5773041", 3035, 'pimathbrainiac', "260794", utc(2016, 2, 7, 3, 49), None,
     [], [],
     "Here are the stereotypes as I'm", None),
    ("5777640", 3036, 'BleedingUranium', "249819", utc(2016, 2, 12, 19, 11), None,
     [('karice67', '5766370'), ('TinyRedLeaf', '5768621'), ('BBOvenGuy', '5769003'), ('BBOvenGuy', '5769820'), ('pimathbrainiac', '5773041')], [],
     'All of this, plus a ton', "First, I'll just note that I"),
    ("5777901", 3037, 'BBOvenGuy', "32968", utc(2016, 2, 13, 3, 5), None,
     [('BleedingUranium', '5777640')], [],
     'The other thing I should have', "Precisely this. Hazuki's such a great"),
    ("5778115", 3038, 'Marina2', "44739", utc(2016, 2, 13, 12, 21), ("Marina2", utc(2016, 2, 13, 12, 31)),
     [('pimathbrainiac', '5773041')], [],
     'Are euphonium player and trumpet player', "Here are the stereotypes as I'm"),
    ("5778175", 3039, 'Proto', "11155", utc(2016, 2, 13, 14, 38), None,
     [], [],
     'Why, yes, they are also typically', None),
    ("5778211", 3040, 'Kamieichi', "218113", utc(2016, 2, 13, 15, 38), None,
     [], [],
     'Voice acting is totally re-recorded for', None),
]

# forums.militarytimes.com, vBulletin 4.2.3 postbitlegacy: span.date "06-15-2016, <span class=time>03:03 PM"
# with "All times are GMT."; a.postcounter "#1"; a.username -> member.php/{id}-{name}; quotes are
# div.bbcode_container with div.bbcode_postedby "Originally Posted by <strong>X</strong>" + p=N#postN.
VB4_POSTS = [
    ("365266", 1, 'Rainmaker', "13985", utc(2016, 6, 15, 15, 3), None,
     [], [],
     'RIP Mr. Dorr.', None),
    ("365267", 2, 'Mjölnir', "15870", utc(2016, 6, 15, 17, 21), None,
     [], [],
     'Fair winds and following seas Mr.', None),
    ("365268", 3, 'sandsjames', "8611", utc(2016, 6, 15, 17, 39), None,
     [], [],
     'Sad to hear. Robert F. Dorr', None),
    ("365271", 4, 'Mjölnir', "15870", utc(2016, 6, 15, 19, 50), None,
     [], [],
     'Moved this over to the Air', None),
    ("365272", 5, 'Rainmaker', "13985", utc(2016, 6, 15, 20, 15), None,
     [('sandsjames', '365268')], [],
     'and who could forget..."There is a', '. Some great conversations. Most importantly,'),
    ("365273", 6, 'sandsjames', "8611", utc(2016, 6, 15, 20, 15), None,
     [('Mjölnir', '365271')], [],
     "And he'd definitely be pissed that", 'Moved this over to the Air'),
    ("365274", 7, 'Mjölnir', "15870", utc(2016, 6, 15, 20, 18), None,
     [('sandsjames', '365273')], [],
     'Definitely ...', "And he'd definitely be pissed that"),
    ("365275", 8, 'Mjölnir', "15870", utc(2016, 6, 15, 20, 18), None,
     [('sandsjames', '365273')], [],
     'Definitely ...', "And he'd definitely be pissed that"),
    ("367740", 9, 'giggawatt', "14466", utc(2016, 9, 19, 13, 1), None,
     [], [],
     'I was saddened by this news', None),
    ("367742", 10, 'sandsjames', "8611", utc(2016, 9, 19, 14, 38), None,
     [('giggawatt', '367740')], [],
     "I'm waiting for an RFD marathon", 'I was saddened by this news'),
]


@pytest.mark.parametrize("name, table", [(IB, IB_POSTS), (VB3, VB3_POSTS), (VB4, VB4_POSTS)], ids=["ib", "vb3", "vb4"])
def test_every_post_reads_as_the_raw_page_prints_it(parsed, name, table):
    thread, body = parsed(name)
    assert [p.post_id for p in thread.posts] == [row[0] for row in table]
    assert (thread.parse_errors, thread.unparsed_dates, vbulletin.ENGINE.missing_posts(body, thread)) == (0, 0, 0)
    for post, (post_id, position, author, author_id, when, edit, quotes, images, own, quoted) in zip(thread.posts, table):
        assert (post.position, post.author, post.author_id, post.posted_at) == (position, author, author_id, when), post_id
        assert ((post.edited_by, post.edited_at) if post.edited_by else None) == edit, post_id
        assert [(q["author"], q["post_id"]) for q in post.quotes] == quotes, post_id
        assert post.images == images, post_id
        assert own in " ".join(post.body_text.split()), post_id
        assert not post.is_deleted
        if quoted:
            assert quoted not in " ".join(post.body_text.split()), post_id
            assert quoted in " ".join(post.quotes[0]["text"].split()), post_id


def test_ib_page_identity(parsed):
    thread, _ = parsed(IB)
    assert (thread.thread_id, thread.title, thread.forum_id, thread.page, thread.page_count) == (
        "666472", "Plane crash near Ahmedabad..", "139", 1, 87)
    # schema.org ListItem crumbs: the site's home, then every forum down to the thread's own
    assert thread.forum_path == ["Flight Deck Forums", "Accidents and Close Calls"]
    assert thread.next_page == "https://www.pprune.org/accidents-close-calls/666472-plane-crash-near-ahmedabad-2.html"
    # the permalink printed beside the post number
    assert thread.posts[7].url == ("https://www.pprune.org/accidents-close-calls/666472-plane-crash-near-ahmedabad.html"
                                   "#post11898919")


def test_vb3_page_identity_signatures_and_session_free_urls(parsed):
    thread, _ = parsed(VB3)
    assert (thread.thread_id, thread.title, thread.forum_id, thread.page, thread.page_count) == (
        "128882", "( L + CR ) Hibike! Euphonium [anime]", "34", 152, 155)
    assert thread.forum_path == ["Anime Discussion", "Older Series"]  # span.navbar crumbs after the home link
    assert thread.next_page == "https://forums.animesuki.com/showthread.php?t=128882&page=153"
    first = thread.posts[0]
    assert first.url == "https://forums.animesuki.com/showpost.php?p=5768670&postcount=3021"  # s=<hash> dropped
    by_id = {p.post_id: p for p in thread.posts}
    assert by_id["5778175"].signature == "How to play Japanese games in Linux"  # after <!-- sig -->, rule removed
    assert by_id["5768670"].signature is None


def test_vb4_page_identity_and_signatures(parsed):
    thread, _ = parsed(VB4)
    assert (thread.thread_id, thread.forum_id, thread.page, thread.page_count) == ("9687", "380", 1, 2)
    assert thread.title == "Legendary military columnist, author Bob Dorr dies at 76"
    assert thread.forum_path == ["Military Service", "Air Force"]  # "Forum" (forum.php) is the index, no forum
    second = thread.posts[1]
    assert second.signature == "The most important six inches on the battlefield ... is between your ears."
    assert thread.posts[0].signature is None
