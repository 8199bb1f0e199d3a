"""phpBB's own styles across versions and popular third-party styles, on boards in other languages and
seen by moderators and logged-in members, read as `miata parse --site forum` reads them (pages:
fixtures/phpbb-skins/README.md): 3.1 prosilver in German with relative dates, a soft-deleted post and an
ignored member; 3.3 we_universal in Spanish; Allan Style - SUBSILVER in French with "#21" post counters;
3.3 prosilver with a poll, nested quotes, a moderator's edit, reported and unapproved posts; 3.0
prosilver opened by a post link, with a foe's post hidden by the visitor's ignore list."""

from datetime import datetime, timezone
from pathlib import Path

import pytest

from miata_spiders.cli import parse_page_records

PAGES = Path(__file__).resolve().parents[1] / "fixtures" / "phpbb-skins"
NOW = datetime(2026, 1, 1, 12, 0, tzinfo=timezone.utc)


def parse(name: str, url: str):
    records = list(parse_page_records("forum", url, (PAGES / name).read_bytes(), now=NOW))
    assert not [r for r in records if r["kind"] == "unrecognised"], records
    posts = {r["post_id"]: r for r in records if r["kind"] == "post"}
    next_page = next((r["url"] for r in records if r["kind"] == "next_page"), None)
    return posts, next_page


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def quotes(post) -> list[tuple]:
    return [(q["author"], q["post_id"]) for q in post["quotes"]]


B = "https://forum.mx5-freunde.example"


def test_prosilver_31_german_relative_dates_deleted_and_ignored_posts():
    posts, next_page = parse("b_prosilver31_de_relative.html", f"{B}/viewtopic.php?f=9&t=412&start=10")
    assert list(posts) == ["5501", "5507", "5512", "5514", "5515"]
    assert next_page == f"{B}/viewtopic.php?t=412&start=20"
    assert posts["5501"]["forum_path"] == ["Technik", "Karosserie & Verdeck"]
    assert [p["position"] for p in posts.values()] == [11, 12, 13, 14, 15]
    # "Alle Zeiten sind UTC+01:00"; "Gestern, 18:20", "Heute, 09:15", "vor 25 Minuten", "vor 5 Minuten".
    assert [p["posted_at"] for p in posts.values()] == [
        utc(2016, 1, 4, 21, 52), utc(2025, 12, 31, 17, 20), utc(2026, 1, 1, 8, 15), utc(2026, 1, 1, 11, 35), utc(2026, 1, 1, 11, 55)]
    edited = posts["5507"]
    assert (edited["edited_by"], edited["edited_at"], quotes(edited)) == ("Sabine_74", utc(2025, 12, 31, 17, 31), [("Jörg", None)])
    assert "Gummipflege" in edited["body_text"] and "Dichtung" not in edited["body_text"]
    # A moderator sees the soft-deleted post whole; a foe's post is hidden by CSS, not deleted.
    deleted, ignored = posts["5512"], posts["5514"]
    assert (deleted["is_deleted"], deleted["author"], deleted["author_id"]) == (True, "Verdeck-Doc", "3")
    assert "Alte Werbung" in deleted["body_text"]
    assert (ignored["is_deleted"], ignored["author"], ignored["author_id"]) == (False, "Nervensäge", "204")
    assert (posts["5515"]["author"], posts["5515"]["author_id"]) == ("Gast_Fahrer", None)


D = "https://foro.mx5espana.example/foro"


def test_we_universal_33_spanish():
    posts, next_page = parse("d_we_universal33_es.html", f"{D}/viewtopic.php?t=1203")
    assert list(posts) == ["9001", "9004", "9006", "9007"] and next_page is None
    assert posts["9001"]["forum_path"] == ["Mecánica", "Capota y carrocería"]
    # <time datetime> wins over "Ayer, 22:42" and "Hace 5 minutos".
    assert [p["posted_at"] for p in posts.values()] == [
        utc(2025, 12, 30, 18, 5), utc(2025, 12, 31, 21, 42), utc(2026, 1, 1, 9, 15), utc(2026, 1, 1, 11, 55)]
    reply = posts["9004"]
    assert quotes(reply) == [("Lucía", "9001")] and "chasquido" not in reply["body_text"]
    assert (reply["edited_by"], reply["edited_at"]) == ("Paco_NA", utc(2025, 12, 31, 21, 50))  # "el Ayer, 22:50"
    assert f"{D}/download/file.php?id=412" in reply["links"]
    assert posts["9006"]["is_deleted"] is True
    assert posts["9007"]["images"] == ["https://i.ibb.example/xyz/capota.jpg"]


