"""The phpBB engine on the variants of phpBB's markup it must read, each written here in the software's
real template output: prosilver 3.3 on a German board, prosilver without avatars or with the author
only in the profile column (mobile styles), subsilver2 (3.0's table layout), localised cites, edit
notes and footers, login walls, one post that breaks, and quotes nested 300, 1,000 and 5,000 deep."""

from datetime import datetime, timedelta, timezone

import pytest
from parsel import Selector
from scrapy.http import HtmlResponse

from miata_spiders.dates import DateResolver
from miata_spiders.engines import phpbb

NOW = datetime(2026, 1, 10, 12, 0, tzinfo=timezone.utc)
BOARD = "https://forum.roadster.example/forum"


def response(html: str, url: str) -> HtmlResponse:
    return HtmlResponse(url=url, body=html.encode("utf-8"), headers={"Content-Type": "text/html; charset=UTF-8"})


def prosilver33(posts: str, footer: str, title: str = "Verdeck klemmt", start: str = "") -> str:
    """A phpBB 3.3 prosilver viewtopic page around ``posts``."""
    return f"""<!DOCTYPE html>
<html dir="ltr" lang="de"><head><meta charset="utf-8" /><title>{title} - Roadster Forum</title>
<link rel="canonical" href="{BOARD}/viewtopic.php?t=77{start}"></head>
<body id="phpbb" class="nojs notouch section-viewtopic ltr ">
<div id="wrap" class="wrap">
<div class="navbar"><ul id="nav-breadcrumbs" class="nav-breadcrumbs linklist navlinks" role="menubar">
<li class="breadcrumbs" itemscope itemtype="https://schema.org/BreadcrumbList">
<span class="crumb"><a href="./index.php" itemprop="item" data-navbar-reference="index"><span itemprop="name">Foren-Übersicht</span></a></span>
<span class="crumb" data-forum-id="3"><a href="./viewforum.php?f=3" itemprop="item"><span itemprop="name">Technik</span></a></span>
<span class="crumb" data-forum-id="9"><a href="./viewforum.php?f=9" itemprop="item"><span itemprop="name">Karosserie &amp; Verdeck</span></a></span>
</li></ul></div>
<div id="page-body" class="page-body" role="main">
<h2 class="topic-title"><a href="./viewtopic.php?t=77">{title}</a></h2>
<div class="action-bar bar-top"><div class="pagination">2 Beiträge &bull; Seite <strong>1</strong> von <strong>1</strong></div></div>
{posts}
</div>
<div id="page-footer" class="page-footer" role="contentinfo"><div class="navbar" role="navigation"><div class="inner">
<ul id="nav-footer" class="nav-footer linklist" role="menubar"><li class="rightside">{footer}</li></ul>
</div></div></div></div></body></html>"""


def prosilver33_post(post_id, author_html, when_iso, when_text, content, *, profile=None, notice="", sig=""):
    profile = profile if profile is not None else f"""<dl class="postprofile" id="profile{post_id}">
<dt class="has-profile-rank has-avatar"><div class="avatar-container"><a href="./memberlist.php?mode=viewprofile&amp;u=5" class="avatar"><img class="avatar" src="./download/file.php?avatar=5_1.jpg" width="90" height="90" alt="Benutzeravatar" /></a></div>
{author_html}</dt><dd class="profile-posts"><strong>Beiträge:</strong> 812</dd></dl>"""
    return f"""<div id="p{post_id}" class="post has-profile bg2"><div class="inner">
{profile}
<div class="postbody"><div id="post_content{post_id}">
<h3><a href="./viewtopic.php?p={post_id}#p{post_id}">Re: Verdeck klemmt</a></h3>
<p class="author"><a class="unread" href="./viewtopic.php?p={post_id}#p{post_id}" title="Beitrag"><i class="icon fa-file fa-fw icon-lightgray icon-md" aria-hidden="true"></i><span class="sr-only">Beitrag</span></a>
<span class="responsive-hide">von <strong>{author_html}</strong> &raquo; </span><time datetime="{when_iso}">{when_text}</time></p>
<div class="content">{content}</div>
{notice}{sig}
</div></div>
<div class="back2top"><a href="#top" class="top" title="Nach oben"><i class="icon fa-chevron-circle-up fa-fw icon-gray" aria-hidden="true"></i></a></div>
</div></div>"""


MARTINA = '<a href="./memberlist.php?mode=viewprofile&amp;u=5" class="username">Martina</a>'
KLAUS = '<a href="./memberlist.php?mode=viewprofile&amp;u=8" style="color: #00AA00;" class="username-coloured">Klaus W.</a>'

