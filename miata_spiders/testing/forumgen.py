"""A deterministic synthetic forum of any size, computed on demand from a seed.

Nothing is built up front but the (small) forum tree: a thread's posts, a post's author, text, quotes and
dates are pure functions of (seed, ids, generation), so a million-post forum costs no memory and every
page can be rendered in any order. ``generation`` models growth between two crawls: each generation adds
threads, adds replies to some old threads and edits some posts.

Engine-agnostic: renderers (``render_ib`` ...) turn these records into a forum software's markup.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property, lru_cache
from zoneinfo import ZoneInfo

# Enough thread slots per forum and post slots per thread for any size we serve; ids stay stable
# when the forum grows, as real forum ids do.
THREAD_SLOTS = 100_000
POST_SLOTS = 100_000

WORDS = (
    "boost turbo intercooler miata mx5 na nb nc nd roadster clutch flywheel coilovers alignment camber toe "
    "injectors ecu megasquirt tune dyno wastegate manifold downpipe exhaust radiator fan oil pressure "
    "knock timing afr wideband fuel pump brakes pads rotors calipers tires track autocross hardtop soft top "
    "wheel bearing diff torsen gearbox shifter bushings sway bar spring rate damper valving hp torque "
    "cold start idle vacuum leak boost leak compressor map sensor coil pack spark plug gap head gasket"
).split()
NON_ASCII = [
    "Mazda MX\u20115 Roadster \u2014 \u30ed\u30fc\u30c9\u30b9\u30bf\u30fc, 1.6\u202fL, \u00fcber gut",
    "Der K\u00fchler ist zu gro\u00df f\u00fcr den NA \u2013 sch\u00f6ne Gr\u00fc\u00dfe aus M\u00fcnchen",
    "\u00a1Qu\u00e9 buen auto! Se\u00f1or, el turbo est\u00e1 listo \U0001F697",
]
NAMES = (
    "boostbuddy hainz sixshooter curly mx5gal tokyodrift naenthusiast nbturbo ndracer roadsterjoe "
    "miatamike autoxer greddyguy flyinmiata braapmaster torsenfan hardtopharry clutchkick vtech_hater "
    "elcamino slowpoke ebaysteve jdmjunkie wrenchwench"
).split()


def _h(*parts) -> int:
    """Stable 64-bit hash of the parts (Python's hash() is salted per process)."""
    digest = hashlib.blake2b("\x1f".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def _frac(*parts) -> float:
    return _h(*parts) / 2**64


@dataclass(frozen=True)
class ForumShape:
    """Size and shape of a synthetic forum. The defaults make a small site that crawls in seconds."""

    seed: int = 1
    categories: int = 2
    forums_per_category: int = 2
    subforum_depth: int = 2  # the first forum of each category has sub-forums this deep
    threads_per_forum: int = 6
    posts_per_thread: int = 8  # mean; each thread has 1 .. 2*mean-1 posts
    posts_per_page: int = 10
    threads_per_page: int = 5
    stickies_per_forum: int = 1
    new_threads_per_generation: int = 1  # per forum
    grown_thread_fraction: float = 0.2  # of old threads get new replies each generation
    replies_per_growth: int = 3
    edit_growing_threads: bool = True  # a thread that grows also gets its last old post edited
    now: datetime = datetime(2026, 11, 25, 12, 0, tzinfo=ZoneInfo("America/New_York"))
    generation: int = 0

    @classmethod
    def for_posts(cls, total_posts: int, **overrides) -> "ForumShape":
        """A shape holding about ``total_posts`` posts, with realistic proportions."""
        posts_per_thread = overrides.pop("posts_per_thread", 25)
        forums = overrides.pop("categories", 4) * overrides.get("forums_per_category", 3)
        forums += overrides.get("categories", 4) * overrides.get("subforum_depth", 2)
        threads = max(1, math.ceil(total_posts / posts_per_thread / forums))
        return cls(posts_per_thread=posts_per_thread, threads_per_forum=threads, categories=4,
                   forums_per_category=3, subforum_depth=2, threads_per_page=25, posts_per_page=15, **overrides)


@dataclass(frozen=True)
class Forum:
    forum_id: int
    title: str
    slug: str
    parent_id: int | None
    is_category: bool
    index: int  # position among thread-bearing forums, -1 for categories
    children: tuple = field(default_factory=tuple)


@dataclass(frozen=True)
class Post:
    post_id: int
    thread_id: int
    position: int
    author: str | None  # None: a guest
    author_id: int | None
    guest_name: str | None
    posted_at: datetime
    text: str
    quote_of: int | None  # post id quoted (a previous post in the thread)
    nested_quote_of: int | None
    images: tuple
    lazy_images: tuple
    attachments: tuple  # attachment ids
    links: tuple
    signature: str | None
    edited_at: datetime | None
    edited_by: str | None
    deleted: bool


@dataclass(frozen=True)
class Thread:
    thread_id: int
    forum_id: int
    title: str
    slug: str
    starter: str
    sticky: bool
    post_count: int
    created_at: datetime
    last_post_at: datetime
    views: int


class SyntheticForum:
    def __init__(self, shape: ForumShape = ForumShape()):
        self.shape = shape
        self.now = shape.now + timedelta(days=shape.generation)

    # --- structure ------------------------------------------------------------------------------
    @cached_property
    def forums(self) -> dict[int, Forum]:
        s, forums, next_id, index = self.shape, {}, [10], [0]

        def make(title, parent, is_category, depth_left):
            fid = next_id[0]
            next_id[0] += 1
            idx = -1
            if not is_category:
                idx = index[0]
                index[0] += 1
            children = []
            forums[fid] = None  # reserve order
            if depth_left > 0:
                children.append(make(f"{title} Sub-forum {depth_left}", fid, False, depth_left - 1))
            slug = "-".join(title.lower().replace("/", " ").split())
            forums[fid] = Forum(fid, title, slug, parent, is_category, idx, tuple(children))
            return fid

        topics = ["Engine Performance", "Suspension Brakes Drivetrain", "Build Threads", "Track Autocross",
                  "Parts For Sale", "Electrical", "Interior Exterior", "Tuning", "General Discussion"]
        for c in range(s.categories):
            cat_title = ["Miata Turbo Discussion", "MX-5 Community", "Marketplace", "Off Topic"][c % 4]
            cat_id = next_id[0]
            next_id[0] += 1
            forums[cat_id] = None
            kids = []
            for f in range(s.forums_per_category):
                title = topics[(c * s.forums_per_category + f) % len(topics)]
                if c * s.forums_per_category + f >= len(topics):
                    title += f" {c * s.forums_per_category + f}"
                kids.append(make(title, cat_id, False, s.subforum_depth if f == 0 else 0))
            slug = "-".join(cat_title.lower().split())
            forums[cat_id] = Forum(cat_id, cat_title, slug, None, True, -1, tuple(kids))
        return forums

    @property
    def categories(self) -> list[Forum]:
        return [f for f in self.forums.values() if f.is_category]

    def forum_path(self, forum_id: int) -> list[Forum]:
        path, fid = [], forum_id
        while fid is not None:
            path.append(self.forums[fid])
            fid = self.forums[fid].parent_id
        return path[::-1]

    # --- threads --------------------------------------------------------------------------------
    def thread_slots(self, forum: Forum) -> int:
        return 0 if forum.is_category else self.shape.threads_per_forum + self.shape.generation * self.shape.new_threads_per_generation

    def thread_ids(self, forum: Forum) -> range:
        base = 1000 + forum.index * THREAD_SLOTS
        return range(base, base + self.thread_slots(forum))

    def _born_generation(self, forum: Forum, thread_id: int) -> int:
        t = thread_id - 1000 - forum.index * THREAD_SLOTS
        if t < self.shape.threads_per_forum:
            return 0
        return 1 + (t - self.shape.threads_per_forum) // max(1, self.shape.new_threads_per_generation)

    @lru_cache(maxsize=65536)
    def _timeline(self, thread_id: int) -> tuple[datetime, int, int, tuple]:
        """(created, generation born, posts at birth, ((generation, replies added), ...))."""
        s = self.shape
        forum = self._forum_of_thread(thread_id)
        t = thread_id - 1000 - forum.index * THREAD_SLOTS
        born = self._born_generation(forum, thread_id)
        base_n = 1 + _h(s.seed, "posts", thread_id) % max(1, 2 * s.posts_per_thread - 1)
        growth = tuple((g, s.replies_per_growth) for g in range(born + 1, s.generation + 1)
                       if _frac(s.seed, "grow", thread_id, g) < s.grown_thread_fraction)
        if born:
            created = s.now + timedelta(days=born, hours=-6, minutes=-(t % 50))
        else:
            # Older thread ids are older threads, spread over ~3 years; the newest started ~1 day ago.
            span = 1000 * (s.threads_per_forum - 1 - t) / max(1, s.threads_per_forum)
            created = s.now - timedelta(days=1.2 + span, minutes=_h(s.seed, "age", thread_id) % 600)
        return created.replace(second=0, microsecond=0), born, base_n, growth

    @lru_cache(maxsize=4096)
    def thread(self, thread_id: int) -> Thread:
        s = self.shape
        forum = self._forum_of_thread(thread_id)
        created, _, base_n, growth = self._timeline(thread_id)
        n = base_n + sum(added for _, added in growth)
        words = [WORDS[_h(s.seed, "title", thread_id, i) % len(WORDS)] for i in range(4)]
        title = f"{words[0].capitalize()} {words[1]} and {words[2]} {words[3]} question"
        if _frac(s.seed, "nonascii-title", thread_id) < 0.05:
            title = "Roadster \u30ed\u30fc\u30c9\u30b9\u30bf\u30fc " + title
        t = thread_id - 1000 - forum.index * THREAD_SLOTS
        return Thread(
            thread_id=thread_id, forum_id=forum.forum_id, title=title,
            slug="-".join(w for w in title.lower().split() if w.isascii())[:60].strip("-"),
            starter=self.author_name(thread_id, 1), sticky=t < s.stickies_per_forum,
            post_count=n, created_at=created, last_post_at=self.post_time(thread_id, n),
            views=n * 37 + _h(s.seed, "views", thread_id) % 500,
        )

    def _forum_of_thread(self, thread_id: int) -> Forum:
        return self._forums_by_index[(thread_id - 1000) // THREAD_SLOTS]

    @cached_property
    def _forums_by_index(self) -> dict[int, Forum]:
        return {f.index: f for f in self.forums.values() if not f.is_category}

    def post_time(self, thread_id: int, position: int) -> datetime:
        """Replies follow each other by 5-9 hours, never after the "now" of the generation that added
        them; a post's time never changes once it exists (old posts keep their dates as the forum grows)."""
        created, born, base_n, growth = self._timeline(thread_id)
        if position <= base_n:
            natural = created + timedelta(minutes=(position - 1) * 300 + (_h(self.shape.seed, "gap", thread_id, position) % 240 if position > 1 else 0))
            ceiling = self.shape.now + timedelta(days=born, minutes=-7 * (base_n - position + 1))
            return max(created, min(natural, ceiling))
        position -= base_n
        for generation, added in growth:
            if position <= added:
                return self.shape.now + timedelta(days=generation, minutes=-20 * (added - position + 1))
            position -= added
        raise ValueError(f"thread {thread_id} has no post at that position")

    def listing(self, forum: Forum) -> list[Thread]:
        """The forum's threads as vBulletin lists them: stickies first, then by last post, newest first."""
        return self._listing(forum.forum_id)

    @lru_cache(maxsize=256)
    def _listing(self, forum_id: int) -> list[Thread]:
        threads = [self.thread(tid) for tid in self.thread_ids(self.forums[forum_id])]
        return sorted(threads, key=lambda t: (not t.sticky, -t.last_post_at.timestamp(), -t.thread_id))

    def moved_stub(self, forum: Forum) -> Thread | None:
        """The first thread-bearing forum shows a "Moved:" stub of a thread that lives in the next forum."""
        if forum.index != 0:
            return None
        other = self._forums_by_index.get(1)
        ids = self.thread_ids(other) if other else range(0)
        return self.thread(ids[-1]) if len(ids) else None

    # --- posts ----------------------------------------------------------------------------------
    def author_name(self, thread_id: int, position: int) -> str:
        n = _h(self.shape.seed, "author", thread_id, position) % 500
        return f"{NAMES[n % len(NAMES)]}{n // len(NAMES) or ''}"

    def post(self, thread_id: int, position: int) -> Post:
        s, thread = self.shape, self.thread(thread_id)
        pid = thread_id * POST_SLOTS + position
        r = lambda tag: _frac(s.seed, tag, pid)  # noqa: E731 - a tiny local helper reads best here
        guest = position > 1 and r("guest") < 0.03
        deleted = position > 1 and r("deleted") < 0.03
        name = self.author_name(thread_id, position)
        n = _h(s.seed, "author", thread_id, position) % 500
        words = [WORDS[_h(s.seed, "w", pid, i) % len(WORDS)] for i in range(8 + _h(s.seed, "len", pid) % 40)]
        text = " ".join(words).capitalize() + "."
        if r("nonascii") < 0.05:
            text += " " + NON_ASCII[_h(s.seed, "na", pid) % len(NON_ASCII)]
        edited_gen = next((g for g in range(1, s.generation + 1) if self._edited_in(pid, thread, g)), None)
        edited_at = edited_by = None
        if r("edited") < 0.05 or edited_gen:
            edited_by = None if guest else name
            base = self.post_time(thread_id, position)
            edited_at = self.shape.now + timedelta(days=edited_gen, hours=-3) if edited_gen else base + timedelta(minutes=17)
            text += " EDIT: fixed it, was a cracked vacuum line." if not edited_gen else f" UPDATE {edited_gen}: still holding boost."
        quote_of = nested = None
        if position > 2 and r("quote") < 0.15:
            quote_of = thread_id * POST_SLOTS + position - 1
            if r("nested") < 0.3 and position > 3:
                nested = thread_id * POST_SLOTS + position - 2
        images = (f"https://i.imgur.com/{_h(s.seed, 'img', pid) % 10**8:08d}.jpg",) if r("image") < 0.08 else ()
        lazy = (f"https://cimg1.ibsrv.net/gimg/www.miataturbo.net-vbulletin/{_h(s.seed, 'lazy', pid) % 10**6}.jpg",) if r("lazy") < 0.04 else ()
        attachments = (_h(s.seed, "att", pid) % 10**6 + 1,) if r("attach") < 0.04 else ()
        links = (f"https://www.flyinmiata.com/parts/{words[0]}-{_h(s.seed, 'link', pid) % 1000}",) if r("link") < 0.1 else ()
        if r("imageonly") < 0.02 and not deleted:
            text, images = "", images or (f"https://i.imgur.com/{_h(s.seed, 'img2', pid) % 10**8:08d}.png",)
        signature = f"1990 NA, {WORDS[n % len(WORDS)]} build, {n % 300 + 150} whp" if n % 3 == 0 and not guest else None
        return Post(
            post_id=pid, thread_id=thread_id, position=position,
            author=None if guest else name, author_id=None if guest else 5000 + n,
            guest_name=f"guest_{name}" if guest else None,
            posted_at=self.post_time(thread_id, position), text=text,
            quote_of=quote_of, nested_quote_of=nested, images=images, lazy_images=lazy,
            attachments=attachments, links=links, signature=signature,
            edited_at=edited_at, edited_by=edited_by, deleted=deleted,
        )

    def _edited_in(self, pid: int, thread: Thread, generation: int) -> bool:
        """When a thread gets new replies, its author tends to edit the post just before them (the
        thread's last post until then): the edit lands on the page an incremental crawl re-fetches."""
        if not self.shape.edit_growing_threads:
            return False
        _, _, base_n, growth = self._timeline(thread.thread_id)
        count = base_n
        for g, added in growth:
            if g == generation:
                return pid % POST_SLOTS == count
            count += added
        return False

    def posts(self, thread_id: int, page: int) -> list[Post]:
        per = self.shape.posts_per_page
        total = self.thread(thread_id).post_count
        return [self.post(thread_id, p) for p in range((page - 1) * per + 1, min(total, page * per) + 1)]

    def page_count(self, thread_id: int) -> int:
        return max(1, math.ceil(self.thread(thread_id).post_count / self.shape.posts_per_page))

    # --- ground truth ---------------------------------------------------------------------------
    def all_thread_ids(self):
        for forum in self.forums.values():
            yield from self.thread_ids(forum)

    def all_post_ids(self):
        """Every post id a complete crawl must collect (deleted posts included, flagged)."""
        for tid in self.all_thread_ids():
            base = tid * POST_SLOTS
            for position in range(1, self.thread(tid).post_count + 1):
                yield base + position

    def total_posts(self) -> int:
        return sum(self.thread(t).post_count for t in self.all_thread_ids())
