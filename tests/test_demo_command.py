"""`miata demo`, the README's first command: a complete offline crawl of a forum on 127.0.0.1 and a
summary that says where the data is and how to query it."""

import subprocess
import sys

import pytest

from tests.support.crawl import ROOT, dataset_rows


def demo(tmp_path, *args):
    cmd = [sys.executable, "-m", "miata_spiders.cli", "demo", "--out", str(tmp_path), *args]
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("engine, site", [("ib-vbulletin", "miataturbo"), ("phpbb", "forum-www.mx5club.example"),
                                          ("discourse", "mx5oc")])
def test_demo_collects_the_whole_forum_and_says_where_it_is(tmp_path, engine, site):
    result = demo(tmp_path, "--posts", "300", "--engine", engine)
    assert result.returncode == 0, result.stderr[-2000:]
    rows = dataset_rows(tmp_path)
    assert rows and {r["site"] for r in rows} == {site}
    assert f"posts in dataset : {len(rows)} in" in result.stdout
    assert f"(the forum has {len(rows)} posts)" in result.stdout
    assert f"{(tmp_path / 'posts').resolve()}/site={site}/" in result.stdout
    assert "miata query --data-dir" in result.stdout


def test_demo_of_a_saved_fixture_forum(tmp_path):
    result = demo(tmp_path, "--fixture", "mx5nutz")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "crawling it with `mx5nutz`" in result.stdout
    assert dataset_rows(tmp_path)