GERMAN_33 = prosilver33(
    prosilver33_post(
        "701", MARTINA, "2016-01-04T21:52:00+00:00", "Mo 4. Jan 2016, 22:52",
        "Das Verdeck klemmt links, sobald es unter 5 Grad ist.",
        sig='<div id="sig701" class="signature">NA 1.6 | Bj. 1991</div>')
    + prosilver33_post(
        "702", KLAUS, "2016-01-05T08:10:00+00:00", "Di 5. Jan 2016, 09:10",
        '<blockquote cite="./viewtopic.php?p=701#p701"><div><cite><a href="./memberlist.php?mode=viewprofile&amp;u=5">Martina</a> hat geschrieben: '
        '<a href="./viewtopic.php?p=701#p701" aria-label="Zitierten Beitrag anzeigen" data-post-id="701" onclick="if(document.getElementById(hash.substr(1)))href=hash">'
        '<i class="icon fa-arrow-circle-up fa-fw" aria-hidden="true"></i></a><span class="responsive-hide">Mo 4. Jan 2016, 22:52</span></cite>'
        'Das Verdeck klemmt links</div></blockquote>Die Führungsschienen fetten, dann läuft es wieder.',
        notice='<div class="notice">Zuletzt geändert von <a href="./memberlist.php?mode=viewprofile&amp;u=8" style="color: #00AA00;" '
               'class="username-coloured">Klaus W.</a> am Di 5. Jan 2016, 09:40, insgesamt 2-mal geändert.<br />'
               '<strong>Grund:</strong> <em>Tippfehler, 3 Stück</em></div>'),
    footer='Alle Zeiten sind <span title="Europe/Berlin">UTC+01:00</span>',
)


def test_prosilver_33_on_a_german_board():
    url = f"{BOARD}/viewtopic.php?t=77"
    page = phpbb.parse_thread_page(response(GERMAN_33, url), url, DateResolver(now=NOW))
    assert (page.thread_id, page.title, page.forum_id, page.forum_path) == (
        "77", "Verdeck klemmt", "9", ["Technik", "Karosserie & Verdeck"])
    assert (page.page, page.page_count, page.next_page, page.parse_errors) == (1, 1, None, 0)
    first, second = page.posts
    assert (first.post_id, first.position, first.author, first.author_id) == ("701", 1, "Martina", "5")
    assert first.posted_at == datetime(2016, 1, 4, 21, 52, tzinfo=timezone.utc)  # <time datetime>, UTC
    assert first.signature == "NA 1.6 | Bj. 1991" and "1991" not in first.body_text
    assert (second.author, second.author_id, second.position) == ("Klaus W.", "8", 2)
    # "hat geschrieben:" and the quoted post's date are the cite's, not the quote's text or author.
    assert second.quotes == [{"author": "Martina", "post_id": "701", "text": "Das Verdeck klemmt links"}]
    assert second.body_text == "Die Führungsschienen fetten, dann läuft es wieder."
    # "am Di 5. Jan 2016, 09:40" on a Europe/Berlin page: 08:40 UTC; the reason after <br> is no part of it.
    assert (second.edited_by, second.edited_at) == ("Klaus W.", datetime(2016, 1, 5, 8, 40, tzinfo=timezone.utc))
    assert first.edited_at is None and first.edited_by is None


@pytest.mark.parametrize("cite, author", [
    ("Martina wrote:", "Martina"),
    ("Weekend Wrencher wrote:", "Weekend Wrencher"),
    ("Martina schrieb:", "Martina"),
    ("Klaus W. hat geschrieben:", "Klaus W."),
    ("Jean-Luc a écrit :", "Jean-Luc"),
    ("Pepe escribió:", "Pepe"),
    ("Giulia ha scritto:", "Giulia"),
    ("Anneke heeft geschreven:", "Anneke"),
    ("Ola skrev:", "Ola"),
])
def test_quote_author_whatever_the_language(cite, author):
    post = prosilver33_post("5", MARTINA, "2016-01-04T21:52:00+00:00", "x",
                            f"<blockquote><div><cite>{cite}</cite>quoted words</div></blockquote>own words")
    url = f"{BOARD}/viewtopic.php?t=77"
    page = phpbb.parse_thread_page(Selector(text=prosilver33(post, "")), url, DateResolver(now=NOW))
    assert page.posts[0].quotes == [{"author": author, "post_id": None, "text": "quoted words"}]
    assert page.posts[0].body_text == "own words"


