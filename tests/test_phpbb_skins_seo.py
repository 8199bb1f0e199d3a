"""phpBB boards behind SEO URL mods, read as `miata parse --site forum` reads them. The pages are the
software's templates filled with real-looking values (fixtures/phpbb-skins/README.md):

- phpBB SEO premod on 3.0 prosilver: absolute rewritten links, ``/member/name/``, ``/postN.html#pN``,
  forums ``/name-f9/``, topic pages ``/name-t77-15.html``;
- phpBB SEO Ultimate SEO URL on 3.2: the same forms, with 3.2's quote cite (profile link, quoted-post
  link with ``data-post-id``);
- phpBB SEO "simple" mode on subsilver2: ``topic77-15.html``, ``forum9.html``, ``member5.html``;
- a card-style 3.3 theme without ``p.author`` and with member URLs ``/member/name-u57/``.

What the mods rewrite is the URL; what phpBB prints stays: the crumbs' order (and ``data-forum-id``
on 3.1+), ``a.username``, ``<time datetime>``, the post anchors ``#pN``."""

from datetime import datetime, timezone
from pathlib import Path

import pytest

from miata_spiders.cli import parse_page_records
from miata_spiders.engines import phpbb

PAGES = Path(__file__).resolve().parents[1] / "fixtures" / "phpbb-skins"
NOW = datetime(2026, 1, 1, 12, 0, tzinfo=timezone.utc)


def parse(name: str, url: str):
    """(posts by id, next page URL or None) as `miata parse --site forum URL FILE` gives them."""
    records = list(parse_page_records("forum", url, (PAGES / name).read_bytes(), now=NOW))
    assert not [r for r in records if r["kind"] == "unrecognised"], records
    posts = {r["post_id"]: r for r in records if r["kind"] == "post"}
    next_page = next((r["url"] for r in records if r["kind"] == "next_page"), None)
    return posts, next_page


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def quotes(post) -> list[tuple]:
    return [(q["author"], q["post_id"]) for q in post["quotes"]]


A = "https://www.roadster-forum.example"


def test_phpbb_seo_premod_on_prosilver_30():
    posts, next_page = parse("a_prosilver30_phpbbseo_premod.html", f"{A}/bodywork-soft-tops-f9/soft-top-latch-sticks-t77-15.html")
    assert list(posts) == ["1016", "1019", "1022"]
    first = posts["1016"]
    # The crumbs link /workshop-f3/ and /bodywork-soft-tops-f9/: the forum path is theirs all the same.
    assert (first["thread_id"], first["forum_id"], first["forum_path"]) == ("77", "9", ["Workshop", "Bodywork & Soft Tops"])
    assert next_page == f"{A}/bodywork-soft-tops-f9/soft-top-latch-sticks-t77-30.html"
    # Page 2 of 15-post pages ("var per_page = '15'"): positions 16 on.
    assert [p["position"] for p in posts.values()] == [16, 17, 18]
    # /member/martina/ names no id: the author is read, the id stays unknown.
    assert (first["author"], first["author_id"]) == ("Martina", None)
    assert first["posted_at"] == utc(2016, 1, 4, 21, 52)  # "04 Jan 2016, 22:52", board at UTC+1
    assert first["images"] == [f"{A}/download/file.php?id=55&mode=view"]
    assert first["signature"] == "NA 1.6 | 1991 | Mariner Blue"
    second = posts["1019"]
    assert (second["author"], second["posted_at"]) == ("Klaus W.", utc(2025, 12, 31, 17, 20))  # "Yesterday, 18:20"
    assert (second["edited_by"], second["edited_at"]) == ("Klaus W.", utc(2025, 12, 31, 17, 31))
    assert quotes(second) == [("Martina", None)]
    assert "white lithium" in second["body_text"] and "sticks as soon as" not in second["body_text"]
    guest = posts["1022"]
    assert (guest["author"], guest["author_id"], guest["posted_at"]) == ("Weekend Wrencher", None, utc(2026, 1, 1, 8, 15))
    assert guest["images"] == ["http://i.imgur.example/NB-latch.jpg"]


C = "https://www.miatacommunity.example"


def test_ultimate_seo_url_on_prosilver_32():
    posts, next_page = parse("c_prosilver32_ultimate_seo.html", f"{C}/garage-f9/rust-on-na-arches-t77-20.html")
    assert list(posts) == ["2104", "2108", "2111"]
    reply = posts["2104"]
    assert (reply["thread_id"], reply["forum_id"], reply["forum_path"]) == ("77", "9", ["Workshop", "Garage"])
    assert next_page == f"{C}/garage-f9/rust-on-na-arches-t77-30.html"
    assert [p["position"] for p in posts.values()] == [21, 22, 23]
    assert (reply["author"], reply["posted_at"]) == ("miatamike", utc(2016, 1, 3, 20, 0))
    # The cite's profile link is /member/hainz/, its quoted-post link carries data-post-id.
    assert quotes(reply) == [("hainz", "2099")]
    assert "sills are solid" in reply["body_text"] and "Poke the sills" not in reply["body_text"]
    assert (reply["edited_by"], reply["edited_at"]) == ("miatamike", utc(2016, 1, 3, 20, 14))
    # The post's own permalink, as the page prints it.
    assert reply["url"] == f"{C}/post2104.html"
    guest = posts["2108"]
    assert (guest["author"], guest["author_id"], quotes(guest)) == ("Visitor Vic", None, [(None, None)])
    assert posts["2111"]["images"] == [f"{C}/download/file.php?id=118&mode=view", f"{C}/download/file.php?id=119"]


