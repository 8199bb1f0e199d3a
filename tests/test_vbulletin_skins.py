"""vBulletin skins the engine must read without knowing them: pages written here in the markup each
vBulletin template prints (vB3 postbit, postbit_legacy inside postbit_wrapper, vB4 postbit with the
"noavatar" user block, vB4 postbitlegacy/postbitim, Internet Brands' skin), a customised German
vBulletin 4 skin (fixtures/vbulletin-skins/), every member URL form, every way a post number is printed,
and posts nested hundreds to thousands of levels deep."""

import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest
from scrapy.http import HtmlResponse

from miata_spiders.dates import DateResolver
from miata_spiders.engines import vbulletin

SKINS = Path(__file__).resolve().parents[1] / "fixtures" / "vbulletin-skins"


def parse(html: str | bytes, url: str, now: datetime, tz: str = "UTC"):
    body = html.encode("utf-8") if isinstance(html, str) else html
    return vbulletin.parse_thread_page(HtmlResponse(url=url, body=body), url, DateResolver(tz=tz, now=now))


def utc(*args):
    return datetime(*args, tzinfo=timezone.utc)


def page(posts: str, generator: str = "vBulletin 3.8.11", footer: str = "All times are GMT. The time now is",
         head: str = "", crumbs: str = "") -> str:
    return (f'<html><head><meta http-equiv="Content-Type" content="text/html; charset=UTF-8" />'
            f'<meta name="generator" content="{generator}" />{head}<title>Clutch slips</title></head><body>{crumbs}'
            f'<div id="posts">{posts}</div>'
            f'<div class="smallfont" align="center">{footer} <span class="time">10:20 AM</span>.</div></body></html>')


# --- vBulletin 3.8 ---------------------------------------------------------------------------------

def vb3_postbit(pid, n, date, user, message, sig="", edit=""):
    """vB3 "postbit" (user info above the message), wrapped in postbit_wrapper's div#edit{id}."""
    name, uid = user
    sig_html = f'<!-- sig --><div>__________________<br />{sig}</div><!-- / sig -->' if sig else ""
    edit_html = (f'<!-- edit note --><div class="smallfont"><hr size="1" /><em>{edit}</em></div><!-- / edit note -->'
                 if edit else "")
    return f'''
<div id="edit{pid}" style="padding:0px 0px 6px 0px">
<!-- this is not the last post shown on the page -->
<table id="post{pid}" class="tborder" cellpadding="6" cellspacing="0" border="0" width="100%" align="center">
<tr><td class="thead">
  <div class="normal" style="float:right">&nbsp;#<a href="showpost.php?p={pid}&amp;postcount={n}" target="new"
   rel="nofollow" id="postcount{pid}" name="{n}"><strong>{n}</strong></a> &nbsp;</div>
  <div class="normal"><!-- status icon and date --><a name="post{pid}"><img class="inlineimg"
   src="images/statusicon/post_old.gif" alt="Old" border="0" /></a> {date} <!-- / status icon and date --></div>
</td></tr>
<tr><td class="alt2" style="padding:0px"><!-- user info -->
  <table cellpadding="0" cellspacing="6" border="0" width="100%"><tr>
    <td nowrap="nowrap"><div id="postmenu_{pid}"><a class="bigusername" href="member.php?u={uid}">{name}</a>
      <script type="text/javascript"> vbmenu_register("postmenu_{pid}", true); </script></div>
      <div class="smallfont">Senior Member</div></td>
    <td width="100%">&nbsp;</td>
    <td valign="top" nowrap="nowrap"><div class="smallfont"><div>Join Date: Mar 2011</div><div>Posts: 1,204</div></div></td>
  </tr></table><!-- / user info -->
</td></tr>
<tr><td class="alt1" id="td_post_{pid}">
  <!-- message --><div id="post_message_{pid}">{message}</div><!-- / message -->
  {sig_html}{edit_html}
  <div style="margin-top: 10px" align="right"><!-- controls --><a href="newreply.php?do=newreply&amp;p={pid}"
   rel="nofollow"><img src="images/buttons/quote.gif" alt="Reply With Quote" border="0" /></a><!-- / controls --></div>
</td></tr>
</table>
</div>'''