def test_quote_of_a_post_link_without_data_post_id():
    """A 3.2 board's cite links the quoted post by URL only: the id comes from its ``p=``."""
    post = prosilver33_post("5", MARTINA, "2016-01-04T21:52:00+00:00", "x",
                            '<blockquote><div><cite>Martina wrote: <a href="./viewtopic.php?p=640#p640">↑</a>'
                            '<div class="responsive-hide">Sun Jan 03, 2016 8:00 pm</div></cite>quoted</div></blockquote>reply')
    page = phpbb.parse_thread_page(Selector(text=prosilver33(post, "")), f"{BOARD}/viewtopic.php?t=77", DateResolver(now=NOW))
    assert page.posts[0].quotes == [{"author": "Martina", "post_id": "640", "text": "quoted"}]


@pytest.mark.parametrize("note, expected", [
    ('Last edited by <a href="./memberlist.php?mode=viewprofile&amp;u=5" class="username">Martina</a> on Mon Jan 04, 2016 10:52 pm, edited 1 time in total.',
     ("Martina", datetime(2016, 1, 4, 22, 52, tzinfo=timezone.utc))),
    ('Last edited by <a href="./memberlist.php?mode=viewprofile&amp;u=5" class="username">Martina</a> on 04 Jan 2016, 22:52, edited 3 times in total.',
     ("Martina", datetime(2016, 1, 4, 22, 52, tzinfo=timezone.utc))),
    ('Dernière édition par <a href="./memberlist.php?mode=viewprofile&amp;u=5">Martina</a> le lun. 4 janv. 2016 22:52, édité 2 fois.',
     ("Martina", datetime(2016, 1, 4, 22, 52, tzinfo=timezone.utc))),
    ('Última edición por <a href="./memberlist.php?mode=viewprofile&amp;u=5">Martina</a> el Lun Ene 04, 2016 10:52 pm, editado 1 vez en total',
     ("Martina", datetime(2016, 1, 4, 22, 52, tzinfo=timezone.utc))),
    # A guest's edit: no link, the English sentence.
    ("Last edited by Weekend Wrencher on Mon Jan 04, 2016 10:52 pm, edited 1 time in total.",
     ("Weekend Wrencher", datetime(2016, 1, 4, 22, 52, tzinfo=timezone.utc))),
    # A bump is not an edit (no count), nor is a notice of something else.
    ('Last bumped by <a href="./memberlist.php?mode=viewprofile&amp;u=5">Martina</a> on Mon Jan 04, 2016 10:52 pm.', (None, None)),
    ("This post was reported.", (None, None)),
])
def test_edit_notes(note, expected):
    post = prosilver33_post("5", MARTINA, "2016-01-04T21:52:00+00:00", "x", "text",
                            notice=f'<div class="notice">{note}</div>')
    page = phpbb.parse_thread_page(Selector(text=prosilver33(post, "All times are <span title=\"UTC\">UTC</span>")),
                                   f"{BOARD}/viewtopic.php?t=77", DateResolver(now=NOW))
    assert (page.posts[0].edited_by, page.posts[0].edited_at) == expected


def test_noavatar_and_mobile_variants():
    """A style without the profile column ("noavatar" boards) keeps the author in ``p.author``; a mobile
    style that prints only the date there keeps the member link in ``dl.postprofile``."""
    no_profile = prosilver33_post("801", MARTINA, "2016-01-04T21:52:00+00:00", "x", "ohne Avatar", profile="")
    mobile = f"""<div id="p802" class="post bg1"><div class="inner">
<dl class="postprofile" id="profile802"><dt><a href="./memberlist.php?mode=viewprofile&amp;u=8" class="username-coloured">Klaus W.</a></dt></dl>
<div class="postbody"><p class="author"><a href="./viewtopic.php?p=802#p802">#</a> &raquo; Mo 4. Jan 2016, 23:05</p>
<div class="content">vom Handy</div></div></div></div>"""
    page = phpbb.parse_thread_page(Selector(text=prosilver33(no_profile + mobile, 'Alle Zeiten sind <span title="Europe/Berlin">UTC+01:00</span>')),
                                   f"{BOARD}/viewtopic.php?t=77", DateResolver(now=NOW))
    first, second = page.posts
    assert (first.author, first.author_id, first.body_text) == ("Martina", "5", "ohne Avatar")
    assert (second.author, second.author_id, second.body_text) == ("Klaus W.", "8", "vom Handy")
    # Loose text in the board's language and zone (CET in January): 22:05 UTC.
    assert second.posted_at == datetime(2016, 1, 4, 22, 5, tzinfo=timezone.utc)
    assert second.url == f"{BOARD}/viewtopic.php?p=802"