E = "http://www.nb-roadster.example/board"


def test_phpbb_seo_simple_urls_on_subsilver2():
    posts, next_page = parse("e_subsilver2_30_seo_simple.html", f"{E}/topic77-15.html")
    assert list(posts) == ["3301", "3306", "3309"]
    first, guest, third = posts.values()
    assert (first["thread_id"], first["forum_id"], first["forum_path"]) == ("77", "9", ["Workshop", "Hardtops & Soft tops"])
    assert next_page == f"{E}/topic77-30.html"
    # member5.html is the profile of member 5 (subsilver2's profile button).
    assert (first["position"], first["author"], first["author_id"]) == (16, "Kenji", "5")
    assert first["posted_at"] == utc(2011, 3, 8, 19, 17)  # "Tue Mar 08, 2011 2:17 pm", UTC - 5 hours
    # The attachment table under the message: the thumbnail's full image.
    assert first["images"] == [f"{E}/download/file.php?id=71&mode=view"]
    assert (guest["author"], guest["author_id"], quotes(guest)) == ("Guest_Dave", None, [("Kenji", None)])
    assert (third["author_id"], third["edited_by"], third["edited_at"]) == ("5", "Kenji", utc(2011, 3, 9, 13, 12))


def test_subsilver2_attachment_table_without_the_seo_mod():
    posts, _ = parse("j_subsilver2_30_plain.html", f"{E}/viewtopic.php?f=9&t=77&start=15")
    assert posts["3301"]["images"] == [f"{E}/download/file.php?id=71&mode=view"]
    assert (posts["3301"]["author_id"], posts["3301"]["forum_path"]) == ("5", ["Workshop", "Hardtops & Soft tops"])


H = "https://www.roadsterclub.example/community"


def test_card_style_theme_without_p_author_and_seo_member_ids():
    posts, _ = parse("h_card_style33_seo_member_u.html", f"{H}/suspension-f11/949-springs-on-nc-t300.html")
    first, reply = posts["881"], posts["884"]
    assert (first["forum_id"], first["forum_path"]) == ("11", ["Suspension"])
    # The author line is a div.author: a.username and <time datetime> in it.
    assert (first["author"], first["author_id"], first["posted_at"]) == ("shiftless", "57", utc(2024, 5, 2, 16, 40))
    assert (reply["author"], reply["author_id"], reply["posted_at"]) == ("rollbar_rob", "12", utc(2024, 5, 3, 8, 5))
    assert quotes(reply) == [("shiftless", "881")]
    # The permalink the post prints, never ./viewtopic.php joined onto the SEO folder.
    assert first["url"] == f"{H}/post881.html"
    assert (reply["edited_by"], reply["edited_at"]) == ("rollbar_rob", utc(2024, 5, 3, 8, 31))


def test_a_post_without_a_permalink_on_an_seo_page_links_into_the_board_folder():
    """The page's URL is a rewritten folder (/suspension-f11/): phpBB's own post URL is joined to the
    board's folder (where its posting.php links point), never to the SEO folder."""
    url = f"{H}/suspension-f11/949-springs-on-nc-t300.html"
    html = (PAGES / "h_card_style33_seo_member_u.html").read_text(encoding="utf-8")
    html = html.replace(f'<a href="{H}/post881.html#p881" title="Post">', "<span>", 1)
    records = list(parse_page_records("forum", url, html.encode(), now=NOW))
    first = next(r for r in records if r.get("post_id") == "881")
    assert first["url"] == f"{H}/viewtopic.php?p=881"


@pytest.mark.parametrize("url, forum_id, thread_id, member_id", [
    # phpBB SEO premod / Ultimate SEO URL (advanced): virtual folders, ids after -f / -t / -u
    ("https://www.miatacommunity.example/garage-f9/", "9", None, None),
    ("https://www.miatacommunity.example/garage-f9/page15.html", "9", None, None),
    ("https://www.miatacommunity.example/garage-f9/rust-on-na-arches-t77-20.html", None, "77", None),
    ("https://www.roadsterclub.example/community/member/shiftless-u57/", None, None, "57"),
    # phpBB SEO simple mode
    ("http://www.nb-roadster.example/board/forum9.html", "9", None, None),
    ("http://www.nb-roadster.example/board/forum9-30.html", "9", None, None),
    ("http://www.nb-roadster.example/board/topic77-15.html", None, "77", None),
    ("http://www.nb-roadster.example/board/member5.html", None, None, "5"),
    # tas2580 SEO URLs: topic pages "-s10"
    ("https://forum.example/garage-f1/rust-t2-s10.html", None, "2", None),
    # no id in the URL: none guessed
    ("https://www.roadster-forum.example/member/martina/", None, None, None),
    ("https://www.miatacommunity.example/post2104.html", None, None, None),
    # phpBB's own scripts
    ("https://forum.example/viewforum.php?f=3&start=50", "3", None, None),
    ("https://forum.example/viewtopic.php?f=3&t=12&start=10", None, "12", None),
    ("https://forum.example/memberlist.php?mode=viewprofile&u=48", None, None, "48"),
])
def test_ids_from_rewritten_urls(url, forum_id, thread_id, member_id):
    assert (phpbb.forum_id_from_url(url), phpbb.thread_id_from_url(url), phpbb.member_id_from_url(url)) == (
        forum_id, thread_id, member_id)
