"""Generate a large synthetic post dataset straight into Parquet, for the ``miata data`` benchmarks.

    python bench/make_big_dataset.py --posts 1000000 --out /tmp/miata-bench/big1m

writes ``OUT/posts/site=<site>/part-*.parquet`` in POST_SCHEMA, laid out and encoded as the crawl
pipeline writes them (the same part size, dictionary columns and zstd level), so a command reads it
exactly as it reads a crawled dataset. Crawling a million posts through ``miata serve`` takes hours;
this takes about a minute, and what it writes has the shapes the exports and stats care about:

- several forum sites (vBulletin-like numeric ids, forum breadcrumbs, pages of 15 posts, signatures)
  and one Reddit site (``t3_``/``t1_`` fullnames, comment trees with ``parent_id``/``depth``, scores);
- multi-paragraph text from a Miata vocabulary, with quotes of earlier posts of the same thread (the
  quoted text is in ``quotes`` and ``body_html``, never in ``body_text``), images, links (parts
  pages, YouTube, build threads...), a Tapatalk footer on some posts, a few e-mail addresses and
  phone numbers (for PII scrubbing), a few deleted placeholders;
- edits: ``--edit-fraction`` of the posts get a second version (new text, ``edited_at``, a later
  ``scraped_at``) written in later parts, as a second crawl would.

``--posts`` counts distinct posts; the rows are that plus one per edited post. The output is
deterministic for a given ``--seed`` (apart from the part names, which carry a timestamp and a UUID
like real parts).
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import time
import uuid
import zlib
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import pyarrow as pa  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

from pipelines.dataset import site_dir  # noqa: E402
from pipelines.parquet import COMPRESSION, COMPRESSION_LEVEL, DICTIONARY_COLUMNS  # noqa: E402
from pipelines.schema import POST_SCHEMA, content_hash  # noqa: E402

PART_ROWS = 5000  # MIATA_PARQUET_BATCH_SIZE's default: a crawl writes parts of this many rows
POSTS_PER_PAGE = 15
EPOCH_2004 = int(datetime(2004, 1, 1, tzinfo=timezone.utc).timestamp())
EPOCH_NOW = int(datetime(2026, 11, 1, tzinfo=timezone.utc).timestamp())
FIRST_CRAWL = int(datetime(2026, 11, 20, tzinfo=timezone.utc).timestamp())
SECOND_CRAWL = int(datetime(2026, 11, 28, tzinfo=timezone.utc).timestamp())


@dataclass(frozen=True)
class Site:
    name: str
    source: str  # "forum" or "reddit"
    share: float  # fraction of all posts
    base_url: str
    boards: tuple[tuple[str, ...], ...]  # forum_path of each board
    start_year: int  # the site's first posts; activity grows towards the present


SITES = (
    Site("miataturbo", "forum", 0.35, "https://www.miataturbo.net",
         (("Miata Turbo Forum", "Boost Control"), ("Miata Turbo Forum", "Engine Performance"),
          ("Miata Turbo Forum", "Suspension, Brakes, Drivetrain"), ("Miata Turbo Forum", "MEGAsquirt"),
          ("Miata Turbo Forum", "Build Threads"), ("Miata Turbo Forum", "Prefabbed Turbo Kits"),
          ("Vendors", "Group Buys"), ("Off Topic", "Not Miata Related"))
         , 2006),
    Site("miata_net", "forum", 0.25, "https://forum.miata.net",
         (("Miata.net Garage", "General Miata Discussion"), ("Miata.net Garage", "Tech & Maintenance"),
          ("Miata.net Garage", "Wheels & Tires"), ("Miata.net Garage", "NA/NB Specific"),
          ("Miata.net Garage", "ND Specific"), ("Marketplace", "Parts For Sale")), 2004),
    Site("clubroadster", "forum", 0.15, "https://www.clubroadster.net",
         (("Club Roadster", "Garage Talk"), ("Club Roadster", "Autocross & Track"),
          ("Club Roadster", "Show Off Your Car")), 2005),
    Site("mx5nutz", "forum", 0.05, "https://www.mx5nutz.com",
         (("MX5 Nutz", "Mk1 Eunos & MX5"), ("MX5 Nutz", "Mk3 MX5"), ("MX5 Nutz", "Events")), 2008),
    Site("reddit", "reddit", 0.20, "https://www.reddit.com",
         (("r/Miata",), ("r/Miata",), ("r/Miata",), ("r/mx5",)), 2012),
)

SUBJECTS = ["my NA", "the NB", "an ND2", "the 1.8", "the BP", "my 99", "the turbo kit", "the Flyin' Miata kit",
            "the Hardtop", "my Koni yellows", "the Bilsteins", "the Torsen", "the 4.3 diff", "the clutch",
            "the ECU", "my MegaSquirt", "the FM II kit", "the intercooler", "the wastegate", "the oil cooler",
            "my roll bar", "the coilovers", "the sway bars", "the 6-speed", "the radiator", "the timing belt",
            "the cam seals", "the VVT", "the fuel pump", "the injectors", "the brakes", "the soft top"]
VERBS = ["started leaking after", "threw a code after", "ran fine until", "needs replacing at", "made a noise at",
         "gained 30 hp from", "lost boost after", "overheated during", "held up fine through",
         "got rebuilt after", "started ticking at", "felt much better after", "went through"]
OBJECTS = ["about 120k miles", "the first track day", "a long autocross weekend", "last winter",
           "the alignment", "a cold start", "installing the new exhaust", "the tune", "the boost leak test",
           "a spirited drive in the canyons", "the dyno pull", "two seasons", "the clutch swap", "an oil change"]
OPINIONS = ["Honestly I would just buy the kit.", "Check the PCV valve first.", "Search the FAQ, this comes up a lot.",
            "Mine did the same thing and it was the CAS.", "Run E85 and call it a day.", "Pics or it didn't happen.",
            "That sounds like a vacuum leak to me.", "Get it on a dyno before you change anything else.",
            "Keep the stock ECU for now.", "Torque everything to spec and recheck after 100 miles.",
            "I had good luck with the Garage Star parts.", "Don't skimp on the head gasket.",
            "Measure your AFRs under load.", "Replace the water pump while you are in there."]
QUESTIONS = ["Anyone seen this before?", "What did you end up doing?", "Is this normal?", "Which one would you pick?",
             "Where did you source yours?", "What boost are you running?", "Any pics of the install?"]
BOILERPLATE = ["Sent from my iPhone using Tapatalk", "Sent from my SM-G991U using Tapatalk",
               "Sent from my Pixel 7 using Tapatalk"]
FIRST_NAMES = ["Brain", "Savington", "Joe Perez", "emilio700", "Leafy", "Ryan_K", "NA_Tom", "BoostedNB", "Hustler",
               "18psi", "Greddy_Guy", "Midlife", "Zoom99", "autoxr", "TrackRat", "ClutchKick", "Pops",
               "Rotary_Hater", "OldSchoolMX5", "BBRNA"]
IMAGE_HOSTS = ["https://i.imgur.com/{}.jpg", "https://i.redd.it/{}.jpeg", "https://photobucket.com/albums/m{}/car.jpg",
               "https://{site}/attachments/{}.jpg", "https://{site}/attachments/{}.png",
               "https://lh3.googleusercontent.com/{}=w1600"]
LINK_TARGETS = ["https://www.flyinmiata.com/parts/turbo-kit-{}.html", "https://www.flyinmiata.com/parts/suspension-{}.html",
                "https://www.youtube.com/watch?v={}", "https://www.ebay.com/itm/{}",
                "https://www.mazdaparts.com/oem-parts/mazda-gasket-{}", "https://www.goodwin-racing.com/product-{}",
                "https://www.garagestar.com/part/{}", "https://www.diyautotune.com/product/ms-{}/",
                "https://{site}/threads/build-thread-{}/", "https://en.wikipedia.org/wiki/Mazda_MX-5_{}",
                "https://www.bentleypublishers.com/mazda/{}.htm", "https://www.rockauto.com/en/parts/mazda,{}"]


def capitalised(text: str) -> str:
    return text[0].upper() + text[1:]


def sentence(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.55:
        return f"{capitalised(rng.choice(SUBJECTS))} {rng.choice(VERBS)} {rng.choice(OBJECTS)}."
    if kind < 0.85:
        return rng.choice(OPINIONS)
    return rng.choice(QUESTIONS)


def post_text(rng: random.Random) -> str:
    """One to four paragraphs of one to five sentences: a few words to about a screen, like real posts."""
    paragraphs = [" ".join(sentence(rng) for _ in range(rng.randint(1, 5))) for _ in range(rng.choice((1, 1, 1, 2, 2, 3, 4)))]
    roll = rng.random()
    if roll < 0.03:
        paragraphs.append(rng.choice(BOILERPLATE))
    elif roll < 0.035:
        paragraphs.append(f"PM me or email {rng.choice(FIRST_NAMES).lower().replace(' ', '')}{rng.randint(1, 999)}@example.com")
    elif roll < 0.04:
        paragraphs.append(f"Call me at ({rng.randint(200, 989)}) 555-{rng.randint(1000, 9999):04d} if you want the parts.")
    return "\n\n".join(paragraphs)


def html_of(text: str | None, quotes: list[dict], images: list[str], links: list[str]) -> str | None:
    if text is None:
        return None
    quoted = "".join(
        f'<div class="bbcode_container"><div class="bbcode_quote">Originally Posted by <strong>{q["author"]}</strong>'
        f'<div class="message">{q["text"]}</div></div></div>' for q in quotes)
    body = "".join(f"<p>{p}</p>" for p in text.split("\n\n"))
    extras = "".join(f'<img src="{u}" alt="">' for u in images) + "".join(f'<a href="{u}">{u}</a>' for u in links)
    return quoted + body + extras


def base36(n: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = digits[r] + out
        if n == 0:
            return out


class PartWriter:
    """Rows of one site, written in parts of ``part_rows`` as the crawl pipeline writes them."""

    def __init__(self, out: Path, site: str, part_rows: int):
        self.directory = site_dir(out, site)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.part_rows = part_rows
        self.rows: list[dict] = []
        self.parts = 0
        self.written = 0

    def add(self, row: dict) -> None:
        self.rows.append(row)
        if len(self.rows) >= self.part_rows:
            self.flush()

    def flush(self) -> None:
        if not self.rows:
            return
        table = pa.Table.from_pylist(self.rows, schema=POST_SCHEMA).drop_columns(["site"])
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
        pq.write_table(table, self.directory / f"part-{stamp}-{uuid.uuid4().hex}.parquet", compression=COMPRESSION,
                       compression_level=COMPRESSION_LEVEL, use_dictionary=DICTIONARY_COLUMNS)
        self.parts += 1
        self.written += len(self.rows)
        self.rows = []


def when(rng: random.Random, start_year: int) -> int:
    """A posting time (epoch seconds) from the site's start to now, denser in later years (sqrt skew)."""
    start = int(datetime(start_year, 1, 1, tzinfo=timezone.utc).timestamp())
    return start + int((EPOCH_NOW - start) * rng.random() ** 0.6)