# --- subsilver2 (phpBB 3.0 table layout) ---------------------------------------------------------

def subsilver2_post(post_id, row, name, member_id, posted, message, *, first_row=False, sig="", edited=""):
    header = "<tr><th>Author</th><th>Message</th></tr>" if first_row else ""
    signature = f'<span class="postbody"><br />_________________<br />{sig}</span>' if sig else ""
    note = f'<br /><br /><span class="gensmall">{edited}</span>' if edited else ""
    return f"""<table class="tablebg" width="100%" cellspacing="1">{header}
<tr class="row{row}">
<td align="center" valign="middle"><a name="p{post_id}"></a><b class="postauthor">{name}</b></td>
<td width="100%" height="25"><table width="100%" cellspacing="0"><tr>
<td class="gensmall" width="100%"><div style="float: left;">&nbsp;<b>Post subject:</b> <a href="#p{post_id}">Re: Soft top</a></div><div style="float: right;"><a href="./viewtopic.php?p={post_id}#p{post_id}"><img src="./styles/subsilver2/imageset/icon_post_target.gif" width="12" height="9" alt="Post" title="Post" /></a><b>Posted:</b> {posted}&nbsp;</div></td>
</tr></table></td></tr>
<tr class="row{row}">
<td valign="top" class="profile"><table cellspacing="4" align="center" width="150"><tr><td class="postdetails">Member</td></tr></table>
<span class="postdetails"><br /><b>Joined:</b> Sat Jan 15, 2005 3:02 pm<br /><b>Posts:</b> 8740</span></td>
<td valign="top"><table width="100%" cellspacing="5"><tr><td>
<div class="postbody">{message}</div>
{signature}{note}
<br clear="all" /><br />
<table width="100%" cellspacing="0"><tr valign="middle"><td class="gensmall" align="right"></td></tr></table>
</td></tr></table></td></tr>
<tr class="row{row}">
<td class="profile"><strong><a href="#wrapheader">Back to top</a></strong></td>
<td><div class="gensmall" style="float: left;">&nbsp;<a href="./memberlist.php?mode=viewprofile&amp;u={member_id}"><img src="./styles/subsilver2/imageset/en/icon_user_profile.gif" width="59" height="18" alt="Profile" title="Profile" /></a> &nbsp;</div>
<div class="gensmall" style="float: right;"><a href="./posting.php?mode=quote&amp;f=4&amp;p={post_id}"><img src="./styles/subsilver2/imageset/en/icon_post_quote.gif" alt="Reply with quote" title="Reply with quote" /></a> &nbsp;</div></td>
</tr>
<tr><td class="spacer" colspan="2" height="1"><img src="images/spacer.gif" alt="" width="1" height="1" /></td></tr>
</table>"""


SUBSILVER2_POSTS = (
    subsilver2_post("3101", 1, "hainz", "61", "Mon Jan 04, 2016 10:52 pm",
                 'Check the <a href="./viewtopic.php?p=2900#p2900" class="postlink">latch thread</a> first.',
                 first_row=True, sig="'91 BRG | <a href=\"http://example.org/build\" class=\"postlink\">build log</a>")
    + subsilver2_post("3104", 2, "miatamike", "77", "Tue Jan 05, 2016 8:15 am",
                 '<div class="quotetitle">hainz wrote:</div><div class="quotecontent">Check the latch thread first.</div>'
                 '<div class="quotetitle"><b>Quote:</b></div><div class="quotecontent">lube it</div>'
                 'Done both, it latches now. <img src="http://img.example.org/latch.jpg" alt="Image" />'
                 '<div class="codetitle"><b>Code:</b></div><div class="codecontent">torque 8 Nm</div>',
                 edited='Last edited by <a href="./memberlist.php?mode=viewprofile&amp;u=77">miatamike</a> on Tue Jan 05, 2016 9:00 am, edited 1 time in total.')
)

