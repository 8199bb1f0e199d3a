"""``miata data export chat``: fine-tuning conversations in the chat-messages format, split by thread.

Each line is ``{"messages": [{"role": "user"|"assistant", "content": ...}, ...], "meta": {...}}``:

- a forum thread gives one conversation: its opening post (with the title) as the user's question,
  the first reply by someone else as the answer, the opening poster's next post as a follow-up, the
  next reply by someone else as its answer, and so on (roles alternate; a second answer in a row is
  left out);
- a reply that quotes a post gives a pair: the quoted post (its own text when the thread holds it,
  else the quoted text) as the user turn, the reply's own words as the answer;
- a Reddit submission gives its best-scored reply chain: the submission, its best-scored comment,
  that comment's best-scored reply, ...

Threads go to the validation file or the training file by a hash of (site, thread id), so no thread is
in both and the split is the same on every run. docs/data.md has the knobs and their defaults.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

from miata_spiders.data import export
from miata_spiders.data.rag import own_text, post_url
from miata_spiders.data.source import DataError, progress_bar

DEFAULT_MIN_CHARS = 20
DEFAULT_MIN_SCORE = 1
DEFAULT_MAX_TURNS = 8
DEFAULT_VAL_FRACTION = 0.05
# Accounts whose comments are the subreddit's rules, not answers.
BOT_AUTHORS = {"AutoModerator"}


def register(subparsers) -> None:
    p = subparsers.add_parser("chat", help="chat fine-tuning conversations (JSON lines), train/validation split by thread",
                              description=__doc__.split("\n\n")[0])
    p.add_argument("--out", required=True, help="training file, e.g. chat.jsonl (validation: chat.val.jsonl)")
    p.add_argument("--min-chars", type=int, default=DEFAULT_MIN_CHARS,
                   help="leave out turns with fewer characters of own text (default: %(default)s)")
    p.add_argument("--min-score", type=int, default=DEFAULT_MIN_SCORE,
                   help="Reddit: an answer needs at least this score (default: %(default)s)")
    p.add_argument("--max-turns", type=int, default=DEFAULT_MAX_TURNS,
                   help="at most this many messages in a conversation (default: %(default)s)")
    p.add_argument("--no-quote-pairs", action="store_true", help="no conversations from quoting replies")
    p.add_argument("--val-fraction", type=float, default=DEFAULT_VAL_FRACTION,
                   help="share of threads in the validation file (default: %(default)s)")
    p.add_argument("--system", help="a system message to start every conversation with")
    export.add_common_arguments(p)
    p.set_defaults(func=lambda args: export.run("chat", export_chat, args))


def validation_path(out: Path) -> Path:
    return out.with_name(out.name.removesuffix(".jsonl") + ".val.jsonl")


def in_validation(site: str, thread_id: str, fraction: float) -> bool:
    """A thread's side of the split: a hash, not a random draw, so every run and every machine agree."""
    digest = hashlib.sha256(f"{site}\0{thread_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < fraction


class Knobs:
    def __init__(self, min_chars=DEFAULT_MIN_CHARS, min_score=DEFAULT_MIN_SCORE, max_turns=DEFAULT_MAX_TURNS,
                 quote_pairs=True, keep_pii=False, system=None):
        self.min_chars, self.min_score, self.max_turns = min_chars, min_score, max_turns
        self.quote_pairs, self.keep_pii, self.system = quote_pairs, keep_pii, system


def conversations(thread: list[dict], knobs: Knobs) -> list[dict]:
    """Every conversation one thread gives (rows in thread order)."""
    if thread[0].get("source") == "reddit":
        return [c for c in [reddit_chain(thread, knobs)] if c]
    return forum_conversations(thread, knobs)


def forum_conversations(thread: list[dict], knobs: Knobs) -> list[dict]:
    texts = {row["post_id"]: own_text(row, knobs.keep_pii) for row in thread}
    ok = {pid for pid, text in texts.items() if len(text) >= knobs.min_chars}
    opening = thread[0]
    found = []
    used = set()
    if opening.get("position") in (None, 1) and opening["post_id"] in ok:
        op_author = opening.get("author")
        question = texts[opening["post_id"]]
        if opening.get("thread_title"):
            question = f"{opening['thread_title']}\n\n{question}"
        turns = [("user", question, opening)]
        for row in thread[1:]:
            if len(turns) >= knobs.max_turns:
                break
            if row["post_id"] not in ok or _quotes_someone_else(row, opening):
                continue
            if op_author is not None and row.get("author") == op_author:
                if turns[-1][0] == "assistant":
                    turns.append(("user", texts[row["post_id"]], row))
            elif turns[-1][0] == "user":
                turns.append(("assistant", texts[row["post_id"]], row))
        if turns[-1][0] == "user":
            turns.pop()
        if len(turns) >= 2:
            found.append(_record(turns, "thread", knobs))
            used.update(row["post_id"] for _, _, row in turns)
    if knobs.quote_pairs:
        by_id = {row["post_id"]: row for row in thread}
        for row in thread:
            if row["post_id"] in used or row["post_id"] not in ok:
                continue
            pair = _quote_pair(row, by_id, texts, knobs)
            if pair:
                found.append(pair)
    return found


def _quotes_someone_else(row: dict, opening: dict) -> bool:
    """The reply quotes a post other than the opening post: it answers that post, not the question."""
    for quote in row.get("quotes") or ():
        if quote.get("post_id") and quote["post_id"] != opening["post_id"]:
            return True
        if not quote.get("post_id") and quote.get("author") and quote["author"] != opening.get("author"):
            return True
    return False


def _quote_pair(row: dict, by_id: dict, texts: dict, knobs: Knobs) -> dict | None:
    for quote in row.get("quotes") or ():
        if quote.get("author") and quote["author"] == row.get("author"):
            continue  # quoting oneself is not a question and its answer
        quoted_row = by_id.get(quote.get("post_id"))
        if quoted_row is not None:
            question = texts[quoted_row["post_id"]]
        else:
            question = own_text({"body_text": quote.get("text"), "source": row.get("source")}, knobs.keep_pii)
        if len(question) < knobs.min_chars:
            continue
        asker = quoted_row or {**row, "post_id": quote.get("post_id"), "author": quote.get("author")}
        return _record([("user", question, asker), ("assistant", texts[row["post_id"]], row)], "quote_pair", knobs)
    return None


def reddit_chain(thread: list[dict], knobs: Knobs) -> dict | None:
    submission = next((r for r in thread if r["post_id"].startswith("t3_")), None)
    if submission is None:
        return None
    children: dict[str, list[dict]] = {}
    for row in thread:
        if row.get("parent_id"):
            children.setdefault(row["parent_id"], []).append(row)
    body = own_text(submission, knobs.keep_pii)
    question = "\n\n".join(t for t in (submission.get("thread_title"), body) if t)
    turns = [("user", question, submission)]
    node = submission
    while len(turns) < knobs.max_turns:
        role = "assistant" if turns[-1][0] == "user" else "user"
        candidates = []
        for row in children.get(node["post_id"], ()):
            text = own_text(row, knobs.keep_pii)
            if len(text) < knobs.min_chars or row.get("author") in BOT_AUTHORS:
                continue
            if role == "assistant" and (row.get("score") or 0) < knobs.min_score:
                continue
            candidates.append((-(row.get("score") or 0), row.get("posted_at") is None, row.get("posted_at"),
                               row["post_id"], text, row))
        if not candidates:
            break
        *_, text, node = min(candidates, key=lambda c: c[:4])
        turns.append((role, text, node))
    if turns[-1][0] == "user":
        turns.pop()
    return _record(turns, "reddit_chain", knobs) if len(turns) >= 2 else None


def _record(turns: list[tuple[str, str, dict]], kind: str, knobs: Knobs) -> dict:
    first = turns[0][2]
    messages = [{"role": "system", "content": knobs.system}] if knobs.system else []
    messages += [{"role": role, "content": text} for role, text, _ in turns]
    return {
        "messages": messages,
        "meta": {
            "kind": kind,
            "source": first.get("source"),
            "site": first["site"],
            "thread_id": first["thread_id"],
            "thread_title": first.get("thread_title"),
            "url": post_url(turns[-1][2]) or "",
            "post_ids": [row.get("post_id") or "" for _, _, row in turns],
            "authors": [row.get("author") or "" for _, _, row in turns],
        },
    }


def export_chat(args) -> int:
    if not 0 <= args.val_fraction < 1:
        raise DataError(f"--val-fraction must be in [0, 1), got {args.val_fraction}")
    if args.max_turns < 2:
        raise DataError(f"--max-turns must be at least 2 (a question and an answer), got {args.max_turns}")
    train_path = export.output_path(args.out, args.force)
    val_path = export.output_path(validation_path(train_path), args.force) if args.val_fraction > 0 else None
    knobs = Knobs(args.min_chars, args.min_score, args.max_turns, not args.no_quote_pairs, args.keep_pii, args.system)
    con, _ = export.open_latest(args)
    where, params = export.post_filter(args)
    total = export.count_posts(con, where, params)
    started = time.monotonic()
    train_path.parent.mkdir(parents=True, exist_ok=True)
    outputs = {"train": train_path, "validation": val_path}
    temporaries = {split: path.with_name(f".{path.name}.tmp") for split, path in outputs.items() if path}
    files = {split: open(path, "w", encoding="utf-8") for split, path in temporaries.items()}
    counts = {"posts": 0, "threads": 0, "train": 0, "validation": 0}
    kinds: dict[str, int] = {}
    bar = progress_bar(total=total, unit="post", desc="export chat")
    try:
        for thread in export.iter_threads(con, where, params, on_rows=bar.update):
            counts["threads"] += 1
            counts["posts"] += len(thread)
            split = "validation" if val_path and in_validation(thread[0]["site"], thread[0]["thread_id"],
                                                               args.val_fraction) else "train"
            for record in conversations(thread, knobs):
                record["meta"]["split"] = split
                files[split].write(json.dumps(record, ensure_ascii=False) + "\n")
                counts[split] += 1
                kinds[record["meta"]["kind"]] = kinds.get(record["meta"]["kind"], 0) + 1
        for split, file in files.items():
            file.close()
            os.replace(temporaries[split], outputs[split])
    except BaseException:
        for split, file in files.items():
            file.close()
            temporaries[split].unlink(missing_ok=True)
        raise
    finally:
        bar.close()
    seconds = time.monotonic() - started
    by_kind = ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items()))
    print(f"export chat: {counts['posts']} posts in {counts['threads']} threads -> {counts['train']} train "
          f"conversations in {train_path}" + (f", {counts['validation']} validation in {val_path}" if val_path else "")
          + f" ({by_kind or 'none'}), {seconds:.1f}s ({counts['posts'] / max(seconds, 1e-9):,.0f} posts/s)")
    return 0