def vb3_quote(inner: str, name: str | None = None, post_id: str | None = None, label: str = "Quote:",
              posted_by: str = "Originally Posted by") -> str:
    """vB3 bbcode_quote: a "Quote:" label over a table whose td.alt2 holds the attribution and the text."""
    attribution = ""
    if name:
        link = (f' <a href="showthread.php?p={post_id}#post{post_id}" rel="nofollow"><img class="inlineimg" '
                f'src="images/buttons/viewpost.gif" border="0" alt="View Post" /></a>') if post_id else ""
        attribution = f'<div>{posted_by} <strong>{name}</strong>{link}</div>'
    return (f'<div style="margin:20px; margin-top:5px; "><div class="smallfont" style="margin-bottom:2px">{label}</div>'
            f'<table cellpadding="6" cellspacing="0" border="0" width="100%"><tr><td class="alt2" style="border:1px inset">'
            f'{attribution}<div style="font-style:italic">{inner}</div></td></tr></table></div>')


VB3_URL = "https://forum.example.org/vb/showthread.php?t=4242"
VB3_CRUMBS = ('<table><tr><td class="navbar"><span class="navbar"><a href="index.php" accesskey="1">Example Forums</a></span>'
              '<span class="navbar">&gt; <a href="forumdisplay.php?f=3">Technical</a></span>'
              '<span class="navbar">&gt; <a href="forumdisplay.php?f=12">Drivetrain</a></span></td></tr>'
              '<tr><td class="navbar"><strong>Clutch slips</strong></td></tr></table>')


def test_vb3_postbit_layout_inside_postbit_wrapper():
    posts = (vb3_postbit("501", 1, "Today, 09:14 AM", ("ann", "7"), "The clutch slips in third.",
                         sig="'97 M edition", edit="Last edited by ann; Today at <span class=\"time\">09:30 AM</span>.")
             + vb3_postbit("502", 2, "03-03-2021, 10:05 PM", ("bob", "8"),
                           vb3_quote("The clutch slips in third.", "ann", "501") + "Check the slave cylinder."))
    thread = parse(page(posts, crumbs=VB3_CRUMBS), VB3_URL, utc(2021, 3, 4, 12, 0))
    first, second = thread.posts
    assert (first.post_id, first.position, first.author, first.author_id) == ("501", 1, "ann", "7")
    assert first.posted_at == utc(2021, 3, 4, 9, 14)
    assert (first.edited_by, first.edited_at) == ("ann", utc(2021, 3, 4, 9, 30))
    assert first.signature == "'97 M edition"
    assert first.url == "https://forum.example.org/vb/showpost.php?p=501&postcount=1"
    assert (second.position, second.author, second.posted_at) == (2, "bob", utc(2021, 3, 3, 22, 5))
    assert (second.edited_by, second.signature) == (None, None)  # the first post's note and signature stay there
    assert second.quotes == [{"author": "ann", "post_id": "501", "text": "The clutch slips in third."}]
    assert second.body_text == "Check the slave cylinder."
    assert (thread.thread_id, thread.forum_id, thread.forum_path) == ("4242", "12", ["Technical", "Drivetrain"])


def test_vb3_quotes_in_another_language_keep_author_and_post_id():
    message = (vb3_quote("Die Kupplung rutscht.", "nils", "77", label="Zitat:", posted_by="Zitat von")
               + vb3_quote("Ohne Namen.", label="Zitat:")
               + '<div style="margin:20px; margin-top:5px"><div class="smallfont" style="margin-bottom:2px">Code:</div>'
                 '<pre class="alt2" dir="ltr">ecu.reset()</pre></div>'
               + "Neue Druckplatte.")
    thread = parse(page(vb3_postbit("9", 4, "03.03.2011, 14:17", ("sabine", "502"), message),
                        footer="Alle Zeitangaben in WEZ +1. Es ist jetzt"), VB3_URL, utc(2011, 3, 5, 12, 0))
    post = thread.posts[0]
    assert [(q["author"], q["post_id"], q["text"]) for q in post.quotes] == [
        ("nils", "77", "Die Kupplung rutscht."), (None, None, "Ohne Namen.")]
    assert post.body_text == "Code:\n\necu.reset()\n\nNeue Druckplatte."  # a code box is the poster's own
    assert post.posted_at == utc(2011, 3, 3, 13, 17)  # day first, in the footer's WEZ +1