SUBSILVER2 = f"""<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml" dir="ltr" lang="en-gb" xml:lang="en-gb">
<head><meta http-equiv="content-type" content="text/html; charset=UTF-8" /><title>Roadster Garage &bull; View topic - Soft top won't latch</title>
<script type="text/javascript">
// <![CDATA[
	var onload_functions = new Array();
	var base_url = './viewtopic.php?f=4&amp;t=31&amp;start=20';
	var per_page = '10';
// ]]>
</script></head>
<body class="ltr">
<a name="top"></a>
<div id="wrapheader"></div>
<div id="wrapcentre">
<table class="tablebg" width="100%" cellspacing="1" cellpadding="0" style="margin-top: 5px;"><tr><td class="row1">
<p class="breadcrumbs"><a href="./index.php">Board index</a> <strong>&#187;</strong> <a href="./viewforum.php?f=2">Workshop</a> <strong>&#187;</strong> <a href="./viewforum.php?f=4">Hood &amp; Body</a></p>
<p class="datetime">All times are UTC - 5 hours [ <abbr title="Daylight Saving Time">DST</abbr> ]</p>
</td></tr></table>
<div id="pageheader"><h2><a class="titles" href="./viewtopic.php?f=4&amp;t=31">Soft top won't latch</a></h2></div>
<br clear="all" /><br />
<div id="pagecontent">
<table width="100%" cellspacing="1"><tr>
<td align="left" valign="middle" nowrap="nowrap"><a href="./posting.php?mode=reply&amp;f=4&amp;t=31">Post a reply</a></td>
<td class="nav" valign="middle" nowrap="nowrap">&nbsp;Page <strong>3</strong> of <strong>4</strong><br /></td>
<td class="gensmall" nowrap="nowrap">&nbsp;[ 32 posts ]&nbsp;</td>
<td class="gensmall" width="100%" align="right" nowrap="nowrap"><b><a href="#" onclick="jumpto(); return false;" title="Click to jump to page…">Goto page</a> <a href="./viewtopic.php?f=4&amp;t=31&amp;start=10">Previous</a>&nbsp;&nbsp;<a href="./viewtopic.php?f=4&amp;t=31">1</a><span class="page-sep">, </span><a href="./viewtopic.php?f=4&amp;t=31&amp;start=10">2</a><span class="page-sep">, </span><strong>3</strong><span class="page-sep">, </span><a href="./viewtopic.php?f=4&amp;t=31&amp;start=30">4</a>&nbsp;<a href="./viewtopic.php?f=4&amp;t=31&amp;start=30">Next</a></b></td>
</tr></table>
<table class="tablebg" width="100%" cellspacing="1"><tr><td class="cat"><table width="100%" cellspacing="0"><tr><td class="nav" nowrap="nowrap">&nbsp;<a href="./viewtopic.php?f=4&amp;t=31&amp;view=print" title="Print view">Print view</a></td></tr></table></td></tr></table>
{SUBSILVER2_POSTS}
</div></div>
<div id="wrapfooter"><span class="copyright">Powered by <a href="http://www.phpbb.com/">phpBB</a> &copy; 2000, 2002, 2005, 2007 phpBB Group</span></div>
</body></html>"""


def test_subsilver2_thread_page():
    url = "http://garage.roadster.example/phpBB3/viewtopic.php?f=4&t=31&start=20"
    sub = response(SUBSILVER2, url)
    assert phpbb.page_kind(sub) == "thread"
    page = phpbb.parse_thread_page(sub, url, DateResolver(now=NOW))
    assert (page.thread_id, page.title, page.forum_id, page.forum_path) == ("31", "Soft top won't latch", "4", ["Workshop", "Hood & Body"])
    assert (page.page, page.page_count, page.next_page) == (3, 4, "http://garage.roadster.example/phpBB3/viewtopic.php?t=31&start=30")
    assert (page.unparsed_dates, page.parse_errors) == (0, 0)
    first, second = page.posts
    assert (first.post_id, first.position, first.author, first.author_id) == ("3101", 21, "hainz", "61")
    # "UTC - 5 hours [ DST ]": phpBB 3.0 prints local time at UTC-4 all year.
    assert first.posted_at == datetime(2016, 1, 5, 2, 52, tzinfo=timezone.utc)
    assert first.url == "http://garage.roadster.example/phpBB3/viewtopic.php?p=3101"
    assert first.body_text == "Check the latch thread first."
    assert first.links == ["http://garage.roadster.example/phpBB3/viewtopic.php?p=2900#p2900"]
    assert first.signature == "'91 BRG | build log" and first.edited_at is None
    assert (second.post_id, second.position, second.author, second.author_id) == ("3104", 22, "miatamike", "77")
    assert second.quotes == [{"author": "hainz", "post_id": None, "text": "Check the latch thread first."},
                             {"author": None, "post_id": None, "text": "lube it"}]
    assert second.body_text == "Done both, it latches now.\ntorque 8 Nm"
    assert second.images == ["http://img.example.org/latch.jpg"]
    assert second.signature is None
    assert (second.edited_by, second.edited_at) == ("miatamike", datetime(2016, 1, 5, 13, 0, tzinfo=timezone.utc))
    assert phpbb.ENGINE.missing_posts(SUBSILVER2.encode(), page) == 0


