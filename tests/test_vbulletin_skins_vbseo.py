"""A vBulletin 4.2 page with vBSEO (fixtures/vbulletin-skins/vb4-vbseo-postbit-page2.html): page 2 of 3,
member profiles at ``members/name.html`` (the id only in the user's popup menu) and
``members/71187_name.html``, every post kind (edited with a reason, quoting, deleted, guest, moderated),
relative dates ("2 Hours Ago") and forum crumbs without ids, one of them the forum root."""

from pathlib import Path

from tests.test_vbulletin_skins import SKINS, parse, utc

URL = "https://www.boostclub.example/forum/engine-tech/12345-boost-leak-after-intercooler-swap-2.html"
NOW = utc(2026, 1, 1, 12, 0)  # the footer: "All times are GMT -5. The time now is 07:00 AM."


def read(name: str):
    return parse((SKINS / name).read_bytes(), URL, NOW)


def test_every_post_of_the_vbseo_page_keeps_its_own_author_date_and_number():
    thread = read("vb4-vbseo-postbit-page2.html")
    assert [(p.post_id, p.position, p.author, p.author_id, p.posted_at) for p in thread.posts] == [
        ("771011", 11, "turbo_tina", "22019", utc(2021, 3, 4, 3, 5)),  # id from the popup's userid=/u= links
        ("771019", 12, "mazda_mike", "71187", utc(2026, 1, 1, 4, 50)),  # "Yesterday, 11:50 PM" at GMT -5
        ("771020", 13, "spam_sam", "90210", utc(2026, 1, 1, 10, 40)),
        ("771024", 14, "random_reader", None, utc(2026, 1, 1, 10, 0)),  # a guest, "2 Hours Ago"
        ("771026", 15, "na_newbie", "99812", utc(2026, 1, 1, 11, 2)),  # "58 Minutes Ago"
    ]


def test_vbseo_post_parts_stay_in_their_own_post():
    tina, mike, deleted, guest, newbie = read("vb4-vbseo-postbit-page2.html").posts
    assert (tina.edited_by, tina.edited_at) == ("turbo_tina", utc(2021, 3, 4, 3, 41))
    assert tina.signature == "1999 NB, GT2560R, 14 psi"
    assert tina.images == ["https://i.imgur.example/coupler.jpg"]  # the smilie is no image
    assert "throttle body coupler" in tina.body_text
    assert mike.quotes == [
        {"author": "turbo_tina", "post_id": "771011", "text": "The leak is at the throttle body coupler."},
        {"author": "some_guy", "post_id": None, "text": "Use silicone couplers only."},
        {"author": None, "post_id": None, "text": "Torque spec is 5 Nm for those clamps."},
    ]
    assert mike.body_text == "Swap the T-bolt clamp for a constant-tension one.\nAgreed on silicone.\nThat is from the service manual."
    assert mike.images == ["https://www.boostclub.example/forum/attachments/engine-tech/5521d1614830000-clamp.jpg"]
    assert (mike.edited_by, mike.signature) == (None, None)
    assert (deleted.is_deleted, deleted.body_text) == (True, None)
    assert (guest.is_deleted, guest.body_text) == (False, "Did that fix it for you?")
    assert newbie.body_text == "First post here, same coupler popped off on my NA."


def test_vbseo_thread_identity_pages_and_crumbs():
    thread = read("vb4-vbseo-postbit-page2.html")
    assert (thread.thread_id, thread.title) == ("12345", "Boost leak after intercooler swap")
    assert (thread.page, thread.page_count) == (2, 3)
    assert thread.next_page == "https://www.boostclub.example/forum/engine-tech/12345-boost-leak-after-intercooler-swap-3.html"
    assert thread.forum_path == ["Technical", "Engine Tech"]


def test_the_vbseo_forum_root_crumb_is_no_forum():
    """The home crumb points at the site, the "Forums" crumb at the forum root ``/forum/`` (the page's
    ``<base href>``): only the crumbs below it are forums."""
    thread = read("vb4-vbseo-forum-root-crumb.html")
    assert thread.forum_path == ["Technical", "Engine Tech"]