# --- Internet Brands' vBulletin 3.8/3.9 skin -------------------------------------------------------

def ib_post(pid, n, date, user, message):
    name, href = user
    return f'''
<div id="edit{pid}"><!-- this is not the last post shown on the page -->
<div id="post{pid}"><div class="tpost"><div class="trow-group">
  <div class="trow thead smallfont">
    <div class="tcell" style="width:175px;"><!-- status icon and date -->
      <a name="post{pid}"><img class="inlineimg" src="https://www.example-ib.com/images/statusicon/post_old.gif" alt="Old" /></a>
      {date}
      <!-- / status icon and date --></div>
    <div class="tcell text-right">&nbsp; #<a href="https://www.example-ib.com/{pid}-post{n}.html" target="new" rel="nofollow"
      id="postcount{pid}" name="{n}"><strong>{n}</strong></a> (<b><a href="https://www.example-ib.com/engine-56/boost-97412/#post{pid}"
      title="Link to this Post">permalink</a></b>) &nbsp;</div>
  </div>
  <div class="trow">
    <div class="tcell alt2" style="width:175px;">
      <div id="postmenu_{pid}"><a rel="nofollow" class="bigusername" href="{href}">{name}</a></div>
      <div class="smallfont">&nbsp;<br /><div>Join Date: Jan 2015</div><div>Posts: 388</div></div>
    </div>
    <div class="tcell alt1" id="td_post_{pid}"><!-- message --><div id="post_message_{pid}">{message}</div><!-- / message --></div>
  </div>
</div></div></div>
</div>'''


def test_ib_dates_with_a_bar_and_pprune_ordinal_dates():
    posts = (ib_post("1001", 1, "Mar 3, 2021 | 10:05 PM", ("dan", "https://www.example-ib.com/members/na8c_dan-41877/"), "First.")
             + ib_post("1002", 2, "Today | 09:14 AM", ("tina", "https://www.example-ib.com/members/turbo_tina-22019/"), "Second.")
             + ib_post("1003", 3, "12th Jun 2025, 08:57", ("pat", "https://www.example-ib.com/members/125757-pat"), "Third."))
    crumbs = ''.join(
        f'<span itemprop="itemListElement" itemscope itemtype="http://schema.org/ListItem"><a href="{href}" itemprop="item">'
        f'<span itemprop="name">{title}</span></a><meta itemprop="position" content="{i}" /></span>'
        for i, (title, href) in enumerate([("Example IB", "https://www.example-ib.com/"),
                                           ("Tech", "https://www.example-ib.com/tech-3/"),
                                           ("Engine", "https://www.example-ib.com/engine-56/")], 1))
    url = "https://www.example-ib.com/engine-56/boost-97412/"
    thread = parse(page(posts, generator="vBulletin 3.8.7", crumbs=crumbs, footer="All times are GMT -5. The time now is"),
                   url, utc(2025, 6, 20, 18, 0))
    assert [(p.position, p.author_id, p.posted_at) for p in thread.posts] == [
        (1, "41877", utc(2021, 3, 4, 3, 5)),  # GMT -5
        (2, "22019", utc(2025, 6, 20, 14, 14)),  # "Today" is the 20th where the page was rendered (GMT -5)
        (3, "125757", utc(2025, 6, 12, 13, 57)),
    ]
    assert thread.posts[0].url == "https://www.example-ib.com/engine-56/boost-97412/#post1001"
    assert (thread.thread_id, thread.forum_id, thread.forum_path) == ("97412", "56", ["Tech", "Engine"])


# --- vBulletin 4 -----------------------------------------------------------------------------------

