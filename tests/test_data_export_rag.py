"""``miata data export rag``: chunks of own text only, with the metadata of the posts they hold."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import duckdb
import pyarrow.parquet as pq
import pytest

from miata_spiders.cli import main
from miata_spiders.data.rag import estimate_tokens, own_text, split_to_budget
from tests.support.data_rows import add_posts, copy_thread, stored_rows
from tests.support.sample_dataset import copy_sample

SITE = "miataturbo"


def latest(data_dir, where="true") -> dict[str, dict]:
    glob = str(data_dir / "posts" / "*" / "*.parquet")
    table = duckdb.sql(
        f"SELECT * FROM read_parquet('{glob}', hive_partitioning = true, hive_types = {{'site': VARCHAR}}, "
        f"union_by_name = true) WHERE {where} "
        "QUALIFY row_number() OVER (PARTITION BY site, post_id ORDER BY scraped_at DESC) = 1").to_arrow_table()
    return {row["post_id"]: row for row in table.to_pylist()}


def export(data_dir, out, *extra) -> list[dict]:
    assert main(["data", "export", "rag", "--data-dir", str(data_dir), "--out", str(out), *extra]) == 0
    return pq.read_table(out / "chunks.parquet").to_pylist()


@pytest.fixture(scope="module")
def chunks(sample_dataset, tmp_path_factory):
    return export(sample_dataset.data_dir, tmp_path_factory.mktemp("rag") / "out")


def test_every_post_with_text_is_in_one_chunk_of_its_thread(chunks, sample_dataset):
    posts = latest(sample_dataset.data_dir, "NOT coalesce(is_deleted, false) AND length(trim(body_text)) >= 20")
    exported = [pid for chunk in chunks for pid in chunk["post_ids"]]
    assert sorted(exported) == sorted(posts)  # each once: the sample's posts are all under the size budget
    for chunk in chunks:
        rows = [posts[pid] for pid in chunk["post_ids"]]
        assert {(r["site"], r["thread_id"]) for r in rows} == {(chunk["site"], chunk["thread_id"])}
        assert chunk["text"] == "\n\n".join(f"{r['author'] or '[unknown]'}: {r['body_text'].strip()}" for r in rows)


def test_chunk_metadata_comes_from_its_posts(chunks, sample_dataset):
    posts = latest(sample_dataset.data_dir)
    for chunk in chunks:
        rows = [posts[pid] for pid in chunk["post_ids"]]
        first = rows[0]
        assert chunk["source"] == first["source"]
        assert chunk["thread_title"] == first["thread_title"]
        assert chunk["forum_path"] == (first["forum_path"] or [])
        assert chunk["url"] == (first["url"] or "https://www.reddit.com" + first["permalink"])
        assert chunk["authors"] == list(dict.fromkeys(r["author"] for r in rows if r["author"]))
        dates = [r["posted_at"] for r in rows if r["posted_at"]]
        assert (chunk["first_posted_at"], chunk["last_posted_at"]) == (min(dates), max(dates))
        assert chunk["image_urls"] == list(dict.fromkeys(u for r in rows for u in r["images"]))
        assert chunk["link_urls"] == list(dict.fromkeys(u for r in rows for u in r["links"]))
        assert chunk["n_tokens"] == estimate_tokens(chunk["text"]) <= 512
    # Known values from the synthetic forum: thread 1000's title and first post's URL.
    thread = sample_dataset.forum_after.thread(1000)
    first = next(c for c in chunks if c["thread_id"] == "1000")
    assert first["thread_title"] == thread.title
    assert first["post_ids"][0] == "100000001"
    assert first["url"] == "https://www.miataturbo.net/100000001-post1.html"
    assert any(c["image_urls"] for c in chunks) and any(c["link_urls"] for c in chunks)


def test_quoted_text_enters_the_index_once_and_the_quote_is_kept_as_a_reference(chunks, sample_dataset):
    posts = latest(sample_dataset.data_dir)
    chunk_of = {pid: c for c in chunks for pid in c["post_ids"]}
    quoting = [p for p in posts.values() if p["quotes"] and p["post_id"] in chunk_of]
    assert len(quoting) >= 20
    checked = 0
    for post in quoting:
        chunk = chunk_of[post["post_id"]]
        for quote in post["quotes"]:
            if quote["post_id"]:
                assert quote["post_id"] in chunk["quoted_post_ids"]
            text = (quote["text"] or "").strip()
            if len(text) < 20:
                continue
            own = f"{post['author'] or '[unknown]'}: {own_text(post)}"
            assert own in chunk["text"] and text not in own
            if quote["post_id"] in chunk_of:
                # At most in the quoted post's own chunk (its text as posted), never again with the quoting post.
                holders = {c["chunk_id"] for c in chunks if text in c["text"]}
                assert holders <= {chunk_of[quote["post_id"]]["chunk_id"]}
            checked += 1
    assert checked >= 10


def test_signatures_and_deleted_posts_are_left_out(chunks, sample_dataset):
    posts = latest(sample_dataset.data_dir)
    signatures = {p["signature"] for p in posts.values() if p["signature"]}
    assert signatures
    assert not [s for s in signatures for c in chunks if s in c["text"]]
    deleted = {pid for pid, p in posts.items() if p["is_deleted"]}
    assert deleted and not deleted & {pid for c in chunks for pid in c["post_ids"]}


def test_edited_posts_are_exported_in_their_latest_version(chunks, sample_dataset):
    glob = str(sample_dataset.data_dir / "posts" / f"site={SITE}" / "*.parquet")
    edited = {r[0] for r in duckdb.sql(f"SELECT post_id FROM read_parquet('{glob}') GROUP BY 1 HAVING count(*) = 2").fetchall()}
    assert len(edited) == 6
    texts = {pid: c["text"] for c in chunks for pid in c["post_ids"]}
    assert all("UPDATE 1: still holding boost." in texts[pid] for pid in edited)


def test_small_budget_cuts_on_post_and_paragraph_boundaries(sample_dataset, tmp_path):
    chunks = export(sample_dataset.data_dir, tmp_path / "out", "--max-tokens", "64", "--site", "reddit")
    assert all(c["n_tokens"] <= 64 for c in chunks)
    assert {c["site"] for c in chunks} == {"reddit"}
    # A long Reddit text post cut in pieces keeps every word in order.
    posts = latest(sample_dataset.data_dir, "site = 'reddit'")
    for pid, post in posts.items():
        pieces = [c for c in chunks if c["post_ids"] == [pid]]
        if len(pieces) > 1:
            joined = " ".join(c["text"].removeprefix(f"{post['author']}: ") for c in pieces)
            assert joined.split() == own_text(post).split()


def test_split_to_budget_prefers_paragraphs_then_sentences():
    text = "First paragraph is short.\n\n" + "Second one has a sentence. " * 30 + "\n\nThird."
    pieces = split_to_budget(text, 60)
    assert pieces[0] == "First paragraph is short."
    assert all(estimate_tokens(p) <= 60 for p in pieces)
    assert pieces[-1].endswith("Third.")
    assert " ".join(pieces).split() == text.split()


def test_boilerplate_and_pii_are_removed_and_keep_pii_keeps_the_contacts(sample_dataset, tmp_path):
    data_dir = copy_sample(sample_dataset, tmp_path)
    template = stored_rows(data_dir, SITE, "post_id = '100000001'")[0]
    body = ("My NB idles rough after the swap, any ideas?\n\nEmail me at joe.bloggs@example.com or call "
            "(555) 555-1234.\n\nSent from my iPhone using Tapatalk")
    add_posts(data_dir, SITE, [{**template, "thread_id": "900", "post_id": "900000001", "body_text": body,
                                "quotes": [], "images": [], "links": [], "signature": None}])
    chunk = next(c for c in export(data_dir, tmp_path / "a") if c["thread_id"] == "900")
    assert chunk["text"] == (f"{template['author']}: My NB idles rough after the swap, any ideas?\n\n"
                             "Email me at [email] or call [phone].")
    kept = next(c for c in export(data_dir, tmp_path / "b", "--keep-pii") if c["thread_id"] == "900")
    assert "joe.bloggs@example.com or call (555) 555-1234." in kept["text"] and "Tapatalk" not in kept["text"]
    # The raw dataset is never rewritten.
    assert stored_rows(data_dir, SITE, "post_id = '900000001'")[0]["body_text"] == body


def test_near_duplicates_across_threads_are_dropped(sample_dataset, tmp_path):
    data_dir = copy_sample(sample_dataset, tmp_path)
    copy_thread(data_dir, SITE, "1000", "1000x", edit=lambda t: t.replace("torque", "torques", 1))
    original = [c for c in export(data_dir, tmp_path / "kept", "--no-dedupe") if c["thread_id"] in ("1000", "1000x")]
    assert len([c for c in original if c["thread_id"] == "1000x"]) == len([c for c in original if c["thread_id"] == "1000"]) >= 1
    deduped = export(data_dir, tmp_path / "dedup")
    assert [c for c in deduped if c["thread_id"] == "1000x"] == []
    assert len([c for c in deduped if c["thread_id"] == "1000"]) == len([c for c in original if c["thread_id"] == "1000"])
    summary = json.loads((tmp_path / "dedup" / "export.json").read_text())
    assert summary["counts"]["near_duplicates"] == len([c for c in original if c["thread_id"] == "1000x"])


def test_filters(sample_dataset, tmp_path):
    since, until = "2025-01-01", "2026-01-01"
    chunks = export(sample_dataset.data_dir, tmp_path / "d", "--since", since, "--until", until, "--site", SITE)
    posts = latest(sample_dataset.data_dir, f"site = '{SITE}' AND posted_at >= '{since}' AND posted_at < '{until}' "
                                            "AND NOT is_deleted AND length(trim(body_text)) >= 20")
    assert posts and sorted(pid for c in chunks for pid in c["post_ids"]) == sorted(posts)
    low, high = (datetime.fromisoformat(d).replace(tzinfo=timezone.utc) for d in (since, until))
    assert all(low <= c["first_posted_at"] and c["last_posted_at"] < high for c in chunks)
    long_only = export(sample_dataset.data_dir, tmp_path / "m", "--min-chars", "200", "--site", SITE)
    assert all(len(own_text(p)) >= 200 for c in long_only for p in
               latest(sample_dataset.data_dir, f"post_id IN ({', '.join(repr(x) for x in c['post_ids'])})").values())


def test_jsonl_format(sample_dataset, tmp_path):
    assert main(["data", "export", "rag", "--data-dir", str(sample_dataset.data_dir), "--out", str(tmp_path / "j"),
                 "--format", "jsonl", "--site", "reddit"]) == 0
    lines = [json.loads(line) for line in (tmp_path / "j" / "chunks.jsonl").read_text().splitlines()]
    assert lines and all(r["site"] == "reddit" and r["text"] and r["post_ids"] for r in lines)
    assert lines[0]["first_posted_at"].endswith("+00:00")


def test_errors_are_one_line_with_exit_status_2(sample_dataset, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    base = ["data", "export", "rag", "--out"]
    assert main([*base, str(out), "--data-dir", str(sample_dataset.data_dir)]) == 2
    assert main([*base, str(tmp_path / "x"), "--data-dir", str(tmp_path / "missing")]) == 2
    assert main([*base, str(tmp_path / "y"), "--data-dir", str(sample_dataset.data_dir), "--site", "nosuch"]) == 2
    data_dir = copy_sample(sample_dataset, tmp_path)
    bad = data_dir / "posts" / f"site={SITE}" / "part-20000101T000000000000Z-bad.parquet"
    bad.write_bytes(b"not parquet")
    assert main([*base, str(tmp_path / "z"), "--data-dir", str(data_dir)]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines == [
        f"miata data export rag: {out} exists (--force replaces it)",
        f"miata data export rag: no dataset at {tmp_path / 'missing'}: {tmp_path / 'missing' / 'posts'} does not "
        "exist (set --data-dir or MIATA_DATA_DIR)",
        f"miata data export rag: unknown site 'nosuch' in {sample_dataset.data_dir}; sites there: miataturbo, reddit",
        lines[3],
    ]
    assert lines[3].startswith(f"miata data export rag: damaged part {bad}: ") and "--skip-bad" in lines[3]
    assert main([*base, str(tmp_path / "z"), "--data-dir", str(data_dir), "--skip-bad"]) == 0
    assert f"warning: skipping damaged part {bad}" in capsys.readouterr().err
    assert main([*base, str(out), "--data-dir", str(sample_dataset.data_dir), "--force"]) == 0
    assert (out / "chunks.parquet").exists()
