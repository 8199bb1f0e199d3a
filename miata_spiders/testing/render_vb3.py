"""Render a ``SyntheticForum`` in classic vBulletin 3.8 markup, as forum.miata.net/vb/ serves it.

The markup follows vBulletin 3.8's own templates and the real pages in docs/engines/vbulletin.md
(``FORUMHOME`` forumbits with ``td#f{id}`` and "Sub-Forums:" lists, ``FORUMDISPLAY`` with
``tbody#threadbits_forum_{id}``, ``threadbit`` rows, ``postbit_legacy`` tables, ``pagenav``), trimmed
to the structure a crawler sees (no scripts, CSS or popup menus) and aligned with the saved pages in
fixtures/miatanet/ by tests/test_renderer_markup_drift.py.

Every link carries a session id (``s=<32 hex>``), as vBulletin 3 prints it for a visitor without a
session cookie: the crawler must strip it from everything it requests and stores.
"""

from __future__ import annotations

from html import escape
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

from miata_spiders.testing.forumgen import Forum, Post, Thread
from miata_spiders.testing.render_common import VBulletinSite, latin1, listing_page_rows, member_id, pages_around
from miata_spiders.testing.render_common import standard_offset_hours, vbulletin_message

HOST = "https://forum.miata.net"
ROOT = "/vb/"
SITE_TITLE = "Miata.net Forums"
TIMEZONE = ZoneInfo("America/Los_Angeles")
ROBOTS = (b"User-agent: *\nDisallow: /vb/member.php\nDisallow: /vb/search.php\nDisallow: /vb/private.php\n"
          b"Disallow: /vb/newreply.php\nDisallow: /vb/sendmessage.php\n")


