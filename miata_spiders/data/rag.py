"""``miata data export rag``: retrieval chunks of threads, each with the metadata a RAG answer cites.

A chunk is consecutive posts of one thread, cut on post and paragraph boundaries to ``--max-tokens``.
It holds each post's own words only: quoted text is left out (the quoted post's id stays in
``quoted_post_ids``, so a quote never enters the index twice), as are signatures and the boilerplate
lines of BOILERPLATE_LINES. docs/data.md describes the chunk and every knob.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import time
import zlib
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from miata_spiders.data import export
from miata_spiders.data.pii import scrub
from miata_spiders.data.source import progress_bar

# Lines that are the forum's or the posting app's, not the poster's: a whole line matching one of these
# (case-insensitive, surrounding whitespace ignored) is dropped. docs/data.md lists them.
BOILERPLATE_LINES = [
    r"sent from my .{1,60}? using (?:tapatalk(?: pro)?|forum runner|the .{1,30} app|.{1,30} mobile app)\.?",
    r"sent from my (?:iphone|ipad|android|galaxy .{1,20}|pixel .{1,10}|sm-\w+|mobile device|phone)\.?",
    r"(?:get|download) tapatalk.*",
    r"posted via (?:mobile device|tapatalk|the .{1,30} app|mobile)\.?",
    r"last edited by .{1,80}(?: on .{1,40})?\.?(?: reason: .*)?",
    r"(?:originally posted by .{1,80}|quote(?: from .{1,80})?:?|reply with quote)",
    r"(?:click (?:here|image) to enlarge|attached (?:thumbnails|images|files)|view attachment \d*)",
    r"\*?i am a bot,? and this action was performed automatically.*",
    r"&#x200b;|\u200b",
]
_BOILERPLATE = re.compile(r"\s*(?:" + "|".join(BOILERPLATE_LINES) + r")\s*", re.IGNORECASE)
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_WORD = re.compile(r"\w+", re.UNICODE)

DEFAULT_MAX_TOKENS = 512
DEFAULT_MIN_CHARS = 20
DEFAULT_NEAR_DUP_THRESHOLD = 0.85
MINHASH_PERMUTATIONS = 64
SHINGLE_WORDS = 5
CHUNK_FILE = {"parquet": "chunks.parquet", "jsonl": "chunks.jsonl"}

CHUNK_SCHEMA = pa.schema([
    pa.field("chunk_id", pa.string(), nullable=False),
    pa.field("text", pa.string(), nullable=False),
    pa.field("n_tokens", pa.int32()),
    pa.field("source", pa.string()),
    pa.field("site", pa.string()),
    pa.field("forum_path", pa.list_(pa.string())),
    pa.field("thread_id", pa.string()),
    pa.field("thread_title", pa.string()),
    pa.field("thread_url", pa.string()),
    pa.field("url", pa.string()),
    pa.field("post_ids", pa.list_(pa.string())),
    pa.field("quoted_post_ids", pa.list_(pa.string())),
    pa.field("authors", pa.list_(pa.string())),
    pa.field("first_posted_at", pa.timestamp("us", tz="UTC")),
    pa.field("last_posted_at", pa.timestamp("us", tz="UTC")),
    pa.field("image_urls", pa.list_(pa.string())),
    pa.field("link_urls", pa.list_(pa.string())),
])


def estimate_tokens(text: str) -> int:
    """Tokens a BPE tokenizer (GPT/Llama family) gives English text, estimated without one: about four
    characters or three quarters of a word per token, whichever is more."""
    return max(math.ceil(len(text) / 4), math.ceil(len(text.split()) * 4 / 3))


def own_text(row: dict, keep_pii: bool = False) -> str:
    """A post's own words: boilerplate lines out, quoted text out, PII scrubbed unless ``keep_pii``.

    Forum ``body_text`` already excludes quotes (docs/schema.md); a quote that leaked into it anyway
    (a layout the parser reads partly) is cut by its text. Reddit quotes are Markdown ``>`` lines.
    """
    text = row.get("body_text") or ""
    for quote in row.get("quotes") or ():
        quoted = (quote or {}).get("text") or ""
        if len(quoted) >= 20 and quoted in text:
            text = text.replace(quoted, "")
    lines = []
    for line in text.splitlines():
        if row.get("source") == "reddit" and line.lstrip().startswith(">"):
            continue
        if _BOILERPLATE.fullmatch(line):
            continue
        lines.append(line.rstrip())
    text = "\n".join(lines)
    text = _PARAGRAPH_BREAK.sub("\n\n", text).strip()
    return text if keep_pii else scrub(text)


def split_to_budget(text: str, budget: int) -> list[str]:
    """``text`` in pieces of at most ``budget`` tokens, cut between paragraphs, else sentences, else words."""
    if estimate_tokens(text) <= budget:
        return [text]
    pieces: list[str] = []
    for unit_re, joiner in ((_PARAGRAPH_BREAK, "\n\n"), (_SENTENCE_END, " "), (re.compile(r"\s+"), " ")):
        units = [u for u in unit_re.split(text) if u.strip()]
        if len(units) > 1:
            break
    else:
        # One word longer than the budget (a URL, a pasted log line): cut it by characters.
        step = budget * 4
        return [text[i:i + step] for i in range(0, len(text), step)]
    current = ""
    for unit in units:
        candidate = f"{current}{joiner}{unit}" if current else unit
        if estimate_tokens(candidate) <= budget:
            current = candidate
            continue
        if current:
            pieces.append(current)
        if estimate_tokens(unit) > budget:
            pieces.extend(split_to_budget(unit, budget))
            current = ""
        else:
            current = unit
    if current:
        pieces.append(current)
    return pieces


def post_url(row: dict) -> str | None:
    if row.get("url"):
        return row["url"]
    if row.get("permalink"):
        return "https://www.reddit.com" + row["permalink"]
    return row.get("thread_url")


def chunk_thread(rows: list[dict], max_tokens: int, min_chars: int, keep_pii: bool) -> list[dict]:
    """The chunks of one thread (rows in thread order)."""
    chunks: list[dict] = []
    current: list[tuple[dict, str]] = []  # (row, piece of its text)
    used = 0

    def close() -> None:
        nonlocal current, used
        if current:
            chunks.append(_chunk(current, len(chunks)))
        current, used = [], 0

    for row in rows:
        text = own_text(row, keep_pii)
        if len(text) < min_chars:
            continue
        author = row.get("author") or "[unknown]"
        prefix = f"{author}: "
        budget = max(16, max_tokens - estimate_tokens(prefix))
        pieces = split_to_budget(text, budget)
        whole = estimate_tokens(prefix + text) + 1
        if len(pieces) == 1 and used + whole > max_tokens:
            close()  # the post starts a new chunk rather than being cut across two
        elif len(pieces) > 1:
            close()
        for i, piece in enumerate(pieces):
            cost = estimate_tokens(prefix + piece) + 1
            if current and used + cost > max_tokens:
                close()
            current.append((row if i == 0 else {**row, "images": [], "links": [], "quotes": []}, prefix + piece))
            used += cost
    close()
    return chunks


def _chunk(parts: list[tuple[dict, str]], index: int) -> dict:
    rows = [row for row, _ in parts]
    first = rows[0]
    text = "\n\n".join(piece for _, piece in parts)
    post_ids = list(dict.fromkeys(r["post_id"] for r in rows))
    dates = [r["posted_at"] for r in rows if r.get("posted_at") is not None]
    key = f"{first['site']}/{first['thread_id']}/{post_ids[0]}/{index}"
    return {
        "chunk_id": hashlib.sha1(key.encode()).hexdigest()[:20],
        "text": text,
        "n_tokens": estimate_tokens(text),
        "source": first.get("source"),
        "site": first["site"],
        "forum_path": first.get("forum_path") or [],
        "thread_id": first["thread_id"],
        "thread_title": first.get("thread_title"),
        "thread_url": first.get("thread_url"),
        "url": post_url(first),
        "post_ids": post_ids,
        "quoted_post_ids": list(dict.fromkeys(q["post_id"] for r in rows for q in r.get("quotes") or ()
                                              if q and q.get("post_id"))),
        "authors": list(dict.fromkeys(r["author"] for r in rows if r.get("author"))),
        "first_posted_at": min(dates) if dates else None,
        "last_posted_at": max(dates) if dates else None,
        "image_urls": list(dict.fromkeys(u for r in rows for u in r.get("images") or ())),
        "link_urls": list(dict.fromkeys(u for r in rows for u in r.get("links") or ())),
    }


class NearDuplicates:
    """MinHash LSH over chunk texts: a chunk whose Jaccard similarity (word 5-shingles) to a chunk already
    kept from another thread reaches ``threshold`` is a near-duplicate (a cross-post, a copied FAQ...)."""

    def __init__(self, threshold: float):
        from datasketch import MinHash, MinHashLSH

        self.lsh = MinHashLSH(threshold=threshold, num_perm=MINHASH_PERMUTATIONS)
        self.threads: list[str] = []  # LSH key (an int) -> thread
        # The permutations are the same for every signature: drawn once, not per chunk (a third of the time).
        template = MinHash(num_perm=MINHASH_PERMUTATIONS, seed=1)
        self.permutations, self.scheme = template.permutations, template.scheme

    def is_duplicate(self, chunk: dict) -> bool:
        from datasketch import MinHash

        words = _WORD.findall(_content_only(chunk["text"]).lower())
        shingles = {" ".join(words[i:i + SHINGLE_WORDS]) for i in range(max(1, len(words) - SHINGLE_WORDS + 1))}
        # CRC-32 (C, stable across runs) instead of datasketch's default SHA-1 per shingle: 5x faster, and 32
        # bits are what MinHash keeps of a hash anyway.
        signature = MinHash(num_perm=MINHASH_PERMUTATIONS, seed=1, hashfunc=zlib.crc32,
                            permutations=self.permutations, scheme=self.scheme)
        signature.update_batch([s.encode() for s in shingles])
        thread = f"{chunk['site']}/{chunk['thread_id']}"
        if any(self.threads[key] != thread for key in self.lsh.query(signature)):
            return True
        self.lsh.insert(len(self.threads), signature, check_duplication=False)
        self.threads.append(thread)
        return False


def _content_only(text: str) -> str:
    """Chunk text without the "author: " prefixes (two threads quoting one FAQ are duplicates whoever posted it)."""
    return re.sub(r"(?m)^[^\n:]{1,80}: ", "", text)


# --- the command ----------------------------------------------------------------------------------

def register(subparsers) -> None:
    p = subparsers.add_parser("rag", help="retrieval chunks (Parquet or JSON lines) with source metadata",
                              description=__doc__.split("\n\n")[1])
    p.add_argument("--out", required=True, help="output directory (chunks.parquet or chunks.jsonl, export.json)")
    p.add_argument("--format", choices=("parquet", "jsonl"), default="parquet", help="default: %(default)s")
    p.add_argument("--max-tokens", type=int, default=DEFAULT_MAX_TOKENS,
                   help="chunk size budget in estimated tokens (default: %(default)s)")
    p.add_argument("--min-chars", type=int, default=DEFAULT_MIN_CHARS,
                   help="leave out posts with fewer characters of own text (default: %(default)s)")
    p.add_argument("--near-dup-threshold", type=float, default=DEFAULT_NEAR_DUP_THRESHOLD,
                   help="drop a chunk this similar (MinHash Jaccard, 0-1) to one kept from another thread; "
                        "1 keeps all but exact copies (default: %(default)s)")
    p.add_argument("--no-dedupe", action="store_true", help="keep near-duplicate chunks")
    export.add_common_arguments(p)
    p.set_defaults(func=lambda args: export.run("rag", export_rag, args))


def export_rag(args) -> int:
    from miata_spiders.data.source import DataError

    if args.max_tokens < 32:
        raise DataError(f"--max-tokens {args.max_tokens} is too small (at least 32)")
    if not 0 < args.near_dup_threshold <= 1:
        raise DataError(f"--near-dup-threshold must be in (0, 1], got {args.near_dup_threshold}")
    out_dir = export.output_path(args.out, args.force)
    con, parts = export.open_latest(args)
    where, params = export.post_filter(args)
    total = export.count_posts(con, where, params)
    started = time.monotonic()
    out_dir.mkdir(parents=True, exist_ok=True)
    final = out_dir / CHUNK_FILE[args.format]
    temporary = out_dir / f".{final.name}.tmp"
    dedupe = None if args.no_dedupe else NearDuplicates(args.near_dup_threshold)
    counts = {"posts": 0, "threads": 0, "chunks": 0, "near_duplicates": 0}
    bar = progress_bar(total=total, unit="post", desc="export rag")
    sink = ChunkSink(temporary, args.format)
    try:
        for thread in export.iter_threads(con, where, params, on_rows=bar.update):
            counts["threads"] += 1
            counts["posts"] += len(thread)
            for chunk in chunk_thread(thread, args.max_tokens, args.min_chars, args.keep_pii):
                if dedupe is not None and dedupe.is_duplicate(chunk):
                    counts["near_duplicates"] += 1
                    continue
                sink.add(chunk)
                counts["chunks"] += 1
        sink.close()
        os.replace(temporary, final)
    except BaseException:
        sink.close()
        temporary.unlink(missing_ok=True)
        raise
    finally:
        bar.close()
    seconds = time.monotonic() - started
    settings = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in vars(args).items()
                if k not in ("func",) and not k.endswith("command")}
    (out_dir / "export.json").write_text(json.dumps({"kind": "rag", "file": final.name, "counts": counts,
                                                     "skipped_parts": [str(p) for p, _ in parts.skipped],
                                                     "settings": settings}, indent=2, default=str) + "\n")
    print(f"export rag: {counts['posts']} posts in {counts['threads']} threads -> {counts['chunks']} chunks "
          f"({counts['near_duplicates']} near-duplicates dropped) in {final}, {seconds:.1f}s "
          f"({counts['posts'] / max(seconds, 1e-9):,.0f} posts/s)")
    return 0


class ChunkSink:
    """Chunks to Parquet (row groups of ROWS_PER_GROUP) or JSON lines, as they come."""

    ROWS_PER_GROUP = 4096

    def __init__(self, path: Path, fmt: str, schema: pa.Schema = CHUNK_SCHEMA):
        self.fmt, self.schema, self.pending = fmt, schema, []
        if fmt == "parquet":
            self.writer = pq.ParquetWriter(path, schema, compression="zstd")
        else:
            self.file = open(path, "w", encoding="utf-8")

    def add(self, record: dict) -> None:
        if self.fmt == "jsonl":
            self.file.write(json.dumps(record, ensure_ascii=False, default=_iso) + "\n")
            return
        self.pending.append(record)
        if len(self.pending) >= self.ROWS_PER_GROUP:
            self._flush()

    def _flush(self) -> None:
        if self.pending:
            self.writer.write_table(pa.Table.from_pylist(self.pending, schema=self.schema))
            self.pending = []

    def close(self) -> None:
        if self.fmt == "jsonl":
            if not self.file.closed:
                self.file.close()
        elif self.writer is not None:
            self._flush()
            self.writer.close()
            self.writer = None


def _iso(value):
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")

