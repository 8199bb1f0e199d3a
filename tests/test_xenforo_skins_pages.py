"""Whole XenForo thread pages in markups the engine was not written against (fixtures/xenforo-skins/,
written from XF 1.4/1.5 and 2.0/2.2/2.3 templates: default styles, a UI.X-style postbit, a custom skin,
friendly URLs on and off, titles left out of URLs, English, Spanish and German). Every expectation is read
from the page: each post's id, position, author and member id, date, edit, quotes, images, a phrase of its
own words and a quoted phrase that must not be among them; the thread's forum path and next page."""

from datetime import datetime, timezone
from pathlib import Path

import pytest
from scrapy.http import HtmlResponse

from miata_spiders.dates import DateResolver
from miata_spiders.engines import xenforo

SKINS = Path(__file__).resolve().parents[1] / "fixtures" / "xenforo-skins"
NOW = datetime(2025, 3, 1, 7, 0, tzinfo=timezone.utc)  # when the pages were rendered (their JS clock)


def utc(*args):
    return datetime(*args, tzinfo=timezone.utc)


def parse(name: str, url: str):
    response = HtmlResponse(url=url, body=(SKINS / name).read_bytes())
    assert xenforo.page_kind(response) == "thread"
    return xenforo.parse_thread_page(response, url, DateResolver(now=NOW))


def check_posts(thread, expected):
    """``expected``: per post (id, position, author, author id, posted at, (edited by, edited at),
    [(quoted author, quoted post id)], images, own phrase, quoted phrase absent from the post's words)."""
    assert [p.post_id for p in thread.posts] == [e[0] for e in expected]
    for post, (pid, position, author, author_id, posted, edit, quotes, images, own, absent) in zip(thread.posts, expected):
        assert (post.post_id, post.position, post.author, post.author_id, post.posted_at) == (pid, position, author, author_id, posted)
        assert (post.edited_by, post.edited_at) == edit, pid
        assert [(q["author"], q["post_id"]) for q in post.quotes] == quotes, pid
        assert post.images == images, pid
        if own is not None:
            assert own in post.body_text, pid
        if absent is not None:
            assert absent not in post.body_text and any(absent in q["text"] for q in post.quotes), pid


NO_EDIT = (None, None)


def test_xenforo_2_0_default_style_with_friendly_urls_off():
    url = "https://roadster.example/index.php?threads/clutch-judder-after-flywheel-swap.4821/page-2"
    thread = parse("xf20-default-friendly-off.html", url)
    assert (thread.thread_id, thread.title, thread.forum_id, thread.forum_path, thread.page, thread.next_page) == (
        "4821", "Clutch judder after flywheel swap", "14", ["Technical", "Drivetrain"], 2,
        "https://roadster.example/index.php?threads/clutch-judder-after-flywheel-swap.4821/page-3")
    check_posts(thread, [
        ("60011", 11, "MiataMike", "5", utc(2025, 2, 27, 18, 42, 10), NO_EDIT, [], ["https://i.imgur.com/Qw3rT7a.jpg"],
         "blue ring on the friction face", None),
        ("60014", 12, "RoadsterRick", None, utc(2025, 2, 28, 7, 15), NO_EDIT, [("MiataMike", "60011")], [],
         "Scuff it with 80 grit", "Any idea what causes that?"),
        ("60016", None, "Spammy", "77", utc(2025, 2, 28, 9, 2), NO_EDIT, [], [], None, None),
        ("60019", 13, "Anna K", "9", utc(2025, 2, 28, 12, 30), (None, utc(2025, 2, 28, 14)), [("Rick", None)],
         ["https://roadster.example/index.php?attachments/resurfaced-jpg.5512/"],
         "have it resurfaced", "Scuff it with 80 grit."),
        ("60023", 14, "MiataMike", "5", utc(2025, 3, 1, 6, 59), ("MiataMike", utc(2025, 3, 1, 7)),
         [("Anna K", "60019"), ("RoadsterRick", "60014")], [], "Shop says Thursday", "have it resurfaced"),
    ])
    deleted = thread.posts[2]
    assert deleted.is_deleted and not deleted.body_text
    assert thread.posts[3].signature.startswith("1994 M-Edition")


