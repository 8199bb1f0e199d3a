"""`miata data stats`: its figures match the dataset read independently (pyarrow, and the synthetic
forum the sample was crawled from), its PNG opens at the promised size, and bad input ends in one line."""

from __future__ import annotations

import json
from collections import Counter, defaultdict

import pytest

from miata_spiders.cli import main
from miata_spiders.data.plot import PLOT_SIZE
from pipelines.dataset import open_posts_dataset
from tests.support.sample_dataset import copy_sample


def stats_json(data_dir, capsys, *extra) -> dict:
    assert main(["data", "stats", "--data-dir", str(data_dir), "--json", *extra]) == 0
    return json.loads(capsys.readouterr().out)


def rows_by_site(data_dir) -> dict[str, list[dict]]:
    table = open_posts_dataset(data_dir).to_table(
        columns=["site", "source", "post_id", "thread_id", "author", "posted_at", "scraped_at", "content_hash",
                 "is_deleted", "images", "links", "quotes", "position", "body_text"])
    out = defaultdict(list)
    for row in table.to_pylist():
        out[row["site"]].append(row)
    return out


def latest(rows: list[dict]) -> list[dict]:
    best = {}
    for row in rows:
        key = (row["scraped_at"], row["content_hash"])
        if row["post_id"] not in best or key > (best[row["post_id"]]["scraped_at"], best[row["post_id"]]["content_hash"]):
            best[row["post_id"]] = row
    return list(best.values())


@pytest.fixture(scope="module")
def figures(sample_dataset, tmp_path_factory):
    # capsys is function-scoped: run the command once here, reading stdout through a file.
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["data", "stats", "--data-dir", str(sample_dataset.data_dir), "--json"]) == 0
    return json.loads(out.getvalue())


def test_per_site_counts_match_the_crawled_forum(sample_dataset, figures):
    forum = sample_dataset.forum_after
    site = next(s for s in figures["sites"] if s["site"] == sample_dataset.forum_site)
    assert site["source"] == "forum"
    assert site["posts"] == forum.total_posts()
    assert site["threads"] == len(list(forum.all_thread_ids()))
    every_post = [forum.post(t, p) for t in forum.all_thread_ids() for p in range(1, forum.thread(t).post_count + 1)]
    assert site["deleted"] == sum(p.deleted for p in every_post)
    assert site["links"] == sum(len(p.links) for p in every_post if not p.deleted)
    assert site["edited_posts"] > 0, "the second crawl found edits: some posts have two versions"
    assert site["duplicate_rows"] == 0


def test_every_figure_matches_an_independent_read(sample_dataset, figures):
    by_site = rows_by_site(sample_dataset.data_dir)
    assert [s["site"] for s in figures["sites"]] == sorted(by_site, key=lambda s: (by_site[s][0]["source"], s))
    for entry in figures["sites"]:
        rows = by_site[entry["site"]]
        newest = latest(rows)
        versions = Counter(r["post_id"] for r in rows)
        live = [r for r in newest if not r["is_deleted"]]
        assert entry["rows"] == len(rows)
        assert entry["posts"] == len(newest)
        assert entry["threads"] == len({r["thread_id"] for r in newest})
        assert entry["authors"] == len({r["author"] for r in newest if r["author"] is not None})
        assert entry["edited_posts"] == sum(1 for n in versions.values() if n > 1)
        assert entry["images"] == sum(len(r["images"]) for r in newest)
        assert entry["quotes"] == sum(len(r["quotes"]) for r in newest)
        assert entry["posts_per_year"] == {str(y): n for y, n in sorted(
            Counter(r["posted_at"].year for r in newest if r["posted_at"]).items())}
        assert entry["coverage"]["author"] == round(100 * sum(r["author"] is not None for r in live) / len(live), 2)
        assert entry["coverage"]["position"] == round(100 * sum(r["position"] is not None for r in live) / len(live), 2)
        months = Counter(r["posted_at"].strftime("%Y-%m") for r in newest if r["posted_at"])
        assert {p["month"]: p["posts"] for p in figures["posts_per_month"] if p["site"] == entry["site"]} == months
    assert figures["total"]["posts"] == sum(len(latest(rows)) for rows in by_site.values())
    assert {s["source"] for s in figures["sites"]} == {"forum", "reddit"}


def test_top_domains_and_pages_count_links(sample_dataset, figures):
    forum = sample_dataset.forum_after
    links = Counter(link for t in forum.all_thread_ids() for p in range(1, forum.thread(t).post_count + 1)
                    for post in [forum.post(t, p)] if not post.deleted for link in post.links)
    domains = {d["domain"]: d["links"] for d in figures["top_link_domains"]}
    # Every synthetic forum link points at flyinmiata.com; the Reddit sample may add some of its own.
    assert domains["flyinmiata.com"] >= sum(links.values())
    top_page = figures["top_linked_pages"][0]
    assert top_page["links"] >= links.most_common(1)[0][1]
    assert figures["top_forums"] and all(f["posts"] > 0 for f in figures["top_forums"])
    assert figures["top_forums"] == sorted(figures["top_forums"], key=lambda f: -f["posts"])


