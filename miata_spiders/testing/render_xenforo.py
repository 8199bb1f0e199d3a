"""Render a ``SyntheticForum`` as a XenForo 2 forum (MX5 Nutz's software), for ``ForumServer``.

The markup follows the saved fixture pages (``fixtures/mx5nutz/``, XenForo 2.1 templates; see
docs/engines/xenforo.md): ``html#XF[data-template]``, the forum list's ``.node`` blocks with sub-forum
menus, forum_view's ``.structItem--thread`` rows (sticky group on page 1 only, redirect rows for moved
threads), thread_view's ``article.message[data-content="post-N"]`` with ``time[datetime][data-time]``,
``.bbWrapper`` bodies, ``blockquote.bbCodeBlock--quote[data-quote][data-source]`` quotes, the
attachment list, ``aside.message-signature``, "Last edited" notes and the ``div.message--deleted``
placeholder of a soft-deleted post. Only the structure a crawler sees is kept (no CSS, little JS).

What XenForo does differently from vBulletin, and this site does too:

- Positions (``#N``) count visible posts only; a deleted post's placeholder has no number and stays on
  the page of the visible post before it, so page N holds visible posts ``(N-1)*per+1 .. N*per``.
- A moved thread leaves a redirect *thread* with its own id and URL, which answers with a 301 to the
  real thread; its row shows "–" counts and no last post.
- Guests are named (``data-author``) but have no member id (``data-user-id="0"``); only the author or
  a moderator edits, and a moderator's edit says "Last edited by a moderator".
- Dates are printed in the board's timezone (Europe/London, as MX5 Nutz shows guests), relative when
  recent ("Today at 09:05"), with the exact instant in ``datetime``/``data-time``; the JS config's
  ``time: {now, today}`` states the page's offset.
"""

from __future__ import annotations

import math
import re
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from html import escape
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo

from miata_spiders.testing.forumgen import POST_SLOTS, Forum, Post, SyntheticForum, Thread
from miata_spiders.testing.render_common import DAY_WORDS, SyntheticSite, days_ago, expected_quotes, listing_page_rows
from miata_spiders.testing.render_common import pages_around, quotes_html

HOST = "https://www.mx5nutz.com"
BOARD_TZ = ZoneInfo("Europe/London")
BOARD_NAME = "MX5 Nutz"
# A moved thread's redirect stub is a thread of its own; its id is the real one's plus this.
REDIRECT_ID_OFFSET = 50_000
ROBOTS = (
    b"User-agent: *\nDisallow: /account/\nDisallow: /attachments/\nDisallow: /goto/\nDisallow: /login/\n"
    b"Disallow: /members/\nDisallow: /posts/\nDisallow: /search/\nDisallow: /whats-new/\nDisallow: /admin.php\n"
)
_PIXEL = "data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7"
_HTML = {"Content-Type": "text/html; charset=utf-8"}
NAME_PROP = ' itemprop="name"'

_FORUM_PATH = re.compile(r"^/forums/(?P<slug>[^/]*)\.(?P<id>\d+)/(?:page-(?P<page>\d+))?$")
_THREAD_PATH = re.compile(r"^/threads/(?P<slug>[^/]*)\.(?P<id>\d+)/(?:page-(?P<page>\d+)|post-(?P<post>\d+)|latest)?$")