def vb4_postbit(pid, n, date, time, user_link, message, layout="postbit", details="postdetails_noavatar",
                userinfo="userinfo_noavatar", after=""):
    return f'''
<li class="{layout} postcontainer old" id="post_{pid}">
  <div class="posthead">
    <span class="postdate old"><span class="date">{date}&nbsp;<span class="time">{time}</span></span></span>
    <span class="nodecontrols"><a name="post{pid}" href="showthread.php?77-Clutch-slips&amp;p={pid}&amp;viewfull=1#post{pid}"
      class="postcounter">#{n}</a><a id="postcount{pid}" name="{n}"></a></span>
  </div>
  <div class="{details}">
    <div class="{userinfo}">
      <div class="contact"><div class="username_container"><div class="popupmenu memberaction">{user_link}</div></div>
        <span class="usertitle">Member</span></div>
      <div class="userinfo_extra"><dl class="stats"><dt>Join Date</dt><dd>Jan 2012</dd><dt>Posts</dt><dd>311</dd></dl></div>
    </div>
    <div class="postbody"><div class="postrow"><div class="content">
      <div id="post_message_{pid}"><blockquote class="postcontent restore">{message}</blockquote></div>
    </div></div>
    <div class="after_content">{after}</div></div>
  </div>
  <div class="postfoot"><div class="textcontrols floatcontainer"><span class="postcontrols">
    <a id="qrwq_{pid}" class="newreply" href="newreply.php?do=newreply&amp;p={pid}" rel="nofollow">Reply With Quote</a></span></div></div>
</li>'''


VB4_URL = "https://club.example.net/forum/showthread.php?77-Clutch-slips"


@pytest.mark.parametrize("layout, details, userinfo", [
    ("postbit", "postdetails_noavatar", "userinfo_noavatar"),
    ("postbit", "postdetails", "userinfo"),
    ("postbitlegacy postbitim", "postdetails", "userinfo"),
    ("postbitlegacy", "postdetails_noavatar", "userinfo_noavatar"),
])
def test_vb4_postbit_layouts(layout, details, userinfo):
    quote = ('<div class="bbcode_container"><div class="bbcode_quote"><div class="quote_container">'
             '<div class="bbcode_quote_container"></div><div class="bbcode_postedby"><img src="images/misc/quote_icon.png" '
             'alt="Quote" /> Originally Posted by <strong>roadster_ray</strong> <a href="showthread.php?p=8801#post8801" '
             'rel="nofollow"><img class="inlineimg" src="images/buttons/viewpost-right.png" alt="View Post" /></a></div>'
             '<div class="message">Slips when hot.</div></div></div></div>')
    posts = (vb4_postbit("8801", 1, "03-03-2021,", "10:05 PM",
                         '<a class="username offline popupctrl" href="member.php/1201-roadster-ray"><strong>roadster_ray</strong></a>',
                         "Slips when hot.", layout, details, userinfo,
                         after='<blockquote class="postcontent lastedited">Last edited by roadster_ray; 03-03-2021 at '
                               '<span class="time">10:30 PM</span>.</blockquote>'
                               '<blockquote class="signature restore"><div class="signaturecontainer">NA 1.6</div></blockquote>')
             + vb4_postbit("8802", 2, "Yesterday,", "07:10 PM",
                           '<a class="username online popupctrl" href="members/55-hyperlite/"><strong>hyperlite</strong></a>',
                           quote + "Adjust the pedal free play.", layout, details, userinfo)
             + vb4_postbit("8803", 3, "Today,", "08:01 AM", '<span class="username guest">passing_guest</span>',
                           "Same here.", layout, details, userinfo))
    crumbs = ('<div id="breadcrumb" class="breadcrumb"><ul class="floatcontainer">'
              '<li class="navbithome"><a href="index.php" accesskey="1"><img src="images/misc/navbit-home.png" alt="Home" /></a></li>'
              '<li class="navbit"><a href="forum.php">Forum</a></li>'
              '<li class="navbit"><a href="forumdisplay.php?2-Technical">Technical</a></li>'
              '<li class="navbit"><a href="forumdisplay.php?7-NA-NB-Tech">NA/NB Tech</a></li>'
              '<li class="navbit lastnavbit"><span> Clutch slips</span></li></ul></div>')
    head = '<base href="https://club.example.net/forum/" />'
    thread = parse(page(posts, generator="vBulletin 4.2.5", crumbs=crumbs, head=head,
                        footer="All times are GMT -5. The time now is"), VB4_URL, utc(2021, 3, 5, 18, 0))
    first, second, guest = thread.posts
    assert [(p.position, p.author, p.author_id) for p in thread.posts] == [
        (1, "roadster_ray", "1201"), (2, "hyperlite", "55"), (3, "passing_guest", None)]
    assert [p.posted_at for p in thread.posts] == [utc(2021, 3, 4, 3, 5), utc(2021, 3, 5, 0, 10), utc(2021, 3, 5, 13, 1)]
    assert (first.edited_by, first.edited_at, first.signature) == ("roadster_ray", utc(2021, 3, 4, 3, 30), "NA 1.6")
    assert (second.edited_by, second.signature) == (None, None)
    assert second.quotes == [{"author": "roadster_ray", "post_id": "8801", "text": "Slips when hot."}]
    assert second.body_text == "Adjust the pedal free play."
    assert first.url == "https://club.example.net/forum/showthread.php?77-Clutch-slips&p=8801&viewfull=1#post8801"
    assert (thread.thread_id, thread.forum_id, thread.forum_path) == ("77", "7", ["Technical", "NA/NB Tech"])