def micros(seconds: int) -> int:
    return seconds * 1_000_000


def generate_site(site: Site, posts: int, out: Path, rng: random.Random, *, part_rows: int,
                  edit_fraction: float) -> dict:
    writer = PartWriter(out, site.name, part_rows)
    edits: list[dict] = []
    authors = [f"{rng.choice(FIRST_NAMES)}{'' if i < len(FIRST_NAMES) else i}" for i in range(max(50, posts // 40))]
    signatures = {a: f"{rng.randint(1990, 2005)} {rng.choice(['NA', 'NB', 'NC'])} - {rng.choice(OBJECTS)}"
                  for a in authors if rng.random() < 0.3}
    host = site.base_url.split("//", 1)[1]
    reddit = site.source == "reddit"
    made = 0
    thread_no = 0
    next_id = 1_000_000 if not reddit else 36 ** 6
    while made < posts:
        thread_no += 1
        board_no = rng.randrange(len(site.boards))
        board = site.boards[board_no]
        size = min(posts - made, max(1, int(rng.expovariate(1 / 14)) + 1))
        thread_id = base36(36 ** 5 + thread_no) if reddit else str(50_000 + thread_no)
        title = f"{capitalised(rng.choice(SUBJECTS))} {rng.choice(VERBS)} {rng.choice(OBJECTS)}"
        if reddit:
            subreddit = board[0].removeprefix("r/")
            thread_url = f"{site.base_url}/r/{subreddit}/comments/{thread_id}/{title.lower().replace(' ', '_')[:40]}/"
        else:
            thread_url = f"{site.base_url}/{board[-1].lower().split()[0]}-{board_no}/thread-{thread_id}.html"
        started = when(rng, site.start_year)
        thread_posts: list[dict] = []
        for position in range(1, size + 1):
            next_id += rng.randint(1, 3)
            author = rng.choice(authors)
            # A thread goes on for minutes to days after it starts, never past the crawl.
            posted = min(started + (position - 1) * rng.randint(60, 36 * 3600), FIRST_CRAWL - 86400)
            deleted = rng.random() < 0.005
            text = None if deleted else post_text(rng)
            quotes: list[dict] = []
            if thread_posts and not deleted and rng.random() < 0.2:
                quoted = rng.choice(thread_posts)
                if quoted["body_text"]:
                    quotes.append({"author": quoted["author"], "post_id": quoted["post_id"],
                                   "text": quoted["body_text"].split("\n\n")[0]})
            images = [] if deleted or rng.random() > 0.1 else [
                rng.choice(IMAGE_HOSTS).format(f"{rng.getrandbits(40):x}", site=host) for _ in range(rng.randint(1, 4))]
            links = [] if deleted or rng.random() > 0.12 else [
                rng.choice(LINK_TARGETS).format(rng.randint(100, 99999), site=host) for _ in range(rng.randint(1, 3))]
            if reddit:
                post_id = ("t3_" + thread_id) if position == 1 else "t1_" + base36(next_id)
                parent = None if position == 1 else (
                    "t3_" + thread_id if len(thread_posts) < 2 or rng.random() < 0.4 else rng.choice(thread_posts[1:])["post_id"])
                depth = None if position == 1 else (0 if parent.startswith("t3_") else
                                                     next(p["depth"] for p in thread_posts if p["post_id"] == parent) + 1)
                url = f"{thread_url}{post_id[3:]}/" if position > 1 else thread_url
            else:
                post_id, parent, depth = str(next_id), None, None
                url = f"{site.base_url}/showpost.php?p={post_id}"
            row = {
                "source": site.source, "site": site.name, "post_id": post_id, "thread_id": thread_id,
                "thread_title": title, "thread_url": thread_url,
                "forum_id": (f"t5_{board_no:04x}" if reddit else str(10 + board_no)), "forum_path": list(board),
                "position": position, "page": None if reddit else (position - 1) // POSTS_PER_PAGE + 1,
                "author": None if deleted and reddit else author,
                "author_id": None if reddit else str(zlib.crc32(author.encode()) % 100000),
                "posted_at": micros(posted), "edited_at": None, "edited_by": None, "is_deleted": deleted,
                "body_text": text, "body_html": html_of(text, quotes, images, links), "quotes": quotes,
                "images": images, "links": links, "signature": None if reddit else signatures.get(author),
                "url": url, "content_hash": content_hash(text, quotes, images, deleted),
                "scraped_at": micros(FIRST_CRAWL + made % 86400),
            }
            if reddit:
                row.update({
                    "subreddit": board[0].removeprefix("r/"),
                    "link_id": None if position == 1 else "t3_" + thread_id, "parent_id": parent, "depth": depth,
                    "score": max(-20, int(rng.paretovariate(1.2))) - 1,
                    "num_comments": size - 1 if position == 1 else None,
                    "is_submitter": None if position == 1 else author == thread_posts[0]["author"],
                    "permalink": url.removeprefix(site.base_url),
                    "domain": f"self.{board[0][2:]}" if position == 1 else None,
                    "link_url": url if position == 1 else None,
                    "over_18": False if position == 1 else None, "author_deleted": deleted,
                    "removed_by_category": "deleted" if deleted else None,
                    "author_flair_text": rng.choice([None, None, "99 NB", "'91 BRG", "ND2 RF"]),
                    "link_flair_text": rng.choice(["Tech", "Build", "Pics", None]) if position == 1 else None,
                })
            writer.add(row)
            thread_posts.append(row)
            made += 1
            if not deleted and rng.random() < edit_fraction:
                edited_text = text + "\n\n" + f"EDIT: {sentence(rng)}"
                edits.append({**row, "body_text": edited_text,
                              "body_html": html_of(edited_text, quotes, images, links),
                              "edited_at": micros(posted + rng.randint(600, 400 * 86400)),
                              "edited_by": None if reddit else author,
                              "content_hash": content_hash(edited_text, quotes, images, False),
                              "scraped_at": micros(SECOND_CRAWL + len(edits) % 86400)})
    writer.flush()
    # The second versions come in their own parts, as from a later crawl that found the edits.
    for row in edits:
        writer.add(row)
    writer.flush()
    return {"site": site.name, "source": site.source, "posts": made, "edited": len(edits), "rows": writer.written,
            "threads": thread_no, "parts": writer.parts}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=1_000_000, help="distinct posts over all sites (default 1000000)")
    parser.add_argument("--out", type=Path, required=True, help="data dir to create (posts/site=*/ under it)")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--part-rows", type=int, default=PART_ROWS, help=f"rows per part (default {PART_ROWS})")
    parser.add_argument("--edit-fraction", type=float, default=0.03, help="posts with a second version (default 0.03)")
    parser.add_argument("--force", action="store_true", help="replace OUT/posts if it exists")
    args = parser.parse_args(argv)
    if args.posts < 1:
        parser.error("--posts must be at least 1")
    posts_root = args.out / "posts"
    if posts_root.exists():
        if not args.force:
            print(f"error: {posts_root} exists (--force replaces it)", file=sys.stderr)
            return 2
        shutil.rmtree(posts_root)
    rng = random.Random(args.seed)
    started = time.perf_counter()
    remaining = args.posts
    summary = []
    for index, site in enumerate(SITES):
        share = remaining if index == len(SITES) - 1 else round(args.posts * site.share)
        share = min(share, remaining)
        remaining -= share
        if share:
            summary.append(generate_site(site, share, args.out, random.Random(rng.getrandbits(64)),
                                         part_rows=args.part_rows, edit_fraction=args.edit_fraction))
    elapsed = time.perf_counter() - started
    for s in summary:
        print(f"{s['site']:<14} {s['source']:<7} posts {s['posts']:>9,} threads {s['threads']:>7,} "
              f"edited {s['edited']:>6,} rows {s['rows']:>9,} parts {s['parts']:>4}")
    total_rows = sum(s["rows"] for s in summary)
    print(f"{args.posts:,} posts, {total_rows:,} rows in {elapsed:.1f} s -> {posts_root}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
