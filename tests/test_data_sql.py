"""`miata data sql` (and its older name `miata query`): the posts and latest_posts views, and --out."""

from __future__ import annotations

import csv
import json

import pyarrow.parquet as pq

from miata_spiders.cli import main
from pipelines.dataset import open_posts_dataset


def distinct_posts(data_dir) -> dict[str, int]:
    table = open_posts_dataset(data_dir).to_table(columns=["site", "post_id"]).to_pylist()
    out: dict[str, set] = {}
    for row in table:
        out.setdefault(row["site"], set()).add(row["post_id"])
    return {site: len(ids) for site, ids in out.items()}


def test_latest_posts_has_one_row_per_post(sample_dataset, tmp_path):
    out = tmp_path / "counts.parquet"
    assert main(["data", "sql", "--data-dir", str(sample_dataset.data_dir), "--out", str(out),
                 "SELECT site, count(*) AS n, count(DISTINCT post_id) AS ids FROM latest_posts GROUP BY site"]) == 0
    rows = {r["site"]: r for r in pq.read_table(out).to_pylist()}
    assert {site: r["n"] for site, r in rows.items()} == distinct_posts(sample_dataset.data_dir)
    assert all(r["n"] == r["ids"] for r in rows.values())


def test_posts_view_holds_every_version(sample_dataset, tmp_path):
    out = tmp_path / "all.csv"
    assert main(["data", "sql", "--data-dir", str(sample_dataset.data_dir), "--out", str(out),
                 "SELECT site, post_id, content_hash FROM posts ORDER BY site, post_id, content_hash;"]) == 0
    with out.open(newline="") as f:
        rows = list(csv.DictReader(f))
    expected = open_posts_dataset(sample_dataset.data_dir).to_table(columns=["site", "post_id", "content_hash"])
    assert len(rows) == expected.num_rows
    assert sorted((r["site"], r["post_id"], r["content_hash"]) for r in rows) == sorted(
        (r["site"], r["post_id"], r["content_hash"]) for r in expected.to_pylist())


def test_jsonl_out_and_site_filter(sample_dataset, tmp_path):
    out = tmp_path / "forum.jsonl"
    assert main(["data", "sql", "--data-dir", str(sample_dataset.data_dir), "--site", sample_dataset.forum_site,
                 "--out", str(out), "SELECT DISTINCT site FROM posts"]) == 0
    assert [json.loads(line) for line in out.read_text().splitlines()] == [{"site": sample_dataset.forum_site}]


def test_query_is_the_same_command(sample_dataset, capsys):
    sql = "SELECT site, count(*) AS n FROM latest_posts GROUP BY site ORDER BY site"
    assert main(["data", "sql", "--data-dir", str(sample_dataset.data_dir), sql]) == 0
    printed = capsys.readouterr().out
    assert main(["query", "--data-dir", str(sample_dataset.data_dir), sql]) == 0
    assert capsys.readouterr().out == printed
    for site, n in distinct_posts(sample_dataset.data_dir).items():
        assert any(line.split("│")[1:3] and line.split("│")[1].strip() == site and line.split("│")[2].strip() == str(n)
                   for line in printed.splitlines() if "│" in line)


def test_errors(sample_dataset, tmp_path, capsys):
    data = str(sample_dataset.data_dir)
    out = tmp_path / "x.parquet"
    out.write_text("keep me")
    assert main(["data", "sql", "--data-dir", data, "--out", str(out), "SELECT 1"]) == 2
    assert "--force" in capsys.readouterr().err and out.read_text() == "keep me"
    assert main(["data", "sql", "--data-dir", data, "--out", str(tmp_path / "x.xlsx"), "SELECT 1"]) == 2
    assert ".parquet" in capsys.readouterr().err
    assert main(["data", "sql", "--data-dir", data, "SELECT nope FROM posts"]) == 1
    assert "nope" in capsys.readouterr().err
    assert main(["data", "sql", "--data-dir", data, "--site", "nosuch", "SELECT 1"]) == 2
    assert "nosuch" in capsys.readouterr().err
    assert not list(tmp_path.glob(".*")), "no temporary file left behind"