# --- page kinds ----------------------------------------------------------------------------------

LOGIN_WALL = f"""<!DOCTYPE html><html dir="ltr" lang="en-gb"><head><meta charset="utf-8" /><title>Roadster Forum - Login</title></head>
<body id="phpbb" class="nojs notouch section-viewforum ltr ">
<div id="wrap" class="wrap"><div id="page-body" class="page-body" role="main">
<form action="./ucp.php?mode=login" method="post" id="login" data-focus="username">
<div class="panel"><div class="inner"><div class="content">
<h2 class="login-title">Login</h2>
<fieldset class="fields1">
<p>The board requires you to be registered and logged in to view this forum.</p>
<dl><dt><label for="username">Username:</label></dt><dd><input type="text" tabindex="1" name="username" id="username" size="25" value="" class="inputbox autowidth" /></dd></dl>
<dl><dt><label for="password">Password:</label></dt><dd><input type="password" tabindex="2" id="password" name="password" size="25" class="inputbox autowidth" autocomplete="off" /></dd></dl>
<dl><dt>&nbsp;</dt><dd><input type="submit" name="login" tabindex="6" value="Login" class="button1" /></dd></dl>
</fieldset></div></div></div></form>
</div><div id="page-footer"><a href="./viewforum.php?f=3">Technik</a></div></div></body></html>"""


def test_login_wall_is_not_an_empty_forum():
    assert phpbb.page_kind(response(LOGIN_WALL, f"{BOARD}/viewforum.php?f=3")) is None
    # The same page without the login form is an empty forum.
    empty = LOGIN_WALL.replace('id="login"', 'id="jumpbox"').replace('type="password"', 'type="text"')
    assert phpbb.page_kind(response(empty, f"{BOARD}/viewforum.php?f=3")) == "listing"


def test_localised_footers():
    germany = Selector(text="<html><body><div id='page-footer'><ul><li>Alle Zeiten sind UTC + 1 Stunde "
                            "[ <abbr title='Sommerzeit'>Sommerzeit</abbr> ]</li></ul></div></body></html>")
    assert phpbb.timezone_from_footer(germany).utcoffset(None) == timedelta(hours=2)
    france = Selector(text="<html><body><div id='page-footer'>Heures au format <span title='Europe/Paris'>UTC+01:00</span></div></body></html>")
    assert str(phpbb.timezone_from_footer(france)) == "Europe/Paris"


# --- robustness ----------------------------------------------------------------------------------

def test_one_broken_post_costs_none_of_its_neighbours(monkeypatch):
    real = phpbb.ProsilverFields.posted_at

    def breaks_on_701(self, node):
        if node.get("id") == "p701":
            raise ValueError("hostile markup")
        return real(self, node)

    monkeypatch.setattr(phpbb.ProsilverFields, "posted_at", breaks_on_701)
    page = phpbb.parse_thread_page(Selector(text=GERMAN_33), f"{BOARD}/viewtopic.php?t=77", DateResolver(now=NOW))
    assert [p.post_id for p in page.posts] == ["702"] and page.parse_errors == 1
    assert page.posts[0].position == 2  # its place on the page is kept


def nested_page(depth: int) -> str:
    """Two posts; the first quotes a quote of a quote ... ``depth`` deep (3.3 markup, one cite each)."""
    quote = "innermost words"
    for level in range(depth):
        quote = f"<blockquote><div><cite>user{level} wrote:</cite>{quote}</div></blockquote>"
    return prosilver33(
        prosilver33_post("901", MARTINA, "2016-01-04T21:52:00+00:00", "x", quote + "my reply")
        + prosilver33_post("902", KLAUS, "2016-01-05T08:10:00+00:00", "x", "the next post"),
        'All times are <span title="UTC">UTC</span>')