def test_xenforo_2_2_ui_x_style_in_spanish():
    url = "https://foro.example/threads/embrague-patina-en-tercera.9133/page-52"
    thread = parse("xf22-uix-spanish.html", url)
    assert (thread.thread_id, thread.title, thread.forum_id, thread.forum_path, thread.page, thread.next_page) == (
        "9133", "Embrague patina en tercera", "31", ["Mecánica", "Motor y transmisión", "Embrague"], 52,
        "https://foro.example/threads/embrague-patina-en-tercera.9133/page-53")
    check_posts(thread, [
        # "#1.021": Spanish thousands separator.
        ("880101", 1021, "Javier", "311", utc(2025, 2, 26, 21, 10), NO_EDIT, [], ["https://i.postimg.cc/abc123/bombin.jpg"],
         "sigue patinando en tercera", None),
        # "Última edición por un moderador": a moderator's edit names nobody.
        ("880107", 1022, "Lucía", "88", utc(2025, 2, 28, 8, 5), (None, utc(2025, 2, 28, 10)), [("Javier", "880101")], [],
         "Eso es el disco", "sigue patinando en tercera"),
        ("880109", 1023, "Troll99", "412", utc(2025, 2, 28, 11, 40), NO_EDIT, [], [], "cómprate un Golf", None),
        ("880113", 1024, "Pablo_NA", "17", utc(2025, 3, 1, 6, 20), ("Pablo_NA", utc(2025, 3, 1, 6, 45)),
         [("Lucía", "880107"), ("Javier", "880101")], [], "160.000 km", "Eso es el disco."),
        ("880120", 1025, "Javier", "311", utc(2025, 3, 1, 6, 58), NO_EDIT, [], [], "pido el kit completo", None),
    ])


def test_xenforo_2_3_article_thread_in_german_without_titles_in_urls():
    thread = parse("xf23-article-german-no-titles.html", "https://mx5.example/threads/2207/")
    assert (thread.thread_id, thread.title, thread.forum_id, thread.forum_path, thread.page, thread.next_page) == (
        "2207", "Zahnriemenwechsel am NA", "8", ["Technik", "Motor"], 1, None)
    check_posts(thread, [
        # The article itself prints no "#1".
        ("31001", None, "Redaktion", "2", utc(2025, 2, 27, 20, 5), (None, utc(2025, 2, 28, 8)), [],
         ["https://mx5.example/data/assets/zahnriemen.jpg"], "Alle 60.000 km oder 5 Jahre", None),
        ("31004", 2, "Sven", "140", utc(2025, 2, 28, 19, 30), ("Sven", utc(2025, 2, 28, 19, 41)), [("Redaktion", "31001")], [],
         "hielt trotzdem", "Alle 60.000 km"),
        ("31007", 3, "Gast_Uwe", None, utc(2025, 3, 1, 6, 10), NO_EDIT, [("Sven", "31004")], [], "Wasserpumpe", "hielt trotzdem"),
        ("31012", 4, "Kerstin_S", "233", utc(2025, 3, 1, 6, 58, 20), NO_EDIT, [], ["https://mx5.example/attachments/riemen-jpg.772/"],
         "Teileliste", None),
    ])