F = "https://www.forum-roadster.example/forum"


def test_allan_style_subsilver_french():
    posts, next_page = parse("f_allanstyle_subsilver_fr.html", f"{F}/viewtopic.php?f=3&t=1786&start=20")
    assert next_page is None
    # The style's own "#21" counters agree with the page offset.
    assert [(p["position"], p["author"], p["author_id"]) for p in posts.values()] == [
        (21, "Benoît", "2258"), (22, "Invité_Marc", None), (23, "Benoît", "2258")]
    assert posts["7038"]["posted_at"] == utc(2011, 4, 27, 21, 57)  # "27 avr. 2011 23:57", Europe/Paris
    assert quotes(posts["7041"]) == [("Benoît", None)]
    last = posts["7045"]
    assert (last["posted_at"], last["edited_by"], last["edited_at"]) == (utc(2026, 1, 1, 9, 2), "Benoît", utc(2026, 1, 1, 9, 20))


G = "https://forums.nbowners.example"


def test_prosilver_33_poll_nested_quotes_and_moderation_notices():
    posts, _ = parse("g_prosilver33_poll_moderation.html", f"{G}/viewtopic.php?t=5120")
    # The poll's "p.author" is no post.
    assert list(posts) == ["40211", "40218", "40225", "40230"]
    first = posts["40211"]
    assert first["images"] == [] and first["signature"] == "'01 LS, 6-speed"  # banner and rank image are not the post's
    edited = posts["40218"]
    assert (edited["author"], edited["edited_by"], edited["edited_at"]) == ("shiftless", "Dan", utc(2023, 3, 9, 12, 2))
    nested = posts["40225"]
    assert quotes(nested) == [("shiftless", "40218"), ("Dan", "40211")]
    assert nested["body_text"] == "A Motive Products one; wrap the threads with PTFE tape."
    assert "waiting for approval" not in posts["40230"]["body_text"]


I = "http://www.miataforum.example/phpBB3"


def test_prosilver_30_by_post_link_with_a_foes_post():
    posts, next_page = parse("i_prosilver30_postlink_ignored.html", f"{I}/viewtopic.php?p=60024#p60024")
    assert next_page == f"{I}/viewtopic.php?t=2345&start=30"
    # Page 3 at 10 a page: positions 21 on, though the URL names no start.
    assert [p["position"] for p in posts.values()] == [21, 22, 23]
    foe = posts["60024"]
    # 3.0 prints only "This post was made by flamebait who is currently on your ignore list".
    assert (foe["author"], foe["author_id"], foe["is_deleted"], foe["posted_at"]) == ("flamebait", "666", False, None)
    assert (posts["60030"]["author"], posts["60030"]["author_id"]) == ("OldTimer", None)
    assert posts["60030"]["posted_at"] == utc(2015, 8, 14, 12, 5)  # "UTC [ DST ]": an hour ahead


@pytest.mark.parametrize("printed", [
    "less than a minute ago", "vor weniger als einer Minute", "il y a moins d’une minute",
    "hace menos de un minuto", "meno di un minuto fa", "minder dan een minuut geleden",
])
def test_under_a_minute_in_each_language_pack(printed):
    """3.1/3.2 print a post of the last minute as the language pack's "less than a minute ago"."""
    html = (PAGES / "b_prosilver31_de_relative.html").read_text(encoding="utf-8").replace("vor 5 Minuten", printed)
    records = parse_page_records("forum", f"{B}/viewtopic.php?f=9&t=412&start=10", html.encode(), now=NOW)
    guest = next(r for r in records if r.get("post_id") == "5515")
    assert guest["posted_at"] == NOW