def slugify(text: str) -> str:
    """XenForo's URL slug: lower-case ASCII words joined by hyphens."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def member_url(name: str, user_id: int) -> str:
    return f"/members/{re.sub(r'[^a-z0-9_]+', '-', name.lower()).strip('-')}.{user_id}/"


class XenForoForumSite(SyntheticSite):
    """A ``ForumServer`` site: answers paths of XenForo 2's friendly-URL scheme with rendered pages."""

    def __init__(self, forum: SyntheticForum, host: str = HOST, board_tz=BOARD_TZ):
        super().__init__(forum)
        self.host = host.rstrip("/")
        self.tz = board_tz
        # (visible posts in order, {post position: (visible number or None, page)}) per thread.
        self._layout = lru_cache(maxsize=4096)(self._compute_layout)

    # --- ground truth -----------------------------------------------------------------------------
    def expected_row(self, post: Post) -> dict:
        """The dataset fields a complete crawl must store for ``post``, as XenForo shows it."""
        number, page = self._layout(post.thread_id)[1][post.position]
        shown = not post.deleted
        quotes = expected_quotes(self.forum, post) if shown else []
        edited_by = None
        if post.edited_at and shown:
            edited_by = post.author if post.edited_by else None  # else "Last edited by a moderator"
        return {
            "position": number,
            "page": page,
            "author": post.author or post.guest_name,
            "author_id": str(post.author_id) if post.author_id else None,
            "posted_at": post.posted_at.astimezone(timezone.utc),
            "edited_at": post.edited_at.astimezone(timezone.utc) if post.edited_at and shown else None,
            "edited_by": edited_by,
            "is_deleted": post.deleted,
            "body_text": _body_words(post) if shown else None,
            "quotes": quotes,
            "images": [*post.images, *post.lazy_images, *(self.host + _attachment_path(a) for a in post.attachments)]
            if shown else [],
            "links": list(post.links) if shown else [],
            "signature": post.signature if shown else None,
            "url": f"{self.host}{self.post_path(post)}",
        }

    def page_count(self, thread_id: int) -> int:
        visible = len(self._layout(thread_id)[0])
        return max(1, math.ceil(visible / self.forum.shape.posts_per_page))

    def _compute_layout(self, thread_id: int):
        per = self.forum.shape.posts_per_page
        visible, placement, number = [], {}, 0
        for position in range(1, self.forum.thread(thread_id).post_count + 1):
            post = self.forum.post(thread_id, position)
            if post.deleted:
                # XenForo gives a hidden post the position of the visible post before it.
                placement[position] = (None, max(1, math.ceil(number / per)))
                continue
            number += 1
            visible.append(post)
            placement[position] = (number, math.ceil(number / per))
        return tuple(visible), placement

    def thread_posts(self, thread_id: int, page: int) -> list[Post]:
        """The posts page ``page`` shows: visible ones by number, each deleted one after its predecessor."""
        placement = self._layout(thread_id)[1]
        return [self.forum.post(thread_id, pos) for pos, (_, p) in sorted(placement.items()) if p == page]

    def last_visible(self, thread: Thread) -> Post:
        return self._layout(thread.thread_id)[0][-1]

    # --- URLs (root-relative, as XenForo 2 prints them) -------------------------------------------
    def forum_path_of(self, f: Forum, page: int = 1) -> str:
        if f.is_category:
            return f"/.#{slugify(f.title)}.{f.forum_id}"
        return f"/forums/{slugify(f.title)}.{f.forum_id}/" + (f"page-{page}" if page > 1 else "")

    def thread_path(self, t: Thread, page: int = 1) -> str:
        return f"/threads/{slugify(t.slug) or 'thread'}.{t.thread_id}/" + (f"page-{page}" if page > 1 else "")

    def redirect_path(self, t: Thread) -> str:
        return f"/threads/{slugify(t.slug) or 'thread'}.{t.thread_id + REDIRECT_ID_OFFSET}/"

    def post_path(self, p: Post) -> str:
        return self.thread_path(self.forum.thread(p.thread_id)) + f"post-{p.post_id}"

    def index_url(self) -> str:
        return self.host + "/"

    def forum_url(self, f: Forum, page: int = 1) -> str:
        return self.host + self.forum_path_of(f, page)

    def thread_url(self, t: Thread, page: int = 1) -> str:
        return self.host + self.thread_path(t, page)

    # --- routing ----------------------------------------------------------------------------------
    def respond(self, path: str) -> tuple[int, bytes, dict]:
        if path == "/robots.txt":
            return 200, ROBOTS, {"Content-Type": "text/plain"}
        route = urlsplit(path).path
        if route in ("/", "/forums/"):
            return 200, self.index_page().encode(), _HTML
        match = _THREAD_PATH.match(route)
        if match:
            return self._thread_response(int(match["id"]), match["slug"], match["page"], match["post"], route)
        match = _FORUM_PATH.match(route)
        if match:
            f = self.forum.forums.get(int(match["id"]))
            if f is not None and not f.is_category:
                page = int(match["page"] or 1)
                if match["slug"] != slugify(f.title) or page == 1 and match["page"]:
                    return _redirect(self.forum_path_of(f, page))
                pages = self.listing_page_count(f)
                if page > pages:
                    return _redirect(self.forum_path_of(f, pages))
                return 200, self.forum_page(f, page).encode(), _HTML
        return 404, self._error_page("The requested page could not be found.").encode(), _HTML

    def _thread_response(self, thread_id: int, slug: str, page: str | None, post: str | None, route: str):
        real = self._existing_thread(thread_id)
        if real is None:
            moved = self._existing_thread(thread_id - REDIRECT_ID_OFFSET)
            if moved is not None and self._is_moved(moved):
                # The redirect thread left behind by a move answers with the real thread.
                return _redirect(self.thread_path(moved))
            return 404, self._error_page("The requested thread could not be found.").encode(), _HTML
        if post:
            position = int(post) - thread_id * POST_SLOTS
            if not 1 <= position <= real.post_count:
                return 404, self._error_page("The requested post could not be found.").encode(), _HTML
            target = self._layout(thread_id)[1][position][1]
            return _redirect(self.thread_path(real, target) + f"#post-{post}")
        if route.endswith("/latest"):
            return _redirect(self.thread_path(real, self.page_count(thread_id)))
        number = int(page or 1)
        canonical = self.thread_path(real, min(number, self.page_count(thread_id)))
        if slug != (slugify(real.slug) or "thread") or number == 1 and page or number > self.page_count(thread_id):
            return _redirect(canonical)
        return 200, self.thread_page(real, number).encode(), _HTML

    def _existing_thread(self, thread_id: int) -> Thread | None:
        exists = any(thread_id in self.forum.thread_ids(f) for f in self.forum.forums.values())
        return self.forum.thread(thread_id) if exists else None

    def _is_moved(self, thread: Thread) -> bool:
        return any(getattr(self.forum.moved_stub(f), "thread_id", None) == thread.thread_id
                   for f in self.forum.forums.values())

    # --- pages ------------------------------------------------------------------------------------
    def index_page(self) -> str:
        blocks = []
        for cat in self.forum.categories:
            anchor = f"{slugify(cat.title)}.{cat.forum_id}"
            nodes = "".join(self._node(self.forum.forums[c]) for c in cat.children)
            blocks.append(
                f'<div class="block block--category block--category{cat.forum_id}">\n'
                f'<span class="u-anchorTarget" id="{anchor}"></span>\n<div class="block-container">\n'
                f'<h2 class="block-header"><a href="/.#{anchor}">{escape(cat.title)}</a>'
                f'<span class="block-desc">{escape(cat.title)} discussion</span></h2>\n'
                f'<div class="block-body">{nodes}</div>\n</div>\n</div>\n'
            )
        return self._frame("forum_list", BOARD_NAME, "".join(blocks), crumbs=[], heading=None,
                           canonical=self.host + "/")

    def _node(self, f: Forum) -> str:
        threads = self.forum.listing(f)
        messages = sum(t.post_count for t in threads)  # cheap on a big forum; deleted posts included
        subs = ""
        if f.children:
            links = "".join(
                f'<li><a href="{self.forum_path_of(self.forum.forums[c])}" class="subNodeLink subNodeLink--forum ">'
                f"{escape(self.forum.forums[c].title)}</a></li>\n" for c in f.children
            )
            subs = (
                '<div class="node-subNodeMenu"><a class="menuTrigger" data-xf-click="menu" role="button" tabindex="0" '
                'aria-expanded="false" aria-haspopup="true">Sub-forums</a><div class="menu" data-menu="menu" '
                'aria-hidden="true"><div class="menu-content"><h4 class="menu-header">Sub-forums</h4>'
                f'<ol class="subNodeMenu">{links}</ol></div></div></div>'
            )
        extra = ""
        if threads:
            latest = max(threads, key=lambda t: t.last_post_at)
            last = self.last_visible(latest)
            extra = (
                '<div class="node-extra"><div class="node-extra-icon">' + self._avatar(last, "xs") + "</div>"
                f'<div class="node-extra-row"><a href="{self.post_path(last)}" class="node-extra-title" '
                f'title="{escape(latest.title)}">{escape(latest.title)}</a></div>'
                '<div class="node-extra-row"><ul class="listInline listInline--bullet">'
                f"<li>{self._time(last.posted_at, 'node-extra-date u-dt')}</li>"
                f'<li class="node-extra-user">{self._username(last)}</li></ul></div></div>'
            )
        counts = (("Threads", len(threads)), ("Messages", messages))

        def stats(kind: str) -> str:
            return "".join(f'<dl class="pairs pairs--{kind}"><dt>{label}</dt><dd>{_number_short(n)}</dd></dl>'
                           for label, n in counts)
        return (
            f'\n<div class="node node--id{f.forum_id} node--depth2 node--forum node--read">\n<div class="node-body">'
            '<span class="node-icon" aria-hidden="true"><i class="fa--xf far fa-comments" aria-hidden="true"></i></span>'
            '<div class="node-main js-nodeMain"><h3 class="node-title">'
            f'<a href="{self.forum_path_of(f)}" data-xf-init="" data-shortcut="node-description">{escape(f.title)}</a></h3>'
            f'<div class="node-description ">Talk about {escape(f.title.lower())}.</div>'
            f'<div class="node-meta"><div class="node-statsMeta">{stats("inline")}</div>{subs}</div></div>'
            f'<div class="node-stats">{stats("rows")}</div>{extra}</div>\n</div>'
        )

    def forum_page(self, f: Forum, page: int) -> str:
        pages = self.listing_page_count(f)
        rows = []
        if page == 1:  # XenForo shows sticky threads on the first page only, above the others
            stickies = [t for t in self.forum.listing(f) if t.sticky]
            if stickies:
                rows.append('<div class="structItemContainer-group structItemContainer-group--sticky">'
                            + "".join(self._thread_row(t, sticky=True) for t in stickies) + "</div>")
        # Rows in the model's order (by last post); computing every thread's last *visible* post would cost
        # a pass over the whole forum per page. They differ only for a thread whose last post is deleted.
        normal = listing_page_rows(self.forum, f, page)
        rows.append('<div class="structItemContainer-group js-threadList">' + "".join(
            self._redirect_row(e[1]) if isinstance(e, tuple) else self._thread_row(e) for e in normal) + "</div>")
        subforums = ""
        if f.children:
            subforums = ('<div class="block"><div class="block-container"><div class="block-body">'
                         + "".join(self._node(self.forum.forums[c]) for c in f.children) + "</div></div></div>")
        nav = _page_nav(page, pages, lambda n: self.forum_path_of(f, n))
        body = (
            subforums
            + f'<div class="block " data-xf-init="" data-type="thread" data-href="/inline-mod/">'
            f'<div class="block-outer"><div class="block-outer-main">{nav}</div></div>'
            '<div class="block-container"><div class="block-body"><div class="structItemContainer">'
            + "".join(rows) + "</div></div></div>"
            f'<div class="block-outer block-outer--after"><div class="block-outer-main">{nav}</div>'
            '<div class="block-outer-opposite"><a href="/login/" class="button--link button--wrap button" '
            'data-xf-click="overlay"><span class="button-text">You must log in or register to post here.</span></a>'
            "</div></div></div>"
        )
        parents = self.forum.forum_path(f.forum_id)[:-1]
        title = f.title + (f" | Page {page}" if page > 1 else "")
        return self._frame(
            "forum_view", f"{title} | {BOARD_NAME}", body, crumbs=parents, heading=escape(f.title),
            description=f"Talk about {escape(f.title.lower())}.", container=f"node-{f.forum_id}",
            canonical=self.host + self.forum_path_of(f, page),
            prev_url=self.host + self.forum_path_of(f, page - 1) if page > 1 else None,
            next_url=self.host + self.forum_path_of(f, page + 1) if page < pages else None,
        )

    def _thread_row(self, t: Thread, sticky: bool = False) -> str:
        starter = self.forum.post(t.thread_id, 1)
        last = self.last_visible(t)
        pages = self.page_count(t.thread_id)
        jump = ""
        if pages > 1:
            jump = '<span class="structItem-pageJump">' + "".join(
                f'<a href="{self.thread_path(t, n)}">{n}</a>' for n in range(max(2, pages - 2), pages + 1)) + "</span>"
        statuses = ""
        if sticky:
            statuses = ('<ul class="structItem-statuses"><li><i class="structItem-status structItem-status--sticky" '
                        'aria-hidden="true" title="Sticky"></i><span class="u-srOnly">Sticky</span></li></ul>')
        replies = len(self._layout(t.thread_id)[0]) - 1
        return (
            f'<div class="structItem structItem--thread js-inlineModContainer js-threadListItem-{t.thread_id}" '
            f'data-author="{escape(t.starter)}">'
            f'<div class="structItem-cell structItem-cell--icon"><div class="structItem-iconContainer">'
            f'{self._avatar(starter, "s")}</div></div>'
            f'<div class="structItem-cell structItem-cell--main" data-xf-init="touch-proxy">{statuses}'
            f'<div class="structItem-title"><a href="{self.thread_path(t)}" class="" data-tp-primary="on" '
            f'data-xf-init="preview-tooltip" data-preview-url="{self.thread_path(t)}preview">{escape(t.title)}</a></div>'
            f'<div class="structItem-minor"><ul class="structItem-parts"><li>{self._username(starter)}</li>'
            f'<li class="structItem-startDate"><a href="{self.thread_path(t)}" rel="nofollow">'
            f"{self._time(t.created_at)}</a></li></ul>{jump}</div></div>"
            f'<div class="structItem-cell structItem-cell--meta" title="First message reaction score: {t.views % 7}">'
            f'<dl class="pairs pairs--justified"><dt>Replies</dt><dd>{_number_short(replies)}</dd></dl>'
            f'<dl class="pairs pairs--justified structItem-minor"><dt>Views</dt><dd>{_number_short(t.views)}</dd></dl></div>'
            f'<div class="structItem-cell structItem-cell--latest"><a href="{self.thread_path(t)}latest" rel="nofollow">'
            f"{self._time(last.posted_at, 'structItem-latestDate u-dt')}</a>"
            f'<div class="structItem-minor">{self._username(last)}</div></div>'
            f'<div class="structItem-cell structItem-cell--icon structItem-cell--iconEnd"><div class="structItem-iconContainer">'
            f'{self._avatar(last, "xxs")}</div></div></div>'
        )

    def _redirect_row(self, t: Thread) -> str:
        stub_id = t.thread_id + REDIRECT_ID_OFFSET
        starter = self.forum.post(t.thread_id, 1)
        path = self.redirect_path(t)
        return (
            f'<div class="structItem structItem--thread js-inlineModContainer js-threadListItem-{stub_id}" '
            f'data-author="{escape(t.starter)}">'
            f'<div class="structItem-cell structItem-cell--icon"><div class="structItem-iconContainer">'
            f'{self._avatar(starter, "s")}</div></div>'
            '<div class="structItem-cell structItem-cell--main" data-xf-init="touch-proxy">'
            '<ul class="structItem-statuses"><li><i class="structItem-status structItem-status--redirect" '
            'aria-hidden="true" title="Redirect"></i><span class="u-srOnly">Redirect</span></li></ul>'
            f'<div class="structItem-title"><a href="{path}" class="" data-tp-primary="on" data-xf-init="preview-tooltip" '
            f'data-preview-url="{path}preview">{escape(t.title)}</a></div>'
            f'<div class="structItem-minor"><ul class="structItem-parts"><li>{self._username(starter)}</li>'
            f'<li class="structItem-startDate"><a href="{path}" rel="nofollow">{self._time(t.created_at)}</a></li>'
            "</ul></div></div>"
            '<div class="structItem-cell structItem-cell--meta" title="First message reaction score: 0">'
            '<dl class="pairs pairs--justified"><dt>Replies</dt><dd>&ndash;</dd></dl>'
            '<dl class="pairs pairs--justified structItem-minor"><dt>Views</dt><dd>&ndash;</dd></dl></div>'
            '<div class="structItem-cell structItem-cell--latest">N/A</div>'
            '<div class="structItem-cell structItem-cell--icon structItem-cell--iconEnd"><div class="structItem-iconContainer">'
            '<span class="avatar avatar--xxs avatar--default avatar--default--text" data-user-id="0">'
            '<span class="avatar-u0-xxs"></span></span></div></div></div>'
        )

    def thread_page(self, t: Thread, page: int) -> str:
        pages = self.page_count(t.thread_id)
        posts = "".join(self._message(p) for p in self.thread_posts(t.thread_id, page))
        nav = _page_nav(page, pages, lambda n: self.thread_path(t, n))
        starter = self.forum.post(t.thread_id, 1)
        description = (
            '<ul class="listInline listInline--bullet"><li><i class="fa--xf far fa-user" aria-hidden="true" '
            f'title="Thread starter"></i><span class="u-srOnly">Thread starter</span>{self._username(starter, "u-concealed")}'
            '</li><li><i class="fa--xf far fa-clock" aria-hidden="true" title="Start date"></i>'
            f'<span class="u-srOnly">Start date</span><a href="{self.thread_path(t)}" class="u-concealed">'
            f"{self._time(t.created_at)}</a></li></ul>"
        )
        body = (
            '<div class="block block--messages" data-xf-init="" data-type="post" data-href="/inline-mod/">'
            f'<div class="block-outer"><div class="block-outer-main">{nav}</div></div>'
            '<div class="block-outer js-threadStatusField"></div>'
            '<div class="block-container lbContainer" data-xf-init="lightbox select-to-quote" '
            f'data-message-selector=".js-post" data-lb-id="thread-{t.thread_id}" data-lb-universal="0">'
            f'<div class="block-body js-replyNewMessageContainer">{posts}</div></div>'
            f'<div class="block-outer block-outer--after"><div class="block-outer-main">{nav}</div>'
            '<div class="block-outer-opposite"><a href="/login/" class="button--link button" data-xf-click="overlay">'
            '<span class="button-text">You must log in or register to reply here.</span></a></div></div></div>'
        )
        f = self.forum.forums[t.forum_id]
        title = t.title + (f" | Page {page}" if page > 1 else "")
        return self._frame(
            "thread_view", f"{title} | {BOARD_NAME}", body, crumbs=self.forum.forum_path(f.forum_id),
            heading=escape(t.title), description=description, container=f"node-{f.forum_id}",
            content=f"thread-{t.thread_id}", canonical=self.host + self.thread_path(t, page),
            prev_url=self.host + self.thread_path(t, page - 1) if page > 1 else None,
            next_url=self.host + self.thread_path(t, page + 1) if page < pages else None,
        )

    # --- posts ------------------------------------------------------------------------------------
    def _message(self, p: Post) -> str:
        if p.deleted:
            return self._deleted_message(p)
        number = self._layout(p.thread_id)[1][p.position][0]
        when = self._time(p.posted_at)
        attachments = ""
        if p.attachments:
            attachments = ('<section class="message-attachments"><h4 class="block-textHeader">Attachments</h4>'
                           '<ul class="attachmentList">' + "".join(_attachment_item(a) for a in p.attachments)
                           + "</ul></section>")
        edit = ""
        if p.edited_at:
            who = "Last edited:" if p.edited_by else "Last edited by a moderator:"
            stamp = self._time(p.edited_at, extra=' itemprop="dateModified"')
            edit = f'<div class="message-lastEdit">{who} {stamp}</div>'
        signature = ""
        if p.signature:
            signature = f'<aside class="message-signature"><div class="bbWrapper">{escape(p.signature)}</div></aside>'
        reactions = ""
        if p.post_id % 3 == 0:
            reactions = (
                '<ul class="reactionSummary"><li><span class="reaction reaction--small reaction--1" data-reaction-id="1">'
                f'<i aria-hidden="true"></i><img src="{_PIXEL}" class="reaction-sprite js-reaction" alt="Like" '
                'title="Like" /></span></li></ul><span class="u-srOnly">Reactions:</span>'
                f'<a class="reactionsBar-link" href="/posts/{p.post_id}/reactions" data-xf-click="overlay" '
                f'data-cache="false" rel="nofollow"><bdi>{escape(self.forum.author_name(p.thread_id, 1))}</bdi></a>'
            )
        return (
            f'\n<article class="message message--post js-post js-inlineModContainer  " '
            f'data-author="{escape(p.author or p.guest_name)}" data-content="post-{p.post_id}" id="js-post-{p.post_id}">'
            f'<span class="u-anchorTarget" id="post-{p.post_id}"></span><div class="message-inner">'
            f'<div class="message-cell message-cell--user">{self._user_block(p)}</div>'
            '<div class="message-cell message-cell--main"><div class="message-main js-quickEditTarget">'
            '<header class="message-attribution message-attribution--split"><div class="message-attribution-main">'
            f'<a href="{self.post_path(p)}" class="u-concealed" rel="nofollow">{when}</a></div>'
            '<ul class="message-attribution-opposite message-attribution-opposite--list">'
            f'<li><a href="{self.post_path(p)}" data-xf-init="share-tooltip" data-href="/posts/{p.post_id}/share" '
            'rel="nofollow"><i class="fa--xf far fa-share-alt" aria-hidden="true"></i></a></li>'
            f'<li><a href="{self.post_path(p)}" rel="nofollow">#{number:,}</a></li></ul></header>'
            '<div class="message-content js-messageContent">'
            f'<div class="message-userContent lbContainer js-lbContainer " data-lb-id="post-{p.post_id}" '
            f'data-lb-caption-desc="{escape(p.author or p.guest_name)} &middot; {_full_date(p.posted_at, self.tz)}">'
            f'<article class="message-body js-selectToQuote"><div class="bbWrapper">{self._bb_body(p)}</div>'
            '<div class="js-selectToQuoteEnd">&nbsp;</div></article>'
            f"{attachments}</div>{edit}{signature}</div>"
            '<footer class="message-footer">'
            f'<div class="reactionsBar js-reactionsList {"is-active" if reactions else ""}">{reactions}</div>'
            '<div class="js-historyTarget message-historyTarget toggleTarget" data-href="trigger-href"></div>'
            "</footer></div></div></div></article>"
        )

    def _deleted_message(self, p: Post) -> str:
        # What moderators (and this site's visitors) see of a soft-deleted post: who, when, why.
        name = p.author or p.guest_name
        deleted_at = self._time(p.posted_at + timedelta(minutes=14))
        return (
            '\n<div class="message message--deleted message--post  js-post js-inlineModContainer" '
            f'data-author="{escape(name)}" data-content="post-{p.post_id}">'
            f'<span class="u-anchorTarget" id="post-{p.post_id}"></span><div class="message-inner">'
            '<div class="message-cell message-cell--user"><header itemscope itemtype="https://schema.org/Person" '
            f'class="message-user"><meta itemprop="name" content="{escape(name)}"><div class="message-avatar">'
            f'<div class="message-avatar-wrapper">{self._avatar(p, "s")}</div></div>'
            '<span class="message-userArrow"></span></header></div>'
            '<div class="message-cell message-cell--main"><div class="message-attribution">'
            '<ul class="listInline listInline--bullet message-attribution-main">'
            f'<li><a href="{self.post_path(p)}" class="u-concealed" rel="nofollow">{self._time(p.posted_at)}</a></li>'
            f"<li>{self._username(p, 'u-concealed')}</li></ul></div>"
            '<div class="messageNotice messageNotice--deleted"><ul class="listInline listInline--bullet listInline--selfInline">'
            f"<li>Deleted by Nutz Admin</li><li>{deleted_at}</li><li>Reason: Off topic</li></ul>"
            f'<a href="/posts/{p.post_id}/show" class="u-jsOnly" data-xf-click="inserter" '
            f'data-replace="[data-content=post-{p.post_id}]">Show&hellip;</a></div></div></div></div>'
        )

    def _user_block(self, p: Post) -> str:
        if p.author:
            extras = (
                '<div class="message-userExtras"><dl class="pairs pairs--justified"><dt>Joined</dt>'
                f"<dd>{_date_string(p.posted_at - timedelta(days=400 + p.author_id % 900), self.tz)}</dd></dl>"
                f'<dl class="pairs pairs--justified"><dt>Messages</dt><dd>{(p.author_id * 7) % 9000:,}</dd></dl></div>'
            )
            name = (f'<h4 class="message-name">{self._username(p, extra=NAME_PROP)}</h4>'
                    '<h5 class="userTitle message-userTitle" dir="auto" itemprop="jobTitle">Well-known member</h5>')
        else:
            extras = ""
            name = (f'<h4 class="message-name"><span class="username " dir="auto" data-user-id="0" itemprop="name">'
                    f'{escape(p.guest_name)}</span></h4>'
                    '<h5 class="userTitle message-userTitle" dir="auto" itemprop="jobTitle">Guest</h5>')
        return (
            '<section itemscope itemtype="https://schema.org/Person" class="message-user">'
            f'<div class="message-avatar "><div class="message-avatar-wrapper">{self._avatar(p, "m")}</div></div>'
            f'<div class="message-userDetails">{name}</div>{extras}<span class="message-userArrow"></span></section>'
        )

    def _bb_body(self, p: Post) -> str:
        parts = [quotes_html(self.forum, p, self._quote)]
        parts.append(escape(p.text).replace(". ", ".<br />\n", 1))
        for url in p.images:
            proxied = f"/proxy.php?image={quote(url, safe='')}&amp;hash={p.post_id:x}"
            parts.append(
                f'<br />\n<div class="bbImageWrapper  js-lbImage" title="" data-src="{proxied}" '
                'data-lb-sidebar-href="" data-lb-caption-extra-html="" data-single-image="1">'
                f'<img src="{proxied}" data-url="{escape(url)}" class="bbImage" data-zoom-target="1" style="" alt="" '
                'title="" width="" height="" loading="lazy" /></div>'
            )
        for url in p.lazy_images:
            parts.append(f'<br />\n<img src="{_PIXEL}" data-src="{escape(url)}" class="bbImage lazyload" alt="" />'
                         f'<noscript><img src="{escape(url)}" class="bbImage" alt="" /></noscript>')
        for url in p.links:
            parts.append(f' <a href="{escape(url)}" target="_blank" class="link link--external" '
                         'rel="nofollow ugc noopener">parts link</a>')
        if p.post_id % 7 == 0:
            parts.append(f' <img src="{_PIXEL}" class="smilie smilie--sprite smilie--sprite8" alt=":rolleyes:" '
                         'title="Roll eyes    :rolleyes:" loading="lazy" data-shortname=":rolleyes:" />')
        elif p.post_id % 11 == 0:
            parts.append(' <img class="smilie smilie--emoji" loading="lazy" alt="\U0001F44D" title="Thumbs up    :thumbsup:" '
                         'src="https://cdn.jsdelivr.net/joypixels/assets/6.6/png/unicode/64/1f44d.png" '
                         'data-shortname=":thumbsup:" />')
        return "".join(parts)

    def _quote(self, quoted: Post, nested: str) -> str:
        name = quoted.author or quoted.guest_name
        member = f"member: {quoted.author_id}" if quoted.author else ""
        text = "" if quoted.deleted else escape(quoted.text)
        return (
            f'<blockquote data-attributes="{member}" data-quote="{escape(name)}" data-source="post: {quoted.post_id}"\n'
            '\tclass="bbCodeBlock bbCodeBlock--expandable bbCodeBlock--quote js-expandWatch">'
            f'<div class="bbCodeBlock-title"><a href="/goto/post?id={quoted.post_id}" class="bbCodeBlock-sourceJump" '
            f'rel="nofollow" data-xf-click="attribution" data-content-selector="#post-{quoted.post_id}">'
            f"{escape(name)} said:</a></div>"
            '<div class="bbCodeBlock-content"><div class="bbCodeBlock-expandContent js-expandContent ">'
            f"{nested}{text}</div>"
            '<div class="bbCodeBlock-expandLink js-expandLink"><a role="button" tabindex="0">Click to expand...</a></div>'
            "</div></blockquote>"
        )

    # --- small pieces -----------------------------------------------------------------------------
    def _username(self, p: Post, classes: str = "", extra: str = "") -> str:
        if not p.author:
            return f'<span class="username {classes}" dir="auto" data-user-id="0"{extra}>{escape(p.guest_name)}</span>'
        return (f'<a href="{member_url(p.author, p.author_id)}" class="username {classes}" dir="auto" '
                f'data-user-id="{p.author_id}" data-xf-init="member-tooltip"{extra}>{escape(p.author)}</a>')

    def _avatar(self, p: Post, size: str) -> str:
        if not p.author:
            name = p.guest_name
            return (f'<span class="avatar avatar--{size} avatar--default avatar--default--dynamic" data-user-id="0" '
                    f'style="background-color: #7a8599; color: #1f232b" title="{escape(name)}">'
                    f'<span class="avatar-u0-{size}" role="img" aria-label="{escape(name)}">{escape(name[:1].upper())}'
                    "</span></span>")
        uid = p.author_id
        return (f'<a href="{member_url(p.author, uid)}" class="avatar avatar--{size}" data-user-id="{uid}" '
                f'data-xf-init="member-tooltip"><img src="/data/avatars/{size}/{uid // 1000}/{uid}.jpg?1690000000" '
                f'alt="{escape(p.author)}" class="avatar-u{uid}-{size}" width="48" height="48" loading="lazy" /></a>')

    def _time(self, when: datetime, classes: str = "u-dt", extra: str = "") -> str:
        """XenForo's ``<time>``: exact instant in ``datetime``/``data-time``, printed relative to now."""
        local = when.astimezone(self.tz)
        return (
            f'<time  class="{classes}" dir="auto" datetime="{local.strftime("%Y-%m-%dT%H:%M:%S%z")}" '
            f'data-time="{int(when.timestamp())}" data-date-string="{_date_string(when, self.tz)}" '
            f'data-time-string="{local:%H:%M}" title="{_full_date(when, self.tz)}"{extra}>'
            f"{_relative_date(when, self.now, self.tz)}</time>"
        )

    def _frame(self, template: str, title: str, body: str, crumbs: list, heading: str | None,
               description: str = "", container: str = "", content: str = "", canonical: str = "",
               prev_url: str | None = None, next_url: str | None = None) -> str:
        trail = [("Home", self.host + "/"), ("Forums", "/")] + [(f.title, self.forum_path_of(f)) for f in crumbs]
        items = "".join(
            f'\n<li itemprop="itemListElement" itemscope itemtype="https://schema.org/ListItem">'
            f'<a href="{url}" itemprop="item"><span itemprop="name">{escape(name)}</span></a>'
            f'<meta itemprop="position" content="{n}" /></li>' for n, (name, url) in enumerate(trail, 1)
        )
        header = ""
        if heading:
            header = (f'<div class="p-body-header"><div class="p-title "><h1 class="p-title-value">{heading}</h1></div>'
                      + (f'<div class="p-description">{description}</div>' if description else "") + "</div>")
        links = f'<link rel="canonical" href="{canonical}" />'
        links += f'\n<link rel="prev" href="{prev_url}" />' if prev_url else ""
        links += f'\n<link rel="next" href="{next_url}" />' if next_url else ""
        local_now = self.now.astimezone(self.tz)
        midnight = local_now.replace(hour=0, minute=0, second=0, microsecond=0)
        return (
            '<!DOCTYPE html>\n<html id="XF" lang="en-GB" dir="LTR" data-app="public" '
            f'data-template="{template}" data-container-key="{container}" data-content-key="{content}" '
            'data-logged-in="false" data-cookie-prefix="xf_" '
            f'class="has-no-js template-{template}">\n<head>\n<meta charset="utf-8" />\n'
            f"<title>{escape(title)}</title>\n{links}\n"
            f'<meta property="og:site_name" content="{BOARD_NAME}" />\n'
            f'<meta property="og:title" content="{escape(title)}" />\n</head>\n'
            f'<body data-template="{template}">\n<div class="p-pageWrapper" id="top">\n'
            '<header class="p-header" id="header"><div class="p-header-inner"><div class="p-header-content">'
            f'<div class="p-header-logo p-header-logo--image"><a href="{self.host}"><img src="/styles/mx5nutz/logo.png" '
            f'alt="{BOARD_NAME}" width="300" height="60" /></a></div></div></div></header>\n'
            '<div class="p-navSticky p-navSticky--primary" data-xf-init="sticky-header"><nav class="p-nav">'
            '<div class="p-nav-inner"><div class="p-nav-opposite"><div class="p-navgroup p-account p-navgroup--guest">'
            '<a href="/login/" class="p-navgroup-link p-navgroup-link--textual p-navgroup-link--logIn" '
            'data-xf-click="overlay" data-follow-redirects="on"><span class="p-navgroup-linkText">Log in</span></a>'
            '</div><div class="p-navgroup p-discovery"><a href="/search/" class="p-navgroup-link '
            'p-navgroup-link--iconic p-navgroup-link--search" data-xf-click="menu" aria-label="Search" '
            'aria-expanded="false" aria-haspopup="true" title="Search"><i aria-hidden="true"></i>'
            '<span class="p-navgroup-linkText">Search</span></a></div></div></div></nav></div>\n'
            '<div class="p-body"><div class="p-body-inner">\n'
            f'<ul class="p-breadcrumbs " itemscope itemtype="https://schema.org/BreadcrumbList">{items}</ul>\n'
            f'{header}\n<div class="p-body-main  "><div class="p-body-content"><div class="p-body-pageContent">\n'
            f"{body}\n</div></div></div>\n"
            f'<ul class="p-breadcrumbs p-breadcrumbs--bottom" itemscope itemtype="https://schema.org/BreadcrumbList">'
            f"{items}</ul>\n</div></div>\n"
            '<footer class="p-footer" id="footer"><div class="p-footer-inner"><div class="p-footer-copyright">'
            '<a href="https://xenforo.com" class="u-concealed" dir="ltr" target="_blank" rel="sponsored noopener">'
            'Community platform by XenForo<sup>&reg;</sup> <span class="copyright">&copy; 2010-2021 XenForo Ltd.</span>'
            "</a></div></div></footer>\n</div>\n"
            # XenForo's JS config: the server clock and the viewer's local midnight, i.e. the page's offset.
            "<script>\n\tjQuery.extend(true, XF.config, {\n\t\tuserId: 0,\n"
            f"\t\ttime: {{\n\t\t\tnow: {int(self.now.timestamp())},\n\t\t\ttoday: {int(midnight.timestamp())},\n"
            f"\t\t\ttodayDow: {local_now.isoweekday() % 7}\n\t\t}}\n\t}});\n</script>\n</body>\n</html>\n"
        )

    def _error_page(self, message: str) -> str:
        body = (f'<div class="blockMessage blockMessage--error blockMessage--iconic">{escape(message)}</div>')
        return self._frame("error", f"Oops! We ran into some problems. | {BOARD_NAME}", body, crumbs=[],
                           heading="Oops! We ran into some problems.", canonical=self.host + "/")


