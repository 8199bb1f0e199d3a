"""Quotes printed by a style's own quote template: vBulletin lets every style rewrite bbcode_quote, so
a quote is the message's block whose class names a quote (``div.quote``, ``blockquote.bbquote``) as
well as the stock vBulletin 3 and 4 shapes; vBulletin 4's printable quote has no quote_container.
Quoted words never count as the poster's own."""

from tests.test_vbulletin_skins import SKINS, VB4_URL, page, parse, utc, vb4_postbit

URL = "https://www.naowners.example/forums/showthread.php?t=880"


def test_restyled_vb3_quote_templates():
    thread = parse((SKINS / "vb3-custom-quote-templates.html").read_bytes(), URL, utc(2026, 1, 1, 12, 0))
    first, second, third = thread.posts
    assert (first.author, first.author_id, first.posted_at) == ("hardtop_hank", "41", utc(2009, 11, 21, 1, 15))
    assert second.quotes == [
        {"author": "hardtop_hank", "post_id": "5501", "text": "rattles at the front latches over bumps"},
        {"author": "shop_manual", "post_id": None, "text": "Turn the latch striker clockwise to tighten."},
    ]
    assert second.body_text == "Adjust the latch hooks a quarter turn first.\n\nThen add felt tape."
    assert second.images == []  # the quote's "View Post" button is no image of the post
    assert second.signature == "'92 NA, factory hardtop"
    assert third.quotes == [{"author": "latch_larry", "post_id": "5507",
                             "text": "Adjust the latch hooks a quarter turn first."}]
    assert third.body_text == "That did it, thanks."


def test_vb4_printable_quote():
    printable = ('<div class="bbcode_container"><div class="bbcode_quote printable"><hr /><div>Originally Posted by '
                 '<strong>roadster_ray</strong><a href="showthread.php?p=8801#post8801" rel="nofollow"><img class="inlineimg" '
                 'src="images/buttons/viewpost.gif" alt="View Post" /></a></div><div class="message">Slips when hot.</div>'
                 '<hr /></div></div>')
    post = vb4_postbit("8802", 2, "Today,", "08:01 AM", '<a class="username" href="member.php?u=5"><strong>hyperlite</strong></a>',
                       printable + "Own words.")
    (only,) = parse(page(post, generator="vBulletin 4.2.5"), VB4_URL, utc(2021, 3, 5, 18, 0)).posts
    assert only.quotes == [{"author": "roadster_ray", "post_id": "8801", "text": "Slips when hot."}]
    assert (only.body_text, only.images) == ("Own words.", [])


def test_an_indent_blockquote_stays_the_posters_own_text():
    """[INDENT] renders as a bare <blockquote>: the poster's words, not a quote."""
    post = vb4_postbit("8803", 3, "Today,", "08:05 AM", '<a class="username" href="member.php?u=5"><strong>hyperlite</strong></a>',
                       "Steps:<blockquote><div>Loosen the clamp.</div></blockquote>Done.")
    (only,) = parse(page(post, generator="vBulletin 4.2.5"), VB4_URL, utc(2021, 3, 5, 18, 0)).posts
    assert only.quotes == []
    assert "Loosen the clamp." in only.body_text