@pytest.mark.parametrize("depth", [300, 1000])
def test_deeply_nested_quotes_parse_whole(depth):
    html = nested_page(depth)
    page = phpbb.parse_thread_page(response(html, f"{BOARD}/viewtopic.php?t=77"), f"{BOARD}/viewtopic.php?t=77", DateResolver(now=NOW))
    first, second = page.posts
    assert first.body_text == "my reply" and len(first.quotes) == depth
    assert first.quotes[0]["author"] == f"user{depth - 1}" and first.quotes[-1]["text"] == "innermost words"
    assert (second.post_id, second.body_text) == ("902", "the next post")
    assert phpbb.ENGINE.missing_posts(html.encode(), page) == 0


def test_nesting_lxml_cannot_build_is_reported_as_missing_posts():
    html = nested_page(5000)
    page = phpbb.parse_thread_page(response(html, f"{BOARD}/viewtopic.php?t=77"), f"{BOARD}/viewtopic.php?t=77", DateResolver(now=NOW))
    assert phpbb.ENGINE.missing_posts(html.encode(), page) > 0


def test_author_line_without_the_raquo():
    """A style that prints "by NAME on DATE": the date is the text after the name."""
    post = """<div id="p905" class="post bg1"><div class="inner"><div class="postbody">
<p class="author">by <strong><a href="./memberlist.php?mode=viewprofile&amp;u=5">Martina</a></strong> on Mon Jan 04, 2016 10:52 pm</p>
<div class="content">no arrow</div></div></div></div>"""
    page = phpbb.parse_thread_page(Selector(text=prosilver33(post, "All times are <span title=\"UTC\">UTC</span>")),
                                   f"{BOARD}/viewtopic.php?t=77", DateResolver(now=NOW))
    assert page.posts[0].posted_at == datetime(2016, 1, 4, 22, 52, tzinfo=timezone.utc)
    assert page.unparsed_dates == 0


def subsilver2_topic_row(topic_id, title, author, replies, views, last, folder="topic_read", prefix=""):
    return f"""<tr>
<td class="row1" width="25" align="center"><img src="./styles/subsilver2/imageset/{folder}.gif" width="19" height="18" alt="No unread posts" title="No unread posts" /></td>
<td class="row1">{prefix}<a title="Posted: Sat Jan 02, 2016 9:00 am" href="./viewtopic.php?f=4&amp;t={topic_id}" class="topictitle">{title}</a></td>
<td class="row2" width="130" align="center"><p class="topicauthor"><a href="./memberlist.php?mode=viewprofile&amp;u=61">{author}</a></p></td>
<td class="row1" width="50" align="center"><p class="topicdetails">{replies}</p></td>
<td class="row2" width="50" align="center"><p class="topicdetails">{views}</p></td>
<td class="row1" width="140" align="center"><p class="topicdetails" style="white-space: nowrap;">{last}</p>
<p class="topicdetails"><a href="./memberlist.php?mode=viewprofile&amp;u=77">miatamike</a> <a href="./viewtopic.php?f=4&amp;t={topic_id}&amp;p=3104#p3104"><img src="./styles/subsilver2/imageset/icon_topic_latest.gif" alt="View the latest post" /></a></p></td>
</tr>"""