def _redirect(path: str) -> tuple[int, bytes, dict]:
    return 301, b"", {**_HTML, "Location": path}


def _attachment_path(attachment_id: int) -> str:
    return f"/attachments/photo-{attachment_id}-jpg.{attachment_id}/"


def _attachment_item(attachment_id: int) -> str:
    path = _attachment_path(attachment_id)
    name = f"photo-{attachment_id}.jpg"
    return (
        '<li class="attachment"><div class="attachment-icon attachment-icon--img">'
        f'<a href="{path}" target="_blank" class="js-lbImage"><img src="/data/attachments/{attachment_id // 1000}/'
        f'{attachment_id}-{attachment_id * 2654435761 % 2**64:016x}.jpg" alt="{name}" /></a></div>'
        f'<div class="attachment-name"><a href="{path}" target="_blank" title="{name}">{name}</a></div>'
        f'<div class="attachment-details"><span class="attachment-details-size">{attachment_id % 900 + 40}.2 KB</span>'
        f'<span class="attachment-details-views">Views: {attachment_id % 97}</span></div></li>'
    )


def _body_words(p: Post) -> str:
    """The post's own words as a reader sees them (links show their anchor text)."""
    return " ".join((p.text + " parts link" * len(p.links)).split())


def _number_short(n: int) -> str:
    """XenForo's ``number_short``: 950, 1.2K, 12K, 1.5M."""
    if n < 1000:
        return str(n)
    for size, suffix in ((1_000_000, "M"), (1000, "K")):
        if n >= size:
            value = n / size
            return (f"{value:.1f}".rstrip("0").rstrip(".") if value < 10 else f"{int(value)}") + suffix
    return str(n)


