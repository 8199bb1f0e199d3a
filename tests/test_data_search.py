"""``miata data search`` / ``miata data index``: BM25 over the latest versions, refreshed incrementally."""

from __future__ import annotations

import json
import sqlite3

import duckdb
import pytest

from miata_spiders.cli import main
from miata_spiders.data.search import index_path, search
from tests.support.data_rows import add_posts, stored_rows
from tests.support.sample_dataset import copy_sample

SITE = "miataturbo"


@pytest.fixture(scope="module")
def indexed(sample_dataset, tmp_path_factory):
    data_dir = copy_sample(sample_dataset, tmp_path_factory.mktemp("search"))
    assert main(["data", "index", "--data-dir", str(data_dir)]) == 0
    return data_dir


def latest_ids(data_dir, where: str) -> set[str]:
    glob = str(data_dir / "posts" / "*" / "*.parquet")
    return {r[0] for r in duckdb.sql(
        f"SELECT post_id FROM read_parquet('{glob}', hive_partitioning = true, hive_types = {{'site': VARCHAR}}, "
        "union_by_name = true) QUALIFY row_number() OVER (PARTITION BY site, post_id ORDER BY scraped_at DESC) = 1 "
        f"AND {where}").fetchall()}


def test_known_phrases_find_exactly_their_posts(indexed):
    # The synthetic forum adds "EDIT: fixed it, was a cracked vacuum line." to some posts and
    # "UPDATE 1: still holding boost." to the posts edited between the two crawls.
    cracked = latest_ids(indexed, "body_text LIKE '%cracked vacuum line%'")
    assert len(cracked) >= 3
    assert {h["post_id"] for h in search(indexed, "cracked vacuum line", limit=100)} == cracked
    updated = search(indexed, "update still holding", limit=100)
    assert {h["post_id"] for h in updated} == latest_ids(indexed, "body_text LIKE '%UPDATE 1: still holding boost.%'")
    assert len(updated) == 6  # the six edited posts, each once: only its latest version is indexed


def test_reddit_reply_found_with_its_thread_and_url(indexed):
    [hit] = search(indexed, "creep gone")
    assert hit["post_id"] == "t1_c002" and hit["author"] == "turbo_tom"
    assert hit["thread_title"] == "BEGi turbo on a 99: boost creep above 6k"
    assert hit["url"] == "https://www.reddit.com/r/Miata/comments/m1a001/begi_turbo_on_a_99_boost_creep_above_6k/c002/"
    assert hit["snippet"] == "Did that, [creep] is [gone]. Thanks"


def test_best_match_first(indexed):
    hits = search(indexed, "wastegate port", any_word=True, limit=50)
    assert hits[0]["post_id"] == "t1_c001"  # "Port the wastegate, it is too small": both words, a short post
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)
    assert {h["site"] for h in search(indexed, "boost", sites=["reddit"], limit=50)} == {"reddit"}


def test_search_prints_title_author_date_url(indexed, capsys):
    assert main(["data", "search", "creep gone", "--data-dir", str(indexed)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "1. BEGi turbo on a 99: boost creep above 6k"
    assert lines[1].startswith("   turbo_tom · 20") and lines[1].endswith(
        " · reddit · https://www.reddit.com/r/Miata/comments/m1a001/begi_turbo_on_a_99_boost_creep_above_6k/c002/")
    assert lines[2] == "   Did that, [creep] is [gone]. Thanks"
    assert lines[3].startswith("search: 1 posts for 'creep gone' in ")
    assert main(["data", "search", "creep gone", "--json", "--data-dir", str(indexed)]) == 0
    assert json.loads(capsys.readouterr().out)["post_id"] == "t1_c002"


def test_index_reads_only_new_parts_and_keeps_the_latest_version(sample_dataset, tmp_path, capsys):
    data_dir = copy_sample(sample_dataset, tmp_path)
    assert main(["data", "index", "--data-dir", str(data_dir)]) == 0
    assert "read 3 new parts (523 rows)" in capsys.readouterr().out
    assert main(["data", "index", "--data-dir", str(data_dir)]) == 0
    assert capsys.readouterr().out.startswith("index: up to date, 517 posts")

    # A new version of post 100000001 and a new post arrive in one new part.
    old = stored_rows(data_dir, SITE, "post_id = '100000001'")[0]
    old_words = " ".join(old["body_text"].split()[:6])
    assert "100000001" in {h["post_id"] for h in search(data_dir, old_words, limit=1000)}
    later = old["scraped_at"].replace(year=old["scraped_at"].year + 1)
    add_posts(data_dir, SITE, [
        {**old, "body_text": "Rewritten: the flux capacitor needed a new fuse.", "scraped_at": later},
        {**old, "post_id": "100000099", "position": 99, "body_text": "Flux capacitor wiring diagram attached."},
    ])
    assert main(["data", "index", "--data-dir", str(data_dir)]) == 0
    assert "read 1 new parts (2 rows)" in capsys.readouterr().out
    assert {h["post_id"] for h in search(data_dir, "flux capacitor")} == {"100000001", "100000099"}
    [hit] = search(data_dir, "rewritten fuse")
    assert hit["post_id"] == "100000001" and hit["snippet"] == "[Rewritten]: the flux capacitor needed a new [fuse]"
    assert "100000001" not in {h["post_id"] for h in search(data_dir, old_words, limit=1000)}  # the old version is gone
    with sqlite3.connect(index_path(data_dir) / "search.sqlite3") as con:
        assert con.execute("SELECT count(*), count(DISTINCT site || post_id) FROM versions").fetchone() == (518, 518)

    # compact rewrites every part: the index reads them again and changes nothing.
    assert main(["data", "compact", "--data-dir", str(data_dir), "--site", SITE]) == 0
    assert main(["data", "index", "--data-dir", str(data_dir)]) == 0
    out = capsys.readouterr().out
    assert "read 1 new parts (507 rows), forgot 3 gone, 518 posts indexed" in out
    assert {h["post_id"] for h in search(data_dir, "flux capacitor")} == {"100000001", "100000099"}


def test_search_builds_the_index_when_missing_and_errors_are_one_line(sample_dataset, tmp_path, capsys):
    data_dir = copy_sample(sample_dataset, tmp_path)
    assert main(["data", "search", "creep gone", "--data-dir", str(data_dir)]) == 0
    assert index_path(data_dir).exists()
    capsys.readouterr()
    assert main(["data", "search", "--data-dir", str(data_dir), "--", "-:*"]) == 2
    assert main(["data", "search", "boost", "--data-dir", str(tmp_path / "missing")]) == 2
    assert main(["data", "search", "boost", "--no-refresh", "--data-dir", str(sample_dataset.data_dir)]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines == [
        "miata data search: nothing to search for in '-:*'",
        f"miata data search: no dataset at {tmp_path / 'missing'}: {tmp_path / 'missing' / 'posts'} does not exist "
        "(set --data-dir or MIATA_DATA_DIR)",
        f"miata data search: no search index at {index_path(sample_dataset.data_dir)} (run `miata data index`)",
    ]