def test_tables_on_the_terminal(sample_dataset, capsys):
    assert main(["data", "stats", "--data-dir", str(sample_dataset.data_dir)]) == 0
    captured = capsys.readouterr()
    forum = sample_dataset.forum_after
    assert "Field coverage" in captured.out and "Top forums" in captured.out and "Most-linked domains" in captured.out
    site_line = next(line for line in captured.out.splitlines() if line.split()[:2] == ["forum", sample_dataset.forum_site])
    assert f"{forum.total_posts():,}" in site_line.split()
    assert captured.err.startswith("stats: ") and captured.err.count("\n") == 1  # one summary line, no bar when piped


def test_plot_is_a_png_of_the_promised_size(sample_dataset, tmp_path, capsys):
    from PIL import Image

    png = tmp_path / "stats.png"
    assert main(["data", "stats", "--data-dir", str(sample_dataset.data_dir), "--plot", str(png)]) == 0
    with Image.open(png) as image:
        assert image.format == "PNG"
        assert image.size == PLOT_SIZE
        colours = image.convert("RGB").getcolors(maxcolors=1 << 20)
    assert len(colours) > 50, "something was drawn, not a blank canvas"
    assert not list(tmp_path.glob(".*")), "no temporary file left behind"
    # An existing plot is not overwritten without --force.
    capsys.readouterr()
    assert main(["data", "stats", "--data-dir", str(sample_dataset.data_dir), "--plot", str(png)]) == 2
    err = capsys.readouterr().err
    assert str(png) in err and "--force" in err and err.count("\n") == 1
    assert main(["data", "stats", "--data-dir", str(sample_dataset.data_dir), "--plot", str(png), "--force"]) == 0


def test_site_filter(sample_dataset, capsys):
    figures = stats_json(sample_dataset.data_dir, capsys, "--site", sample_dataset.forum_site)
    assert [s["site"] for s in figures["sites"]] == [sample_dataset.forum_site]


def test_clear_errors(sample_dataset, tmp_path, capsys):
    assert main(["data", "stats", "--data-dir", str(tmp_path / "nowhere")]) == 2
    err = capsys.readouterr().err
    assert "nowhere" in err and err.count("\n") == 1
    (tmp_path / "empty" / "posts").mkdir(parents=True)
    assert main(["data", "stats", "--data-dir", str(tmp_path / "empty")]) == 2
    assert "no Parquet parts" in capsys.readouterr().err
    assert main(["data", "stats", "--data-dir", str(sample_dataset.data_dir), "--site", "nosuchforum"]) == 2
    err = capsys.readouterr().err
    assert "nosuchforum" in err and sample_dataset.forum_site in err


def test_a_corrupt_part_is_named_and_skip_bad_carries_on(sample_dataset, tmp_path, capsys):
    data_dir = copy_sample(sample_dataset, tmp_path)
    whole = stats_json(data_dir, capsys)
    part = sorted((data_dir / "posts" / f"site={sample_dataset.forum_site}").glob("*.parquet"))[0]
    import pyarrow.parquet as pq

    lost = pq.ParquetFile(part).metadata.num_rows
    part.write_bytes(part.read_bytes()[: 200])
    assert main(["data", "stats", "--data-dir", str(data_dir)]) == 2
    err = capsys.readouterr().err
    assert part.name in err and "--skip-bad" in err and err.count("\n") == 1
    figures = stats_json(data_dir, capsys, "--skip-bad")
    assert [p["path"] for p in figures["skipped_parts"]] == [str(part)]
    assert figures["total"]["rows"] == whole["total"]["rows"] - lost


def test_demo_ends_pointing_at_stats_and_a_search_that_finds_posts(tmp_path):
    import re
    import subprocess
    import sys

    from tests.support.crawl import ROOT

    def miata(*args):
        return subprocess.run([sys.executable, "-m", "miata_spiders.cli", *args], cwd=ROOT, capture_output=True,
                              text=True, timeout=180)

    demo = miata("demo", "--out", str(tmp_path / "demo"), "--posts", "200")
    assert demo.returncode == 0, demo.stderr[-2000:]
    stats_line = re.search(r"look at it\s+: (miata data stats .*)", demo.stdout).group(1)
    search_line = re.search(r"search it\s+: miata data search --data-dir (\S+) \"([^\"]+)\"", demo.stdout)
    stats = miata(*stats_line.split()[1:])
    assert stats.returncode == 0, stats.stderr
    assert (tmp_path / "demo" / "stats.png").exists()
    found = miata("data", "search", "--data-dir", search_line.group(1), "--json", search_line.group(2))
    assert found.returncode == 0, found.stderr
    assert found.stdout.strip(), f"the suggested search {search_line.group(2)!r} finds posts"
