"""``miata data export chat``: conversations that validate, pairs from quotes, Reddit's best chain, and a
train/validation split with no thread on both sides."""

from __future__ import annotations

import json

import duckdb
import pytest

from miata_spiders.cli import main
from miata_spiders.data.chat import in_validation
from miata_spiders.data.rag import own_text

SITE = "miataturbo"


def read(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def exported(sample_dataset, tmp_path_factory):
    out = tmp_path_factory.mktemp("chat") / "chat.jsonl"
    assert main(["data", "export", "chat", "--data-dir", str(sample_dataset.data_dir), "--out", str(out),
                 "--val-fraction", "0.25"]) == 0
    return out, read(out), read(out.with_name("chat.val.jsonl"))


def latest(data_dir) -> dict[tuple, dict]:
    glob = str(data_dir / "posts" / "*" / "*.parquet")
    rows = duckdb.sql(f"SELECT * FROM read_parquet('{glob}', hive_partitioning = true, hive_types = {{'site': VARCHAR}}, "
                      "union_by_name = true) QUALIFY row_number() OVER (PARTITION BY site, post_id "
                      "ORDER BY scraped_at DESC) = 1").to_arrow_table().to_pylist()
    return {(r["site"], r["post_id"]): r for r in rows}


def test_records_are_chat_conversations(exported):
    _, train, validation = exported
    assert train and validation
    for record in train + validation:
        roles = [m["role"] for m in record["messages"]]
        assert roles[0] == "user" and roles[-1] == "assistant" and len(roles) >= 2
        assert all(a != b for a, b in zip(roles, roles[1:]))  # user and assistant alternate
        assert all(isinstance(m["content"], str) and len(m["content"]) >= 20 for m in record["messages"])
        assert set(record["meta"]) == {"kind", "source", "site", "thread_id", "thread_title", "url", "post_ids",
                                       "authors", "split"}
        assert len(record["meta"]["post_ids"]) == len(record["messages"])


def test_split_is_by_thread_and_deterministic(exported, sample_dataset, tmp_path):
    out, train, validation = exported
    train_threads = {(r["meta"]["site"], r["meta"]["thread_id"]) for r in train}
    val_threads = {(r["meta"]["site"], r["meta"]["thread_id"]) for r in validation}
    assert train_threads and val_threads and not train_threads & val_threads
    assert all(r["meta"]["split"] == "train" for r in train) and all(r["meta"]["split"] == "validation" for r in validation)
    assert all(in_validation(site, tid, 0.25) for site, tid in val_threads)
    again = tmp_path / "again.jsonl"
    assert main(["data", "export", "chat", "--data-dir", str(sample_dataset.data_dir), "--out", str(again),
                 "--val-fraction", "0.25"]) == 0
    assert again.read_bytes() == out.read_bytes()
    assert again.with_name("again.val.jsonl").read_bytes() == out.with_name("chat.val.jsonl").read_bytes()


def test_thread_conversation_starts_with_the_opening_post_and_its_first_answer(exported, sample_dataset):
    _, train, validation = exported
    posts = latest(sample_dataset.data_dir)
    record = next(r for r in train + validation if r["meta"]["kind"] == "thread" and r["meta"]["thread_id"] == "1000")
    opening, answer = (posts[(SITE, pid)] for pid in record["meta"]["post_ids"][:2])
    assert opening["position"] == 1
    assert record["messages"][0]["content"] == f"{sample_dataset.forum_after.thread(1000).title}\n\n{own_text(opening)}"
    assert record["messages"][1]["content"] == own_text(answer)
    assert answer["author"] != opening["author"]
    # Every assistant turn of a thread conversation is by someone other than the opening poster, every
    # later user turn by the opening poster.
    for r in train + validation:
        if r["meta"]["kind"] == "thread":
            starter = r["meta"]["authors"][0]
            for message, author in zip(r["messages"][1:], r["meta"]["authors"][1:]):
                assert (author == starter) == (message["role"] == "user")


def test_a_quoting_reply_pairs_with_the_post_it_quotes(exported, sample_dataset):
    _, train, validation = exported
    posts = latest(sample_dataset.data_dir)
    pairs = [r for r in train + validation if r["meta"]["kind"] == "quote_pair"]
    assert len(pairs) >= 10
    for record in pairs:
        quoted_id, reply_id = record["meta"]["post_ids"]
        reply = posts[(record["meta"]["site"], reply_id)]
        assert quoted_id in [q["post_id"] for q in reply["quotes"]]
        assert record["messages"][1]["content"] == own_text(reply)
        quoted = posts.get((record["meta"]["site"], quoted_id))
        if quoted is not None and quoted["thread_id"] == reply["thread_id"]:
            assert record["messages"][0]["content"] == own_text(quoted)


def test_reddit_gives_the_best_scored_reply_chain(exported):
    _, train, validation = exported
    chain = next(r for r in train + validation if r["meta"]["thread_id"] == "t3_m1a001")
    assert chain["meta"]["kind"] == "reddit_chain"
    assert chain["meta"]["post_ids"] == ["t3_m1a001", "t1_c001"]  # score 45, above AutoModerator and the rest
    assert chain["messages"] == [
        {"role": "user", "content": "BEGi turbo on a 99: boost creep above 6k\n\nBoost creeps to 14 psi by redline. "
                                    "Log: https://i.imgur.com/boostlog.png\n\nAny ideas?"},
        {"role": "assistant", "content": "Port the wastegate, it is too small. See this writeup."},
    ]


def test_knobs(sample_dataset, tmp_path):
    out = tmp_path / "c.jsonl"
    assert main(["data", "export", "chat", "--data-dir", str(sample_dataset.data_dir), "--out", str(out),
                 "--val-fraction", "0", "--max-turns", "2", "--min-score", "100", "--no-quote-pairs",
                 "--system", "You answer Miata questions."]) == 0
    records = read(out)
    assert not out.with_name("c.val.jsonl").exists()
    assert records and all(len(r["messages"]) == 3 and r["messages"][0]["role"] == "system" for r in records)
    assert {r["meta"]["kind"] for r in records} == {"thread"}  # no Reddit answer scores 100; no quote pairs


def test_loads_with_hugging_face_datasets(exported, tmp_path, monkeypatch):
    datasets = pytest.importorskip("datasets", reason="the test extra installs Hugging Face datasets")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    out, train, validation = exported
    loaded = datasets.load_dataset("json", data_files={"train": str(out), "validation": str(out.with_name("chat.val.jsonl"))},
                                   cache_dir=str(tmp_path / "hf"))
    assert loaded["train"].num_rows == len(train) and loaded["validation"].num_rows == len(validation)
    assert loaded["train"][0]["messages"] == train[0]["messages"]


def test_output_exists(exported, sample_dataset, capsys):
    out, _, _ = exported
    assert main(["data", "export", "chat", "--data-dir", str(sample_dataset.data_dir), "--out", str(out)]) == 2
    assert capsys.readouterr().err.strip() == f"miata data export chat: {out} exists (--force replaces it)"