class VB3ForumSite(VBulletinSite):
    """A ``ForumServer`` site answering forum.miata.net's classic vBulletin URLs with rendered pages."""

    root = ROOT
    timezone = TIMEZONE

    # --- URLs (relative, as vBulletin 3 prints them; the pages have no <base>) ---------------------
    def _s(self) -> str:
        return f"s={self.session}&amp;"

    def forum_href(self, f: Forum, page: int = 1) -> str:
        return f"forumdisplay.php?{self._s()}f={f.forum_id}" + (f"&amp;order=desc&amp;page={page}" if page > 1 else "")

    def thread_href(self, t: Thread, page: int = 1) -> str:
        return f"showthread.php?{self._s()}t={t.thread_id}" + (f"&amp;page={page}" if page > 1 else "")

    def forum_url(self, f: Forum, page: int = 1) -> str:
        """The canonical (session-free) address, as the crawler stores it."""
        return f"{HOST}{ROOT}forumdisplay.php?f={f.forum_id}" + (f"&order=desc&page={page}" if page > 1 else "")

    def thread_url(self, t: Thread, page: int = 1) -> str:
        return f"{HOST}{ROOT}showthread.php?t={t.thread_id}" + (f"&page={page}" if page > 1 else "")

    # --- routing --------------------------------------------------------------------------------
    def respond(self, path: str) -> tuple[int, bytes, dict]:
        html = {"Content-Type": "text/html; charset=ISO-8859-1"}
        if path == "/robots.txt":
            return 200, ROBOTS, {"Content-Type": "text/plain"}
        parts = urlsplit(path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        page = int(query.get("page", "1")) if query.get("page", "1").isdigit() else 0
        if parts.path in (ROOT, ROOT + "index.php"):
            return 200, latin1(self.index_page()), html
        if parts.path == ROOT + "showthread.php" and query.get("t", "").isdigit():
            tid = int(query["t"])
            if self._thread_exists(tid) and 1 <= page <= self.forum.page_count(tid):
                return 200, latin1(self.thread_page(self.forum.thread(tid), page)), html
        if parts.path == ROOT + "forumdisplay.php" and query.get("f", "").isdigit():
            f = self.forum.forums.get(int(query["f"]))
            if f is not None and 1 <= page <= self.listing_page_count(f):
                return 200, latin1(self.forum_page(f, page)), html
        return 404, latin1(_frame("Miata.net Forums", _error_box("Invalid Thread specified."), [], None, self)), html

    def _thread_exists(self, tid: int) -> bool:
        return any(tid in self.forum.thread_ids(f) for f in self.forum.forums.values())

    # --- pages ----------------------------------------------------------------------------------
    def index_page(self) -> str:
        rows = []
        for cat in self.forum.categories:
            rows.append(
                f'<tbody><tr><td class="tcat" colspan="5"><a href="{self.forum_href(cat)}">{escape(cat.title)}</a>'
                f'<div class="smallfont">Everything about {escape(cat.title.lower())}.</div></td></tr></tbody>'
                f'<tbody id="collapseobj_forumbit_{cat.forum_id}">'
                + "".join(self._forumbit(self.forum.forums[c]) for c in cat.children) + "</tbody>"
            )
        body = (
            '<table class="tborder" cellpadding="6" cellspacing="1" border="0" width="100%" align="center">'
            '<thead><tr align="center"><td class="thead">&nbsp;</td><td class="thead" width="100%" align="left">Forum</td>'
            '<td class="thead" width="175">Last Post</td><td class="thead">Threads</td><td class="thead">Posts</td></tr></thead>'
            + "".join(rows) + "</table>"
        )
        return _frame(SITE_TITLE, body, [], None, self)

    def _forumbit(self, f: Forum) -> str:
        subs = ", ".join(
            f'<img class="inlineimg" src="images/statusicon/subforum_old.gif" alt="" border="0" id="forum_statusicon_{c}" /> '
            f'<a href="{self.forum_href(self.forum.forums[c])}">{escape(self.forum.forums[c].title)}</a>'
            for c in f.children
        )
        listing = self.forum.listing(f)
        last = max(listing, key=lambda t: t.last_post_at) if listing else None
        lastpost = '<div class="smallfont" align="center">Never</div>'
        if last:
            lastpost = (
                f'<div class="smallfont" align="left"><div><span style="white-space:nowrap">'
                f'<a href="showthread.php?{self._s()}goto=newpost&amp;t={last.thread_id}" style="white-space:nowrap">'
                f'<strong>{escape(last.title[:30])}</strong></a></span></div>'
                f'<div style="white-space:nowrap">by <a href="member.php?{self._s()}find=lastposter&amp;f={f.forum_id}" rel="nofollow">'
                f'{escape(self.forum.author_name(last.thread_id, last.post_count))}</a></div>'
                f'<div align="right" style="white-space:nowrap">{self.dates.spanned(last.last_post_at)}</div></div>'
            )
        return (
            f'<tr align="center"><td class="alt2"><img src="images/statusicon/forum_old.gif" alt="" border="0" id="forum_statusicon_{f.forum_id}" /></td>'
            f'<td class="alt1Active" align="left" id="f{f.forum_id}"><div><a href="{self.forum_href(f)}"><strong>{escape(f.title)}</strong></a></div>'
            f'<div class="smallfont">Talk about {escape(f.title.lower())}.</div>'
            + (f'<div class="smallfont" style="margin-top:6px"><strong>Sub-Forums</strong>: {subs}</div>' if subs else "")
            + f'</td><td class="alt2">{lastpost}</td><td class="alt1">{len(listing):,}</td>'
            f'<td class="alt2">{sum(t.post_count for t in listing):,}</td></tr>'
        )

    def forum_page(self, f: Forum, page: int) -> str:
        stickies = [t for t in self.forum.listing(f) if t.sticky]
        rows = [self._threadbit(t, sticky=True) for t in stickies]  # repeated on every page
        for entry in listing_page_rows(self.forum, f, page):
            rows.append(self._moved_threadbit(entry[1]) if isinstance(entry, tuple) else self._threadbit(entry))
        subforums = ""
        if f.children:
            subforums = (
                '<table class="tborder" cellpadding="6" cellspacing="1" border="0" width="100%" align="center">'
                f'<tr><td class="tcat" width="100%">Sub-Forums<span class="normal"> : {escape(f.title)}</span></td></tr></table>'
                '<table class="tborder" cellpadding="6" cellspacing="1" border="0" width="100%" align="center"><tbody>'
                + "".join(self._forumbit(self.forum.forums[c]) for c in f.children) + "</tbody></table><br />"
            )
        threads = ""
        if not f.is_category:
            pages = self.listing_page_count(f)
            pagenav = _pagenav(page, pages, lambda n: self.forum_href(f, n))
            threads = (
                '<table cellpadding="0" cellspacing="0" border="0" width="100%" style="margin-bottom:3px"><tr valign="bottom">'
                f'<td class="smallfont"><a href="newthread.php?{self._s()}do=newthread&amp;f={f.forum_id}" rel="nofollow">'
                '<img src="images/buttons/newthread.gif" alt="Post New Thread" border="0" /></a></td>'
                f'<td align="right">{pagenav}</td></tr></table>'
                '<table class="tborder" cellpadding="6" cellspacing="1" border="0" width="100%" align="center">'
                f'<tr><td class="tcat" width="100%">Threads in Forum<span class="normal"> : {escape(f.title)}</span></td></tr></table>'
                '<table class="tborder" cellpadding="6" cellspacing="1" border="0" width="100%" align="center" id="threadslist">'
                '<tbody><tr><td class="thead" colspan="2">&nbsp;</td><td class="thead" width="100%">Thread / Thread Starter</td>'
                '<td class="thead" width="150" align="center" nowrap="nowrap">Last Post</td>'
                '<td class="thead" align="center" nowrap="nowrap">Replies</td><td class="thead" align="center" nowrap="nowrap">Views</td></tr></tbody>'
                f'<tbody id="threadbits_forum_{f.forum_id}">{"".join(rows)}</tbody></table>'
                '<table cellpadding="0" cellspacing="0" border="0" width="100%" style="margin-top:3px"><tr valign="top">'
                f'<td align="right">{pagenav}</td></tr></table>'
            )
        return _frame(f"{f.title} - {SITE_TITLE}", subforums + threads, self._crumbs(f.parent_id), f.title, self)

    def _threadbit(self, t: Thread, sticky: bool = False) -> str:
        pages = self.forum.page_count(t.thread_id)
        minipages = ""
        if pages > 1:
            minipages = (
                '<span class="smallfont" style="white-space:nowrap">(<img class="inlineimg" src="images/misc/multipage.gif" '
                'alt="Multi-page thread" border="0" /> '
                + " ".join(f'<a href="{self.thread_href(t, n)}">{n}</a>' for n in range(1, min(pages, 5) + 1)) + ")</span>"
            )
        last_author = self.forum.author_name(t.thread_id, t.post_count)
        sticky_icon = ('<span style="float:right"> <img class="inlineimg" src="images/misc/sticky.gif" alt="Sticky Thread" /> </span>'
                       if sticky else "")
        return (
            f'<tr><td class="alt1" id="td_threadstatusicon_{t.thread_id}">'
            f'<img src="images/statusicon/thread_hot.gif" id="thread_statusicon_{t.thread_id}" alt="" border="" /></td>'
            f'<td class="alt2">&nbsp;</td>'
            f'<td class="alt1" id="td_threadtitle_{t.thread_id}" title="{escape(t.title[:80])}"><div>{sticky_icon}'
            + ("Sticky: " if sticky else "")
            + f'<a href="{self.thread_href(t)}" id="thread_title_{t.thread_id}">{escape(t.title)}</a> {minipages}</div>'
            f'<div class="smallfont"><span style="cursor:pointer" onclick="window.open(\'member.php?{self._s()}u={member_id(t.starter)}\', \'_self\')">'
            f'{escape(t.starter)}</span></div></td>'
            f'<td class="alt2" title="Replies: {t.post_count - 1:,}, Views: {t.views:,}">'
            f'<div class="smallfont" style="text-align:right; white-space:nowrap">{self.dates.spanned(t.last_post_at)}<br />'
            f'by <a href="member.php?{self._s()}find=lastposter&amp;t={t.thread_id}" rel="nofollow">{escape(last_author)}</a></div></td>'
            f'<td class="alt1" align="center"><a href="misc.php?do=whoposted&amp;t={t.thread_id}" onclick="who({t.thread_id}); return false;">'
            f'{t.post_count - 1:,}</a></td><td class="alt2" align="center">{t.views:,}</td></tr>'
        )

    def _moved_threadbit(self, t: Thread) -> str:
        # vBulletin keeps a redirect with its own id (thread_title_<stub id>); its link is the real thread.
        stub_id = t.thread_id + 50_000
        return (
            f'<tr><td class="alt1" id="td_threadstatusicon_{stub_id}">'
            f'<img src="images/statusicon/thread_moved.gif" id="thread_statusicon_{stub_id}" alt="" border="" /></td>'
            f'<td class="alt2">&nbsp;</td>'
            f'<td class="alt1" id="td_threadtitle_{stub_id}" title=""><div>Moved: '
            f'<a href="{self.thread_href(t)}" id="thread_title_{stub_id}">{escape(t.title)}</a></div>'
            f'<div class="smallfont"><span style="cursor:pointer" onclick="window.open(\'member.php?{self._s()}u={member_id(t.starter)}\', \'_self\')">'
            f'{escape(t.starter)}</span></div></td>'
            f'<td class="alt2" align="center">-</td><td class="alt1" align="center">-</td><td class="alt2" align="center">-</td></tr>'
        )

    def thread_page(self, t: Thread, page: int) -> str:
        posts = self.forum.posts(t.thread_id, page)
        pages = self.forum.page_count(t.thread_id)
        pagenav = _pagenav(page, pages, lambda n: self.thread_href(t, n))
        bits = "".join(self._postbit(p) for p in posts)
        body = (
            '<table cellpadding="0" cellspacing="0" border="0" width="100%" style="margin-bottom:3px"><tr valign="bottom">'
            f'<td class="smallfont"><a href="newreply.php?{self._s()}do=newreply&amp;noquote=1&amp;p={posts[0].post_id}" rel="nofollow">'
            '<img src="images/buttons/reply.gif" alt="Reply" border="0" /></a></td>'
            f'<td align="right">{pagenav}</td></tr></table>'
            '<table class="tborder" cellpadding="6" cellspacing="1" border="0" width="100%" align="center" style="border-bottom-width:0px">'
            '<tr><td class="tcat" width="100%"><div class="smallfont">&nbsp;</div></td>'
            '<td class="vbmenu_control" id="threadtools" nowrap="nowrap">'
            f'<a href="printthread.php?{self._s()}t={t.thread_id}" rel="nofollow">Thread Tools</a></td></tr></table>'
            f'<div id="posts">{bits}<div id="lastpost"></div></div>'
            '<table cellpadding="0" cellspacing="0" border="0" width="100%" style="margin-top:-3px"><tr valign="top">'
            f'<td align="right">{pagenav}</td></tr></table>'
        )
        f = self.forum.forums[t.forum_id]
        return _frame(f"{t.title} - {SITE_TITLE}", body, self._crumbs(f.forum_id), t.title, self)

    def _postbit(self, p: Post) -> str:
        head = (
            f'<tr><td class="thead" style="font-weight:normal">\n<!-- status icon and date -->\n'
            f'<a name="post{p.post_id}"><img class="inlineimg" src="images/statusicon/post_old.gif" alt="Old" border="0" /></a>\n'
            f"{self.dates.plain(p.posted_at)}\n<!-- / status icon and date -->\n</td>"
            f'<td class="thead" style="font-weight:normal" align="right">&nbsp;#<a href="showpost.php?{self._s()}p={p.post_id}&amp;postcount={p.position}" '
            f'target="new" rel="nofollow" id="postcount{p.post_id}" name="{p.position}"><strong>{p.position}</strong></a></td></tr>'
        )
        if p.author:
            user = (f'<div id="postmenu_{p.post_id}"><a class="bigusername" href="member.php?{self._s()}u={p.author_id}">'
                    f'{escape(p.author)}</a></div><div class="smallfont">Junior Member</div>')
        else:
            user = f'<div id="postmenu_{p.post_id}">{escape(p.guest_name or "Guest")}</div><div class="smallfont">Guest</div>'
        if p.deleted:
            name = (f'<a href="member.php?{self._s()}u={p.author_id}">{escape(p.author)}</a>' if p.author
                    else escape(p.guest_name or "Guest"))
            return (
                f'<div id="edit{p.post_id}" style="padding:0px 0px 6px 0px">'
                f'<table id="post{p.post_id}" class="tborder" cellpadding="6" cellspacing="0" border="0" width="100%" align="center">{head}'
                f'<tr valign="top"><td class="alt2" width="175"><div id="postmenu_{p.post_id}">{name}</div></td>'
                f'<td class="alt1" id="td_post_{p.post_id}"><div class="smallfont"><strong>Deleted Post</strong></div>'
                f'<div class="smallfont">This message has been deleted by <a href="member.php?{self._s()}u=2">ModSquad</a>. '
                "Reason: off topic</div></td></tr></table></div>"
            )
        edit = ""
        if p.edited_at:
            edit = (f'<!-- edit note --><div class="smallfont"><hr size="1" style="color:#D1D1E1; background-color:#D1D1E1" />'
                    f'<em>Last edited by {escape(p.edited_by or "Guest")}; {self.dates.edited(p.edited_at)}.</em></div><!-- / edit note -->')
        sig = f"<!-- sig --><div>__________________<br />{escape(p.signature)}</div><!-- / sig -->" if p.signature else ""
        attachments = ""
        if p.attachments:
            links = "".join(
                f'<a href="attachment.php?{self._s()}attachmentid={a}&amp;d=1700000000" rel="Lightbox_{p.post_id}" id="attachment{a}">'
                f'<img class="thumbnail" src="attachment.php?{self._s()}attachmentid={a}&amp;stc=1&amp;thumb=1&amp;d=1700000000" '
                f'border="0" alt="" /></a>' for a in p.attachments
            )
            attachments = (f'<div style="padding:6px"><fieldset class="fieldset"><legend>Attached Thumbnails</legend>'
                           f'<div style="padding:3px">{links}</div></fieldset></div>')
        return (
            f'<div id="edit{p.post_id}" style="padding:0px 0px 6px 0px">'
            f'<table id="post{p.post_id}" class="tborder" cellpadding="6" cellspacing="0" border="0" width="100%" align="center">{head}'
            f'<tr valign="top"><td class="alt2" width="175">{user}</td>'
            f'<td class="alt1" id="td_post_{p.post_id}"><!-- message --><div id="post_message_{p.post_id}">{self._message(p)}</div>'
            f"<!-- / message -->{attachments}{sig}{edit}</td></tr></table></div>"
        )

    def _message(self, p: Post) -> str:
        return vbulletin_message(self.forum, p, self._quote, smilie="images/smilies/smile.gif")

    def _quote(self, quoted: Post, nested: str) -> str:
        by = ""
        if quoted.author:
            by = (f'<div>Originally Posted by <strong>{escape(quoted.author)}</strong> '
                  f'<a href="showthread.php?{self._s()}p={quoted.post_id}#post{quoted.post_id}" rel="nofollow">'
                  '<img class="inlineimg" src="images/buttons/viewpost.gif" border="0" alt="View Post" /></a></div>')
        text = "" if quoted.deleted else escape(quoted.text)
        return (
            '<div style="margin:20px; margin-top:5px; "><div class="smallfont" style="margin-bottom:2px">Quote:</div>'
            '<table cellpadding="6" cellspacing="0" border="0" width="100%"><tr><td class="alt2" style="border:1px inset">'
            f'{by}{nested}<div style="font-style:italic">{text}</div></td></tr></table></div>'
        )



def _error_box(message: str) -> str:
    return (f'<table class="tborder" cellpadding="6" cellspacing="1" border="0" width="70%" align="center">'
            f'<tr><td class="tcat">Miata.net Forums Message</td></tr><tr><td class="alt1">{escape(message)}</td></tr></table>')


def _pagenav(page: int, pages: int, href_for) -> str:
    """vBulletin 3.8's ``pagenav`` template: "Page x of y", first/prev/next/last links with rel."""
    if pages <= 1:
        return "&nbsp;"
    cells = [f'<td class="vbmenu_control" style="font-weight:normal">Page {page} of {pages}</td>']
    if page > 2:
        cells.append(f'<td class="alt1" nowrap="nowrap"><a rel="start" class="smallfont" href="{href_for(1)}" title="First Page">'
                     '<strong>&laquo;</strong> First</a></td>')
    if page > 1:
        cells.append(f'<td class="alt1"><a rel="prev" class="smallfont" href="{href_for(page - 1)}" title="Prev Page">&lt;</a></td>')
    for n in pages_around(page, pages):
        cells.append(f'<td class="alt2"><span class="smallfont" title="Showing results"><strong>{n}</strong></span></td>' if n == page
                     else f'<td class="alt1"><a class="smallfont" href="{href_for(n)}" title="Show results">{n}</a></td>')
    if page < pages:
        cells.append(f'<td class="alt1"><a rel="next" class="smallfont" href="{href_for(page + 1)}" title="Next Page">&gt;</a></td>')
        cells.append(f'<td class="alt1" nowrap="nowrap"><a class="smallfont" href="{href_for(pages)}" title="Last Page">'
                     'Last <strong>&raquo;</strong></a></td>')
    return ('<div class="pagenav" align="right"><table class="tborder" cellpadding="3" cellspacing="1" border="0"><tr>'
            + "".join(cells) + "</tr></table></div>")


def _frame(title: str, body: str, crumbs: list, last: str | None, site: VB3ForumSite) -> str:
    home = f'index.php?s={site.session}'
    if last is None:
        navbar = (f'<div class="navbar" style="font-size:10pt"><a href="{home}" accesskey="1"><img class="inlineimg" '
                  f'src="images/misc/navbits_start.gif" alt="" border="0" /></a> <strong>{SITE_TITLE}</strong></div>')
    else:
        links = "".join(f'<span class="navbar">&gt; <a href="{href}">{escape(name)}</a></span> ' for name, href in crumbs)
        navbar = (
            '<table cellpadding="0" cellspacing="0" border="0"><tr valign="bottom">'
            '<td><a href="#" onclick="history.back(1); return false;"><img src="images/misc/navbits_start.gif" alt="Go Back" border="0" /></a></td>'
            f'<td>&nbsp;</td><td width="100%"><span class="navbar"><a href="{home}" accesskey="1">{SITE_TITLE}</a></span> {links}</td></tr>'
            '<tr><td class="navbar" style="font-size:10pt; padding-top:1px" colspan="3"><a href="#"><img class="inlineimg" '
            'src="images/misc/navbits_finallink_ltr.gif" alt="Reload this Page" border="0" /></a> '
            f"<strong>{escape(last)}</strong></td></tr></table>"
        )
    now = site.dates.clock(site.now)
    standard = standard_offset_hours(site.now.year, TIMEZONE)
    return (
        '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">\n'
        '<html xmlns="http://www.w3.org/1999/xhtml" dir="ltr" lang="en">\n<head>\n'
        '<meta http-equiv="Content-Type" content="text/html; charset=ISO-8859-1" />\n'
        '<meta name="generator" content="vBulletin 3.8.11" />\n'
        f"<title>{escape(title)}</title>\n</head>\n<body>\n"
        '<div align="center"><div class="page" style="width:100%; text-align:left"><div style="padding:0px 25px 0px 25px" align="left">\n'
        '<table class="tborder" cellpadding="6" cellspacing="1" border="0" width="100%" align="center"><tr>'
        f'<td class="alt1" width="100%">{navbar}</td></tr></table>\n<br />\n{body}\n<br />\n'
        f'<div class="smallfont" align="center">All times are GMT {standard}. The time now is <span class="time">{now}</span>.</div>\n'
        "</div></div></div>\n</body>\n</html>\n"
    )