SUBSILVER2_VIEWFORUM = f"""<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml" dir="ltr" lang="en-gb" xml:lang="en-gb">
<head><title>Roadster Garage &bull; View forum - Hood &amp; Body</title></head>
<body class="ltr"><div id="wrapcentre">
<table class="tablebg" width="100%" cellspacing="1" cellpadding="0"><tr><td class="row1">
<p class="breadcrumbs"><a href="./index.php">Board index</a> <strong>&#187;</strong> <a href="./viewforum.php?f=2">Workshop</a> <strong>&#187;</strong> <a href="./viewforum.php?f=4">Hood &amp; Body</a></p>
<p class="datetime">All times are UTC - 5 hours [ <abbr title="Daylight Saving Time">DST</abbr> ]</p>
</td></tr></table>
<table class="tablebg" cellspacing="1" width="100%">
<tr><td class="cat" colspan="5" align="right">&nbsp;</td></tr>
<tr><th colspan="2">&nbsp;Forum&nbsp;</th><th width="50">&nbsp;Topics&nbsp;</th><th width="50">&nbsp;Posts&nbsp;</th><th>&nbsp;Last post&nbsp;</th></tr>
<tr><td class="row1" width="50" align="center"><img src="./styles/subsilver2/imageset/forum_read.gif" alt="No unread posts" /></td>
<td class="row1" width="100%"><a class="forumlink" href="./viewforum.php?f=9">Soft tops</a><p class="forumdesc">Frames, seals, latches</p>
<p class="forumdesc"><strong>Subforum:</strong> <a href="./viewforum.php?f=11" class="subforum read" title="No unread posts">Hard tops</a></p></td>
<td class="row2" align="center"><p class="topicdetails">12</p></td><td class="row2" align="center"><p class="topicdetails">140</p></td>
<td class="row2" align="center" nowrap="nowrap"><p class="topicdetails">Mon Jan 04, 2016 10:52 pm</p></td></tr>
<tr><td class="row1" width="50" align="center"><img src="./styles/subsilver2/imageset/forum_link.gif" alt="Forum link" /></td>
<td class="row1"><a class="forumlink" href="./viewforum.php?f=12">Parts shop</a><p class="forumdesc">Goes elsewhere</p></td>
<td class="row2" colspan="3" align="center"><span class="genmed">Redirects: 40</span></td></tr>
</table>
<div id="pageheader"><h2><a class="titles" href="./viewforum.php?f=4">Hood &amp; Body</a></h2></div>
<div id="pagecontent">
<table width="100%" cellspacing="1"><tr>
<td class="nav" valign="middle" nowrap="nowrap">&nbsp;Page <strong>1</strong> of <strong>2</strong><br /></td>
<td class="gensmall" nowrap="nowrap">&nbsp;[ 28 topics ]&nbsp;</td>
<td class="gensmall" width="100%" align="right" nowrap="nowrap"><b><a href="#" onclick="jumpto(); return false;" title="Click to jump to page…">Goto page</a> <strong>1</strong><span class="page-sep">, </span><a href="./viewforum.php?f=4&amp;start=25">2</a>&nbsp;<a href="./viewforum.php?f=4&amp;start=25">Next</a></b></td>
</tr></table>
<table class="tablebg" width="100%" cellspacing="1">
<tr><td class="cat" colspan="6"><table width="100%" cellspacing="0"><tr class="nav"><td valign="middle">&nbsp;</td></tr></table></td></tr>
<tr><th colspan="2">&nbsp;Topics&nbsp;</th><th>&nbsp;Author&nbsp;</th><th>&nbsp;Replies&nbsp;</th><th>&nbsp;Views&nbsp;</th><th>&nbsp;Last post&nbsp;</th></tr>
<tr><td class="row3" colspan="6"><b class="gensmall">Announcements</b></td></tr>
{subsilver2_topic_row("30", "Read this before posting", "hainz", "0", "1,204", "Fri Jan 01, 2016 8:00 am", folder="announce_read")}
<tr><td class="row3" colspan="6"><b class="gensmall">Topics</b></td></tr>
{subsilver2_topic_row("31", "Soft top won't latch", "hainz", "31", "988", "Tue Jan 05, 2016 8:15 am")}
{subsilver2_topic_row("29", "Rust under the boot seal", "hainz", "4", "77", "Sun Jan 03, 2016 6:00 pm", folder="topic_moved", prefix="<b>Moved:</b> ")}
</table></div></div></body></html>"""


def test_subsilver2_viewforum_page():
    url = "http://garage.roadster.example/phpBB3/viewforum.php?f=4"
    listing_page = response(SUBSILVER2_VIEWFORUM, url)
    assert phpbb.page_kind(listing_page) == "listing"
    listing = phpbb.parse_listing_page(listing_page, url, DateResolver(now=NOW))
    assert (listing.forum_id, listing.title, listing.forum_path, listing.page) == (
        "4", "Hood & Body", ["Workshop", "Hood & Body"], 1)
    assert listing.next_page == "http://garage.roadster.example/phpBB3/viewforum.php?f=4&start=25"
    # The link forum (no topic counts) only redirects off the board.
    assert [(f.forum_id, f.title) for f in listing.forums] == [("9", "Soft tops"), ("11", "Hard tops")]
    announce, latch, moved = listing.threads
    assert (announce.thread_id, announce.sticky, announce.view_count) == ("30", True, 1204)
    assert (latch.thread_id, latch.title, latch.author, latch.reply_count, latch.view_count, latch.sticky) == (
        "31", "Soft top won't latch", "hainz", 31, 988, False)
    assert latch.url == "http://garage.roadster.example/phpBB3/viewtopic.php?t=31"
    assert latch.last_post_at == datetime(2016, 1, 5, 12, 15, tzinfo=timezone.utc)  # UTC-5 + DST
    assert (moved.thread_id, moved.moved, moved.reply_count, moved.last_post_at) == ("29", True, None, None)