def test_customised_german_vb4_skin():
    """Date in the user-info column (no span.date), SEO member URLs members/N_name.html without the
    username class, "Zitat von" quotes, "Heute", a German edit note, vBSEO forum crumbs without ids and
    the footer "Alle Zeitangaben in WEZ +1"."""
    url = "https://www.roadster-treff.example/forum/technik-allgemein/4711-kupplung-rutscht-beim-nb.html"
    thread = parse((SKINS / "vb4-german-custom-postbit.html").read_bytes(), url, utc(2011, 3, 5, 14, 5))
    first, second = thread.posts
    assert (first.position, first.author, first.author_id, first.posted_at) == (1, "nb_nils", "71187", utc(2011, 3, 3, 13, 17))
    assert (first.edited_by, first.edited_at) == ("nb_nils", utc(2011, 3, 3, 13, 40))
    assert first.signature == "NB 1.8 Sport, Bj. 2001"
    assert first.images == ["https://www.roadster-treff.example/forum/attachment.php?attachmentid=5521&d=1299158220"]
    assert (second.position, second.author, second.author_id) == (2, "schrauber_sabine", "502")
    assert second.posted_at == utc(2011, 3, 5, 13, 17)  # "Heute, 14:17" at WEZ +1
    assert second.quotes == [{"author": "nb_nils", "post_id": "90001",
                              "text": "seit dem Wechsel der Kupplung rutscht sie im dritten Gang"}]
    assert second.body_text == "Welche Kupplung ist verbaut? Wurde das Schwungrad plan geschliffen?"
    assert (second.edited_by, second.signature) == (None, None)
    assert (thread.thread_id, thread.title) == ("4711", "Kupplung rutscht beim NB")
    # every forum crumb, though vBSEO's forum URLs carry no id (so there is no forum id to give)
    assert (thread.forum_path, thread.forum_id) == (["Technik", "Technik allgemein"], None)


def test_post_number_printed_as_plain_text():
    """A skin without postcount anchors or a.postcounter: "#3" in the post head is the position; the
    date sits in the user-info column."""
    post = '''<li class="postbitlegacy postcontainer" id="post_3003">
      <div class="posthead"><span class="postnr">#3</span></div>
      <div class="postdetails"><div class="userinfo">
        <a class="memberlink" href="members/marta.4410/">marta</a><div class="joined">Registriert seit: 03.2010</div>
        <div class="postzeit">Gestern, 22:05</div></div>
      <div class="postbody"><div id="post_message_3003"><blockquote class="postcontent">Danke!</blockquote></div></div></div>
    </li>'''
    thread = parse(page(post, generator="vBulletin 4.2.2"), VB4_URL, utc(2011, 3, 5, 12, 0))
    (only,) = thread.posts
    assert (only.position, only.author, only.author_id, only.posted_at) == (3, "marta", "4410", utc(2011, 3, 4, 22, 5))