def _date_string(when: datetime, tz) -> str:
    local = when.astimezone(tz)
    return f"{local.day} {local:%b %Y}"


def _full_date(when: datetime, tz) -> str:
    return f"{_date_string(when, tz)} at {when.astimezone(tz):%H:%M}"


def _relative_date(when: datetime, now: datetime, tz) -> str:
    """What XenForo prints for a date: "A moment ago", "N minutes ago", "Today at", "Yesterday at",
    the weekday within a week, else the date."""
    ago = (now - when).total_seconds()
    if 0 <= ago < 60:
        return "A moment ago"
    if 0 <= ago < 3600:
        minutes = int(ago // 60)
        return "1 minute ago" if minutes == 1 else f"{minutes} minutes ago"
    local, days = when.astimezone(tz), days_ago(when, now, tz)
    if days in DAY_WORDS:
        return f"{DAY_WORDS[days]} at {local:%H:%M}"
    if 1 < days < 7:
        return f"{local:%A} at {local:%H:%M}"
    return _date_string(when, tz)


def _page_nav(page: int, pages: int, path_for) -> str:
    """XenForo's page navigation: the first and last pages and two either side of the current one."""
    if pages <= 1:
        return ""
    shown = sorted({1, pages, *pages_around(page, pages)})

    def item(n: int) -> str:
        kind = {page: "pageNav-page--current ", page - 1: "pageNav-page--earlier", page + 1: "pageNav-page--later"}
        return f'<li class="pageNav-page {kind.get(n, "")}"><a href="{path_for(n)}">{n}</a></li>'

    prev_jump = f'<a href="{path_for(page - 1)}" class="pageNav-jump pageNav-jump--prev">Prev</a>' if page > 1 else ""
    next_jump = f'<a href="{path_for(page + 1)}" class="pageNav-jump pageNav-jump--next">Next</a>' if page < pages else ""
    simple_prev = simple_next = ""
    if page > 1:
        simple_prev = (
            f'<a href="{path_for(1)}" class="pageNavSimple-el pageNavSimple-el--first" data-xf-init="tooltip" '
            'title="First"><i aria-hidden="true"></i> <span class="u-srOnly">First</span></a>'
            f'<a href="{path_for(page - 1)}" class="pageNavSimple-el pageNavSimple-el--prev"><i aria-hidden="true"></i> Prev</a>'
        )
    if page < pages:
        simple_next = (
            f'<a href="{path_for(page + 1)}" class="pageNavSimple-el pageNavSimple-el--next">Next <i aria-hidden="true"></i></a>'
            f'<a href="{path_for(pages)}" class="pageNavSimple-el pageNavSimple-el--last" data-xf-init="tooltip" '
            'title="Last"><i aria-hidden="true"></i> <span class="u-srOnly">Last</span></a>'
        )
    template = path_for(2).replace("page-2", "page-%page%")
    return (
        '<nav class="pageNavWrapper pageNavWrapper--mixed "><div class="pageNav  ">'
        f'{prev_jump}<ul class="pageNav-main">{"".join(item(n) for n in shown)}</ul>{next_jump}</div>'
        f'<div class="pageNavSimple">{simple_prev}<a class="pageNavSimple-el pageNavSimple-el--current" '
        'data-xf-init="tooltip" title="Go to page" data-xf-click="menu" role="button" tabindex="0" '
        f'aria-expanded="false" aria-haspopup="true">{page} of {pages}</a>'
        '<div class="menu menu--pageJump" data-menu="menu" aria-hidden="true"><div class="menu-content">'
        f'<h4 class="menu-header">Go to page</h4><div class="menu-row" data-xf-init="page-jump" data-page-url="{template}">'
        '<div class="inputGroup inputGroup--numbers"><div class="inputGroup inputGroup--numbers inputNumber" '
        'data-xf-init="number-box"><input type="number" pattern="\\d*" class="input input--number js-numberBoxTextInput '
        f'input input--numberNarrow js-pageJumpPage" value="{page}"  min="1" max="{pages}" step="1" required="required" '
        'data-menu-autofocus="true" /></div><span class="inputGroup-text"><button type="button" class="js-pageJumpGo button">'
        '<span class="button-text">Go</span></button></span></div></div></div></div>'
        f"{simple_next}</div></nav>"
    )
