"""A fake Reddit API on 127.0.0.1 that real PRAW/prawcore talk to, for the Reddit collector's tests.

PRAW is pointed at it through its own configuration (``oauth_url`` and ``reddit_url`` in a praw.ini
section, see :meth:`FakeReddit.praw_ini_section`). The answers have the shapes of the responses in
PRAW's recorded cassettes: the client-credentials token, ``Listing``/``t3``/``t1``/``more`` things,
``[submission listing, comment listing]`` for a comment page, ``{"json": {"errors": [], "data":
{"things": [...]}}}`` for ``/api/morechildren``, and Reddit's JSON error bodies (403 ``private``, 404
``banned``...). The data is ours, built with :class:`Submission` and :class:`Comment`.

Like Reddit, a comment page does not show a whole big tree: past ``top_level_limit`` top-level
comments or ``replies_limit`` replies the rest is folded into a ``more`` thing listing every hidden
comment, and past ``max_depth`` a "continue this thread" ``more`` (count 0, no children) stands in for
the replies. Every listing stops after ``listing_cap`` items (Reddit: about 1000) and pages hold at
most ``page_size`` (Reddit: 100). ``morechildren_max`` makes longer ``/api/morechildren`` requests
answer 413. :meth:`FakeReddit.fail` queues canned failures (a 429, a 500...) for one path.

    with FakeReddit([Subreddit("Miata", submissions=[...])]) as server:
        ...praw.Reddit("fake_reddit")...      # after writing server.praw_ini_section("fake_reddit")
        server.requests                      # (method, path, params, status) of every request

Run ``python -m tests.support.fake_reddit`` to serve a small sample forum until Ctrl-C.
"""

from __future__ import annotations

import base64
import html
import json
import re
import threading
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import NamedTuple
from urllib.parse import parse_qsl, urlsplit

CLIENT_ID = "fake-client-id"
CLIENT_SECRET = "fake-client-secret"
# A fixed "now" keeps top/controversial time filters deterministic: 2026-01-01T00:00:00Z.
NOW = 1767225600.0
DAY = 86400.0
TIME_FILTER_SECONDS = {"hour": 3600.0, "day": DAY, "week": 7 * DAY, "month": 31 * DAY, "year": 366 * DAY}


@dataclass
class Comment:
    id: str
    body: str
    author: str | None = "na_driver"  # None: the account is gone, served as "[deleted]"
    created_utc: float = NOW - DAY
    score: int = 1
    edited: float | bool = False
    distinguished: str | None = None
    author_flair_text: str | None = None
    replies: list[Comment] = field(default_factory=list)


@dataclass
class Submission:
    id: str
    title: str
    selftext: str = ""
    author: str | None = "na_driver"
    created_utc: float = NOW - 2 * DAY
    score: int = 10
    url: str | None = None  # a link post's target; None for a self post
    gallery: list[tuple[str, str]] = field(default_factory=list)  # (media_id, mime type), in order
    link_flair_text: str | None = None
    removed_by_category: str | None = None
    edited: float | bool = False
    over_18: bool = False
    comments: list[Comment] = field(default_factory=list)

    @property
    def fullname(self) -> str:
        return f"t3_{self.id}"


@dataclass
class Subreddit:
    name: str
    submissions: list[Submission] = field(default_factory=list)
    status: str = "public"  # "private", "banned" or "quarantined" answer like Reddit does

    @property
    def id(self) -> str:
        return base36(zlib.crc32(self.name.lower().encode()))


class LoggedRequest(NamedTuple):
    method: str
    path: str
    params: dict[str, str]  # query and form fields; the token request's are never recorded
    status: int


@dataclass
class CannedReply:
    status: int
    headers: dict[str, str]
    body: dict


def base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
        if not number:
            return out


def author_fullname(name: str) -> str:
    return f"t2_{base36(zlib.crc32(name.encode()))}"


def slug(title: str) -> str:
    return "_".join(re.findall(r"[a-z0-9]+", title.lower()))[:50] or "post"


_LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)|(?<![(\"])(https?://[^\s)<]+)")


def _inline(text: str) -> str:
    out, last = [], 0
    for match in _LINK.finditer(text):
        out.append(html.escape(text[last : match.start()], quote=False))
        label, href, bare = match.groups()
        url = href or bare
        out.append(f'<a href="{html.escape(url)}">{html.escape(label or bare, quote=False)}</a>')
        last = match.end()
    out.append(html.escape(text[last:], quote=False))
    return "".join(out)


def markdown_html(text: str) -> str:
    """Just enough of Reddit's markdown: paragraphs, ``>`` quotes, ``[label](url)`` and bare links."""
    blocks = []
    for paragraph in re.split(r"\n\s*\n", text.strip()):
        lines = paragraph.splitlines()
        if lines and all(line.startswith(">") for line in lines):
            inner = " ".join(line[1:].strip() for line in lines)
            blocks.append(f"<blockquote>\n<p>{_inline(inner)}</p>\n</blockquote>")
        else:
            blocks.append(f"<p>{_inline(' '.join(lines))}</p>")
    return '<div class="md">' + "\n\n".join(blocks) + "\n</div>"


def _walk(comments: Iterable[Comment]) -> Iterator[Comment]:
    """Pre-order: every comment before its replies, as Reddit lists hidden comments."""
    for comment in comments:
        yield comment
        yield from _walk(comment.replies)


def _listing(children: list[dict], after: str | None = None) -> dict:
    return {
        "kind": "Listing",
        "data": {
            "after": after,
            "dist": len(children),
            "modhash": "",
            "geo_filter": "",
            "children": children,
            "before": None,
        },
    }


class FakeReddit:
    """Threaded HTTP server on 127.0.0.1 playing both www.reddit.com (token) and oauth.reddit.com."""

    def __init__(
        self,
        subreddits: Iterable[Subreddit] = (),
        *,
        page_size: int = 100,
        listing_cap: int = 1000,
        top_level_limit: int = 200,
        replies_limit: int = 200,
        max_depth: int = 10,
        morechildren_max: int | None = None,
    ):
        self.subreddits = {sub.name.lower(): sub for sub in subreddits}
        self.page_size = page_size
        self.listing_cap = listing_cap
        self.top_level_limit = top_level_limit
        self.replies_limit = replies_limit
        self.max_depth = max_depth
        self.morechildren_max = morechildren_max
        self.client_id = CLIENT_ID
        self.client_secret = CLIENT_SECRET
        self.requests: list[LoggedRequest] = []
        self.errors: list[Exception] = []  # exceptions raised while answering (bugs in the fake)
        self._canned: dict[str, list[CannedReply]] = {}
        self._tokens: set[str] = set()
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    # --- lifecycle and test helpers --------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def __enter__(self) -> FakeReddit:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def praw_ini_section(self, name: str, *, with_credentials: bool = True) -> str:
        """A praw.ini section pointing PRAW at this server (update checks off: no network)."""
        lines = [
            f"[{name}]",
            f"oauth_url={self.url}",
            f"reddit_url={self.url}",
            "check_for_updates=False",
        ]
        if with_credentials:
            lines += [
                f"client_id={self.client_id}",
                f"client_secret={self.client_secret}",
                "user_agent=miata-spiders tests (fake Reddit on 127.0.0.1)",
            ]
        return "\n".join(lines) + "\n"

    def fail(self, path: str, status: int, *, times: int = 1, headers: dict | None = None, body: dict | None = None):
        """Answer the next ``times`` requests to ``path`` with ``status`` instead of the real answer."""
        reply = CannedReply(status, dict(headers or {}), body or {"message": "canned failure", "error": status})
        with self._lock:
            self._canned.setdefault(path.rstrip("/"), []).extend([reply] * times)

    def requests_to(self, prefix: str) -> list[LoggedRequest]:
        with self._lock:
            return [request for request in self.requests if request.path.startswith(prefix)]

    def subreddit_of(self, submission: Submission) -> Subreddit:
        return next(sub for sub in self.subreddits.values() if submission in sub.submissions)

    # --- Reddit's things --------------------------------------------------------------------------

    def _submission_data(self, sub: Subreddit, post: Submission) -> dict:
        permalink = f"/r/{sub.name}/comments/{post.id}/{slug(post.title)}/"
        is_self = post.url is None and not post.gallery
        if post.gallery:
            url, domain = f"https://www.reddit.com/gallery/{post.id}", "reddit.com"
        elif is_self:
            url, domain = f"https://www.reddit.com{permalink}", f"self.{sub.name}"
        else:
            url, domain = post.url, urlsplit(post.url).hostname
        data = {
            "approved_at_utc": None,
            "subreddit": sub.name,
            "selftext": post.selftext,
            "saved": False,
            "gilded": 0,
            "clicked": False,
            "title": post.title,
            "link_flair_richtext": [],
            "subreddit_name_prefixed": f"r/{sub.name}",
            "hidden": False,
            "link_flair_css_class": None,
            "downs": 0,
            "hide_score": False,
            "name": post.fullname,
            "quarantine": sub.status == "quarantined",
            "link_flair_text_color": "dark",
            "upvote_ratio": 0.97,
            "subreddit_type": "public",
            "ups": post.score,
            "total_awards_received": 0,
            "media_embed": {},
            "is_original_content": False,
            "secure_media": None,
            "is_reddit_media_domain": bool(post.gallery),
            "is_meta": False,
            "category": None,
            "secure_media_embed": {},
            "link_flair_text": post.link_flair_text,
            "score": post.score,
            "thumbnail": "self" if is_self else "default",
            "edited": post.edited,
            "author_flair_text": None,
            "is_self": is_self,
            "created": post.created_utc,
            "domain": domain,
            "allow_live_comments": False,
            "selftext_html": markdown_html(post.selftext) if post.selftext else None,
            "likes": None,
            "banned_by": None,
            "archived": False,
            "over_18": post.over_18,
            "locked": False,
            "stickied": False,
            "subreddit_id": f"t5_{sub.id}",
            "author_is_blocked": False,
            "removed_by_category": post.removed_by_category,
            "distinguished": None,
            "id": post.id,
            "author": post.author or "[deleted]",
            "num_comments": sum(1 for _ in _walk(post.comments)),
            "permalink": permalink,
            "url": url,
            "created_utc": post.created_utc,
            "media": None,
            "is_video": False,
        }
        if post.author:
            data["author_fullname"] = author_fullname(post.author)
        if post.gallery:
            data["is_gallery"] = True
            data["gallery_data"] = {
                "items": [{"media_id": media_id, "id": 100 + n} for n, (media_id, _) in enumerate(post.gallery)]
            }
            data["media_metadata"] = {
                media_id: {
                    "status": "valid",
                    "e": "Image",
                    "m": mime,
                    "p": [{"y": 81, "x": 108, "u": f"https://preview.redd.it/{media_id}.{mime.split('/')[1]}?width=108&crop=smart&auto=webp&s=0f{n}"}],
                    "s": {"y": 1200, "x": 1600, "u": f"https://preview.redd.it/{media_id}.{mime.split('/')[1]}?width=1600&format=pjpg&auto=webp&s=9a{n}"},
                    "id": media_id,
                }
                for n, (media_id, mime) in enumerate(post.gallery)
            }
        return data

    def _comment_data(self, sub: Subreddit, post: Submission, comment: Comment, parent: str, depth: int) -> dict:
        permalink = f"/r/{sub.name}/comments/{post.id}/{slug(post.title)}/{comment.id}/"
        data = {
            "subreddit_id": f"t5_{sub.id}",
            "approved_at_utc": None,
            "author_is_blocked": False,
            "edited": comment.edited,
            "author_flair_text": comment.author_flair_text,
            "gilded": 0,
            "archived": False,
            "no_follow": True,
            "author": comment.author or "[deleted]",
            "send_replies": True,
            "parent_id": parent,
            "score": comment.score,
            "approved_by": None,
            "mod_note": None,
            "all_awardings": [],
            "subreddit": sub.name,
            "body": comment.body,
            "body_html": markdown_html(comment.body),
            "name": f"t1_{comment.id}",
            "downs": 0,
            "is_submitter": comment.author is not None and comment.author == post.author,
            "collapsed": comment.body in ("[deleted]", "[removed]"),
            "distinguished": comment.distinguished,
            "stickied": False,
            "can_gild": False,
            "removal_reason": None,
            "link_id": post.fullname,
            "permalink": permalink,
            "subreddit_type": "public",
            "locked": False,
            "score_hidden": False,
            "created": comment.created_utc,
            "created_utc": comment.created_utc,
            "subreddit_name_prefixed": f"r/{sub.name}",
            "controversiality": 0,
            "depth": depth,
            "replies": "",
            "id": comment.id,
            "ups": comment.score,
        }
        if comment.author:
            data["author_fullname"] = author_fullname(comment.author)
        return data

    def _more(self, hidden: list[Comment], parent: str, depth: int) -> dict:
        ids = [comment.id for comment in _walk(hidden)]
        return {
            "kind": "more",
            "data": {"count": len(ids), "name": f"t1_{ids[0]}", "id": ids[0], "parent_id": parent, "depth": depth, "children": ids},
        }

    def _render(self, sub, post, comments: list[Comment], parent: str, depth: int, limit: int) -> list[dict]:
        """Comments as a comment page shows them: the first ``limit`` in full, the rest folded."""
        things = []
        for comment in comments[:limit]:
            data = self._comment_data(sub, post, comment, parent, depth)
            if comment.replies and depth >= self.max_depth:
                # "continue this thread": Reddit stops nesting here and links to the comment's own page.
                more = {"count": 0, "name": "t1__", "id": "_", "parent_id": f"t1_{comment.id}", "depth": depth + 1, "children": []}
                data["replies"] = _listing([{"kind": "more", "data": more}])
            elif comment.replies:
                replies = self._render(sub, post, comment.replies, f"t1_{comment.id}", depth + 1, self.replies_limit)
                data["replies"] = _listing(replies)
            things.append({"kind": "t1", "data": data})
        if comments[limit:]:
            things.append(self._more(comments[limit:], parent, depth))
        return things

    # --- endpoints --------------------------------------------------------------------------------

    def _find_subreddit(self, name: str) -> Subreddit | CannedReply:
        sub = self.subreddits.get(name.lower())
        if sub is None:
            return CannedReply(404, {}, {"message": "Not Found", "error": 404})
        if sub.status == "private":
            return CannedReply(403, {}, {"reason": "private", "message": "Forbidden", "error": 403})
        if sub.status == "banned":
            return CannedReply(404, {}, {"reason": "banned", "message": "Not Found", "error": 404})
        if sub.status == "quarantined":
            return CannedReply(403, {}, {"reason": "quarantined", "quarantine_message": "", "message": "Forbidden", "error": 403})
        return sub

    def _find_submission(self, submission_id: str) -> tuple[Subreddit, Submission] | None:
        for sub in self.subreddits.values():
            for post in sub.submissions:
                if post.id == submission_id:
                    return sub, post
        return None

    def _about(self, sub: Subreddit) -> dict:
        return {
            "kind": "t5",
            "data": {
                "display_name": sub.name,
                "display_name_prefixed": f"r/{sub.name}",
                "name": f"t5_{sub.id}",
                "id": sub.id,
                "title": f"{sub.name} fans",
                "subreddit_type": sub.status,
                "subscribers": 250000,
                "over18": False,
                "url": f"/r/{sub.name}/",
                "created_utc": 1201234567.0,
                "public_description": "",
            },
        }

    def _ordered(self, sub: Subreddit, sort: str, params: dict) -> list[Submission]:
        posts = list(sub.submissions)
        period = TIME_FILTER_SECONDS.get(params.get("t", "all"))
        if period is not None and sort in ("top", "controversial", "search"):
            posts = [post for post in posts if post.created_utc >= NOW - period]
        if sort == "search":
            words = params.get("q", "").lower().split()
            posts = [p for p in posts if all(w in f"{p.title} {p.selftext}".lower() for w in words)]
            sort = {"relevance": "top", "comments": "comments"}.get(params.get("sort", "relevance"), params.get("sort"))
        keys = {
            "new": lambda p: -p.created_utc,
            "top": lambda p: (-p.score, -p.created_utc),
            "hot": lambda p: (-p.score / (1 + (NOW - p.created_utc) / DAY), -p.created_utc),
            "controversial": lambda p: (p.score, -p.created_utc),
            "comments": lambda p: (-sum(1 for _ in _walk(p.comments)), -p.created_utc),
        }
        return sorted(posts, key=keys[sort])[: self.listing_cap]

    def _listing_page(self, sub: Subreddit, sort: str, params: dict) -> dict:
        posts = self._ordered(sub, sort, params)
        start = 0
        if params.get("after"):
            names = [post.fullname for post in posts]
            start = names.index(params["after"]) + 1 if params["after"] in names else len(posts)
        size = min(int(params.get("limit", 25)), self.page_size)
        page = posts[start : start + size]
        more_after = start + size < len(posts)
        children = [{"kind": "t3", "data": self._submission_data(sub, post)} for post in page]
        return _listing(children, page[-1].fullname if page and more_after else None)

    def _newest_comments(self, sub: Subreddit, params: dict) -> dict:
        """``/r/<sub>/comments``: the subreddit's newest comments, each as a flat t1 thing."""
        found = []

        def visit(post: Submission, comments: list[Comment], parent: str, depth: int) -> None:
            for comment in comments:
                found.append((comment, post, parent, depth))
                visit(post, comment.replies, f"t1_{comment.id}", depth + 1)

        for post in sub.submissions:
            visit(post, post.comments, post.fullname, 0)
        found.sort(key=lambda entry: -entry[0].created_utc)
        found = found[: self.listing_cap]
        names = [f"t1_{comment.id}" for comment, *_ in found]
        start = names.index(params["after"]) + 1 if params.get("after") in names else 0
        size = min(int(params.get("limit", 25)), self.page_size)
        page = found[start : start + size]
        children = []
        for comment, post, parent, depth in page:
            data = self._comment_data(sub, post, comment, parent, depth)
            data |= {"link_title": post.title, "link_author": post.author or "[deleted]", "link_permalink": f"https://www.reddit.com/r/{sub.name}/comments/{post.id}/{slug(post.title)}/"}
            children.append({"kind": "t1", "data": data})
        after = names[start + size - 1] if start + size < len(found) else None
        return _listing(children, after)

    def _info(self, params: dict) -> dict:
        """``/api/info?id=t3_a,t3_b``: those submissions, in the order asked."""
        children = []
        for fullname in params.get("id", "").split(","):
            found = self._find_submission(fullname.removeprefix("t3_")) if fullname.startswith("t3_") else None
            if found:
                children.append({"kind": "t3", "data": self._submission_data(*found)})
        return _listing(children)

    def _comment_page(self, submission_id: str, focus: str | None) -> CannedReply:
        found = self._find_submission(submission_id)
        if found is None:
            return CannedReply(404, {}, {"message": "Not Found", "error": 404})
        sub, post = found
        head = _listing([{"kind": "t3", "data": self._submission_data(sub, post)}])
        if focus is None:
            things = self._render(sub, post, post.comments, post.fullname, 0, self.top_level_limit)
            return CannedReply(200, {}, [head, _listing(things)])
        parents = {reply.id: comment for comment in _walk(post.comments) for reply in comment.replies}
        comment = next((c for c in _walk(post.comments) if c.id == focus), None)
        if comment is None:
            return CannedReply(404, {}, {"message": "Not Found", "error": 404})
        parent = f"t1_{parents[focus].id}" if focus in parents else post.fullname
        # A comment's own page restarts the nesting, so the thread continues below it.
        things = self._render(sub, post, [comment], parent, 0, 1)
        return CannedReply(200, {}, [head, _listing(things)])

    def _morechildren(self, params: dict) -> CannedReply:
        wanted = [child for child in params.get("children", "").split(",") if child]
        if self.morechildren_max is not None and len(wanted) > self.morechildren_max:
            return CannedReply(413, {}, {"message": "Payload Too Large", "error": 413})
        found = self._find_submission(params.get("link_id", "").removeprefix("t3_"))
        if found is None:
            return CannedReply(404, {}, {"message": "Not Found", "error": 404})
        sub, post = found
        things = []

        def visit(comments: list[Comment], parent: str, depth: int) -> None:
            for comment in comments:
                if comment.id in wanted:
                    things.append({"kind": "t1", "data": self._comment_data(sub, post, comment, parent, depth)})
                visit(comment.replies, f"t1_{comment.id}", depth + 1)

        visit(post.comments, post.fullname, 0)
        return CannedReply(200, {}, {"json": {"errors": [], "data": {"things": things}}})

    def _token(self, authorization: str | None, form: dict) -> CannedReply:
        expected = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        if authorization != f"Basic {expected}":
            return CannedReply(401, {}, {"message": "Unauthorized", "error": 401})
        if form.get("grant_type") != "client_credentials":
            return CannedReply(200, {}, {"error": "unsupported_grant_type"})
        token = f"fake-token-{len(self._tokens) + 1}"
        self._tokens.add(token)
        return CannedReply(200, {}, {"access_token": token, "token_type": "bearer", "expires_in": 86400, "scope": "*"})

    def _answer(self, method: str, path: str, params: dict, authorization: str | None) -> CannedReply:
        if method == "POST" and path == "/api/v1/access_token":
            return self._token(authorization, params)
        if not authorization or authorization.removeprefix("bearer ") not in self._tokens:
            headers = {"www-authenticate": 'Bearer realm="reddit", error="invalid_token"'}
            return CannedReply(401, headers, {"message": "Unauthorized", "error": 401})
        canned = self._canned.get(path.rstrip("/"))
        if canned:
            return canned.pop(0)
        if method == "POST" and path.rstrip("/") == "/api/morechildren":
            return self._morechildren(params)
        if match := re.fullmatch(r"/comments/(\w+)/?(?:_/(\w+)/?)?", path):
            return self._comment_page(match.group(1), match.group(2))
        if path.rstrip("/") == "/api/info":
            return CannedReply(200, {}, self._info(params))
        if match := re.fullmatch(r"/r/(\w+)/(about|new|hot|top|controversial|search|comments)/?", path):
            sub = self._find_subreddit(match.group(1))
            if isinstance(sub, CannedReply):
                return sub
            if match.group(2) == "about":
                return CannedReply(200, {}, self._about(sub))
            if match.group(2) == "comments":
                return CannedReply(200, {}, self._newest_comments(sub, params))
            return CannedReply(200, {}, self._listing_page(sub, match.group(2), params))
        return CannedReply(404, {}, {"message": "Not Found", "error": 404})

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as requests' session expects
            disable_nagle_algorithm = True  # headers and body go out as two writes: don't wait for an ACK

            def _serve(self, method: str) -> None:
                parts = urlsplit(self.path)
                params = dict(parse_qsl(parts.query))
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    params.update(parse_qsl(self.rfile.read(length).decode()))
                with server._lock:
                    try:
                        reply = server._answer(method, parts.path, params, self.headers.get("Authorization"))
                    except Exception as error:  # a bug in this fake: answer 500 and keep it for the test to see
                        server.errors.append(error)
                        reply = CannedReply(500, {}, {"message": f"fake server error: {error!r}", "error": 500})
                    # Never keep the token request's fields or any Authorization header.
                    logged = {} if parts.path == "/api/v1/access_token" else params
                    server.requests.append(LoggedRequest(method, parts.path, logged, reply.status))
                body = json.dumps(reply.body).encode()
                self.send_response(reply.status)
                # Reddit's rate-limit headers, with plenty left: prawcore's limiter never waits here.
                headers = {"x-ratelimit-remaining": "995.0", "x-ratelimit-used": "5", "x-ratelimit-reset": "300"}
                headers.update(reply.headers)
                for name, value in headers.items():
                    self.send_header(name, value)
                if self.close_connection:
                    # prawcore's token request asks for "Connection: close"; say so, or the client may
                    # reuse the socket this server is about to close.
                    self.send_header("Connection", "close")
                self.send_header("Content-Type", "application/json; charset=UTF-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                self._serve("GET")

            def do_POST(self) -> None:
                self._serve("POST")

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
                pass  # quiet tests; server.requests says what happened

        return Handler


def point_praw_at(fake: FakeReddit, monkeypatch, tmp_path, *, section: str = "fake_reddit", with_credentials: bool = True) -> str:
    """Make PRAW in this test read only a praw.ini whose ``section`` points at ``fake``.

    The file goes where PRAW looks for the user's own ($XDG_CONFIG_HOME/praw.ini), not in the working
    directory (PRAW warns about endpoint overrides there); no praw_* variable of the machine leaks in.
    """
    import os

    import praw.config

    for name in list(os.environ):
        if name.lower().startswith("praw_"):
            monkeypatch.delenv(name)
    monkeypatch.delenv("APPDATA", raising=False)
    config_home = tmp_path / "config-home"
    config_home.mkdir(exist_ok=True)
    (config_home / "praw.ini").write_text(fake.praw_ini_section(section, with_credentials=with_credentials))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config_home))
    workdir = tmp_path / "workdir"
    workdir.mkdir(exist_ok=True)
    monkeypatch.chdir(workdir)
    monkeypatch.setattr(praw.config.Config, "CONFIG", None)  # PRAW reads praw.ini once per process
    return section


def sample_subreddits() -> list[Subreddit]:
    """A small r/Miata and r/mx5 with every case the collector handles, for demos and tests."""
    chain = Comment("c0d0", "Start of a long back-and-forth about boost.", author="turbo_tom", created_utc=NOW - DAY + 10)
    tip = chain
    for level in range(1, 7):
        reply = Comment(f"c0d{level}", f"Reply at depth {level}.", author=("na_driver", "turbo_tom")[level % 2], created_utc=NOW - DAY + 10 + level)
        tip.replies.append(reply)
        tip = reply
    miata = Subreddit(
        "Miata",
        submissions=[
            Submission(
                "m1a001",
                "BEGi turbo on a 99: boost creep above 6k",
                selftext="Boost creeps to 14 psi by redline. Log: https://i.imgur.com/boostlog.png\n\nAny ideas?",
                author="turbo_tom",
                created_utc=NOW - 3 * DAY,
                score=120,
                link_flair_text="Tech",
                comments=[
                    chain,
                    Comment(
                        "c001",
                        "> Boost creeps to 14 psi\n\nPort the wastegate, it is too small. See [this writeup](https://www.miataturbo.net/wastegate).",
                        author="savington",
                        created_utc=NOW - 3 * DAY + 600,
                        score=45,
                        author_flair_text="99 BEGi",
                        replies=[
                            Comment("c002", "Did that, creep is gone. Thanks!", author="turbo_tom", created_utc=NOW - 3 * DAY + 1200, edited=NOW - 3 * DAY + 1300),
                            Comment("c003", "[deleted]", author=None, created_utc=NOW - 3 * DAY + 1500),
                        ],
                    ),
                    Comment("c004", "[removed]", author="spammer", created_utc=NOW - 3 * DAY + 700),
                    Comment("c005", "Welcome to the sub.", author="AutoModerator", distinguished="moderator", created_utc=NOW - 3 * DAY + 60),
                ],
            ),
            Submission(
                "m1a002",
                "Finally finished my NA build",
                gallery=[("gal1abc", "image/jpg"), ("gal2def", "image/png")],
                author="na_driver",
                created_utc=NOW - 40 * DAY,
                score=900,
                comments=[Comment("c010", "Clean! What wheels?", author="savington", created_utc=NOW - 40 * DAY + 60)],
            ),
            Submission(
                "m1a003",
                "Flyin' Miata's guide to brake pads",
                url="https://www.flyinmiata.com/blog/brake-pads/",
                author=None,
                created_utc=NOW - 400 * DAY,
                score=300,
            ),
        ],
    )
    mx5 = Subreddit(
        "mx5",
        submissions=[
            Submission("x5a001", "ND2 or ND1?", selftext="Which one would you buy?", author="nd_owner", created_utc=NOW - DAY,
                       comments=[Comment("c100", "ND2, the extra revs are worth it.", author="na_driver", created_utc=NOW - DAY + 100)]),
        ],
    )
    return [miata, mx5, Subreddit("secretmiata", status="private")]


if __name__ == "__main__":  # pragma: no cover - manual demo
    import argparse
    import time

    parser = argparse.ArgumentParser(description="Serve sample r/Miata and r/mx5 data as a fake Reddit API.")
    parser.add_argument("--section", default="fake_reddit", help="praw.ini section name to print")
    args = parser.parse_args()
    with FakeReddit(sample_subreddits(), page_size=2, top_level_limit=3, replies_limit=2, max_depth=3) as fake:
        print(f"# Add this to ~/.config/praw.ini (or $XDG_CONFIG_HOME/praw.ini), then run e.g.\n"
              f"#   miata reddit --praw-site {args.section} --data-dir /tmp/reddit-demo -r Miata -r mx5 -r secretmiata --search turbo\n"
              f"# Ctrl-C stops this server.")
        print(fake.praw_ini_section(args.section), flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