@pytest.mark.parametrize("href, member_id", [
    ("member.php?u=183377", "183377"),
    ("member.php?s=0123456789abcdef0123456789abcdef&u=5", "5"),
    ("member.php/1201-roadster-ray", "1201"),
    ("member.php?1201-roadster-ray", "1201"),
    ("https://club.example.net/members/55-hyperlite/", "55"),
    ("https://forum.example.com/members/marta.4410/", "4410"),
    ("https://www.example-ib.com/members/na8c_dan-41877/", "41877"),
    ("https://www.roadster-treff.example/forum/members/71187_nb_nils.html", "71187"),
    ("https://www.pprune.org/members/476068-rationalfunctions", "476068"),
    ("https://www.example.com/forum/members/nb_nils.html", None),  # vBSEO without the id: none to give
])
def test_member_ids_from_every_url_form(href, member_id):
    assert vbulletin.member_id_from_url(href) == member_id


def test_one_post_that_cannot_be_read_costs_none_of_its_neighbours(monkeypatch):
    broken = vbulletin.VBulletinFields.signature

    def signature(self, node):
        if self.pid(node) == "502":
            raise ValueError("hostile markup")
        return broken(self, node)

    monkeypatch.setattr(vbulletin.VBulletinFields, "signature", signature)
    posts = "".join(vb3_postbit(str(pid), n, "03-03-2021, 10:05 PM", ("ann", "7"), f"Post {n}.")
                    for n, pid in enumerate((501, 502, 503), 1))
    thread = parse(page(posts), VB3_URL, utc(2021, 3, 4))
    assert [p.post_id for p in thread.posts] == ["501", "503"]
    assert thread.parse_errors == 1


def test_posts_nested_by_an_unclosed_element_keep_their_own_fields():
    """A skin that leaves a <div> open in a message makes the HTML parser nest every following post
    inside it: each post still gets only its own text, date, author and edit note."""
    first = vb3_postbit("601", 1, "03-03-2021, 10:05 PM", ("ann", "7"), "<div>Unclosed box. ",
                        edit='Last edited by ann; 03-03-2021 at <span class="time">11:00 PM</span>.')
    second = vb3_postbit("602", 2, "03-04-2021, 08:00 AM", ("bob", "8"), "Reply text.", sig="bob's sig")
    thread = parse(page(first + second), VB3_URL, utc(2021, 3, 5))
    one, two = thread.posts
    assert "Reply text" not in one.body_text and one.body_text.startswith("Unclosed box.")
    assert (one.author, one.posted_at, one.signature) == ("ann", utc(2021, 3, 3, 22, 5), None)
    assert (two.author, two.posted_at, two.body_text, two.signature) == ("bob", utc(2021, 3, 4, 8, 0), "Reply text.", "bob's sig")
    assert two.edited_by is None


# --- deep nesting ----------------------------------------------------------------------------------

def nested(depth: int, open_quote, close_quote) -> str:
    """``depth`` quotes each inside the one before (built from both ends: no quadratic string growth)."""
    opening = [open_quote(level) for level in reversed(range(depth))]
    closing = [close_quote(level) for level in range(depth)]
    return "".join(opening) + "innermost words" + "".join(closing)


def nested_vb3_quotes(depth: int) -> str:
    return nested(depth, lambda level: (
        '<div style="margin:20px; margin-top:5px; "><div class="smallfont" style="margin-bottom:2px">Quote:</div>'
        '<table cellpadding="6" cellspacing="0" border="0" width="100%"><tr><td class="alt2" style="border:1px inset">'
        f'<div>Originally Posted by <strong>user{level}</strong> <a href="showthread.php?p={level + 1}#post{level + 1}" '
        'rel="nofollow"><img class="inlineimg" src="images/buttons/viewpost.gif" border="0" alt="View Post" /></a></div>'
        '<div style="font-style:italic">'),
        lambda level: f" level {level}</div></td></tr></table></div>reply {level}")