def test_custom_xenforo_2_skin():
    # The counter sits at the left of the header, the user cell prints a "Last seen" time (Today at 6:30 AM),
    # a guest is a bare <span class="username"> and mentions a member, the breadcrumbs end with the thread
    # itself, and Kenji's reply prints its date under the post (linked to the post) instead of in the header.
    thread = parse("xf22-custom-skin.html", "https://roadster.example/threads/hardtop-seals.7781/page-2")
    assert (thread.thread_id, thread.title, thread.forum_id, thread.forum_path, thread.page, thread.next_page) == (
        "7781", "Hardtop seals", "19", ["Bodywork", "Hardtops"], 2, None)
    check_posts(thread, [
        ("50201", 21, "Kenji", "21", utc(2025, 2, 20, 10), NO_EDIT, [], [], "OEM or aftermarket", None),
        ("50207", 22, "Visitor Joe", None, utc(2025, 2, 21, 11), NO_EDIT, [], [], "Soft Top Hut", None),
        ("50215", 23, "Kenji", "21", utc(2025, 2, 22, 12), ("Kenji", None), [("Visitor Joe", "50207")], [],
         "Ordered, thanks", "fit fine"),
    ])


def test_xenforo_1_5_default_style():
    url = "https://club.example/community/threads/rear-main-seal-leak.5120/page-2"
    thread = parse("xf15-default-english.html", url)
    assert (thread.thread_id, thread.title, thread.forum_id, thread.forum_path, thread.page, thread.next_page) == (
        "5120", "Rear main seal leak?", "27", ["Technical", "Engine", "Oil leaks"], 2,
        "https://club.example/community/threads/rear-main-seal-leak.5120/page-3")
    check_posts(thread, [
        ("81230", 16, "RoadsterMike", "5", utc(2025, 2, 21, 18, 42), ("RoadsterMike", utc(2025, 2, 21, 19, 3)), [],
         ["https://i.imgur.com/rMs3al1.jpg"], "oil on the bellhousing", None),
        # A guest mentioning a member is still a guest.
        ("81236", 17, "Guesty", None, utc(2025, 2, 27, 21, 35), NO_EDIT, [], [], "Cam plug is my guess", None),
        ("81240", None, "Spammer", "77", utc(2025, 2, 28, 9, 2), NO_EDIT, [], [], None, None),
        ("81244", 18, "Anna", "6", utc(2025, 2, 28, 12, 30), (None, utc(2025, 2, 28, 14)), [("RoadsterMike", "81230"), (None, None)],
         # the thumbnail links its attachment relatively (attachments/talc-jpg.9911/): the full-size one is kept
         ["https://club.example/community/attachments/talc-jpg.9911/"], "dust it with talc", "seal or the cam plug"),
        ("81251", 19, "RoadsterMike", "5", utc(2025, 3, 1, 6, 58), NO_EDIT, [("Anna", "81244")], [], "Report next week", "dust it with talc"),
    ])
    assert thread.posts[2].is_deleted
    assert thread.posts[0].signature == "My build – 1991 BRG"


def test_xenforo_1_4_in_german_with_friendly_urls_off():
    url = "https://alt-forum.example/index.php?threads/kupplung-rutscht.812/"
    thread = parse("xf14-german-friendly-off.html", url)
    assert (thread.thread_id, thread.title, thread.forum_id, thread.forum_path, thread.page, thread.next_page) == (
        "812", "Kupplung rutscht", "5", ["Technik", "Antrieb"], 1,
        "https://alt-forum.example/index.php?threads/kupplung-rutscht.812/page-2")
    check_posts(thread, [
        # Title dates are printed at the page's offset, UTC+1 (its serverTimeInfo).
        ("9901", 1, "Hans", "41", utc(2014, 12, 3, 19, 27), NO_EDIT, [], [], "im dritten Gang", None),
        ("9905", 2, "Marie", "42", utc(2014, 12, 4, 8, 10), (None, utc(2014, 12, 4, 9)), [("Hans", "9901")], [],
         "Geberzylinder", "Kupplung rutscht ab"),
        ("10233", 3, "Gast", None, utc(2025, 2, 28, 9, 2), NO_EDIT, [], [], "hat mir geholfen", None),
        ("10240", 4, "Hans", "41", utc(2025, 3, 1, 6, 20), ("Hans", utc(2025, 3, 1, 6, 45)), [("Gast", "10233")], [],
         "erledigt", "Anleitung hier"),
    ])