def nested_vb4_quotes(depth: int) -> str:
    return nested(depth, lambda level: (
        '<div class="bbcode_container"><div class="bbcode_quote"><div class="quote_container">'
        f'<div class="bbcode_postedby">Originally Posted by <strong>user{level}</strong> '
        f'<a href="showthread.php?p={level + 1}#post{level + 1}" rel="nofollow">View Post</a></div>'
        '<div class="message">'),
        lambda level: f" level {level}</div></div></div></div>reply {level}")


def flat_vb3_quotes(count: int) -> str:
    return "".join(vb3_quote(f"words level {level}", f"user{level}", str(level + 1)) + f"reply {level}"
                   for level in range(count))


def deep_page(message: str) -> bytes:
    posts = "".join(vb3_postbit(pid, n, "03-03-2021, 10:05 PM", ("ann", "7"), text)
                    for n, (pid, text) in enumerate([("701", "Before."), ("702", message), ("703", "After.")], 1))
    return page(posts).encode()


def python_calls(function) -> int:
    """How many Python and C functions ``function`` calls: a deterministic measure of work."""
    calls = 0

    def count(frame, event, arg):
        nonlocal calls
        if event in ("call", "c_call"):
            calls += 1
    sys.setprofile(count)
    try:
        function()
    finally:
        sys.setprofile(None)
    return calls


@pytest.mark.parametrize("nest", [nested_vb3_quotes, nested_vb4_quotes], ids=["vb3", "vb4"])
def test_300_nested_quotes_parse_whole_each_quote_once(nest):
    body = deep_page(nest(300))
    thread = parse(body, VB3_URL, utc(2021, 3, 5))
    assert [p.post_id for p in thread.posts] == ["701", "702", "703"]
    assert vbulletin.ENGINE.missing_posts(body, thread) == 0
    quotes = thread.posts[1].quotes
    assert len(quotes) == 300
    # outermost first; each quote's text is its own, without the quotes inside it
    assert (quotes[0]["author"], quotes[0]["post_id"], quotes[0]["text"]) == ("user299", "300", "reply 298 level 299")
    assert (quotes[-1]["author"], quotes[-1]["text"]) == ("user0", "innermost words level 0")
    assert thread.posts[1].body_text == "reply 299"


def test_nested_quotes_cost_what_the_same_quotes_side_by_side_cost():
    """Linear in the page's size, whatever its depth: reading 300 quotes nested in each other takes no
    more work than reading 300 quotes one after the other (the old code was cubic in the depth)."""
    nested, flat = deep_page(nested_vb3_quotes(300)), deep_page(flat_vb3_quotes(300))
    assert abs(len(nested) - len(flat)) < len(flat) * 0.05

    def work(body):
        response = HtmlResponse(url=VB3_URL, body=body)
        response.selector  # the HTML parse itself is lxml's, not ours
        return python_calls(lambda: vbulletin.parse_thread_page(response, VB3_URL, DateResolver(now=utc(2021, 3, 5))))
    assert work(nested) < 1.3 * work(flat)


@pytest.mark.parametrize("depth", [1000, 5000])
def test_a_tree_lxml_cut_short_is_reported_never_silently_complete(depth):
    """Past about 2,000 levels lxml stops building the tree: the later posts vanish from it. The engine
    must not call such a page complete: the raw markup names posts the parsed page lacks."""
    body = deep_page(nested_vb3_quotes(depth))
    thread = parse(body, VB3_URL, utc(2021, 3, 5))
    assert [p.post_id for p in thread.posts][:1] == ["701"]
    if "703" not in [p.post_id for p in thread.posts]:
        assert vbulletin.ENGINE.missing_posts(body, thread) > 0
    else:
        assert vbulletin.ENGINE.missing_posts(body, thread) == 0 and len(thread.posts[1].quotes) == depth
