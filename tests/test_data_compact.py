"""``miata data compact``: exact rows after compaction (every version and --latest), and a crash at each
point of the swap leaving either the old or the new set, never both and never neither."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from miata_spiders.cli import main
from miata_spiders.data import compact
from miata_spiders.data.compact import CRASH_POINT_ENV, STAGING_DIR_NAME, parse_size
from miata_spiders.data.source import site_parts
from pipelines.lock import SiteLock
from tests.support.sample_dataset import copy_sample

ROOT = Path(__file__).resolve().parents[1]
SITE = "miataturbo"
ROW = "post_id, content_hash, thread_id, position, author, posted_at, body_text, quotes, images, links, scraped_at"


def rows(data_dir: Path, site: str = SITE, latest: bool = False) -> list[tuple]:
    """Every row of a site as the readers see it (DuckDB over the ``*.parquet`` glob), in a fixed order."""
    glob = str(data_dir / "posts" / f"site={site}" / "*.parquet")
    latest_sql = ("QUALIFY row_number() OVER (PARTITION BY post_id ORDER BY scraped_at DESC, content_hash DESC) = 1"
                  if latest else "")
    return duckdb.sql(f"SELECT {ROW} FROM read_parquet('{glob}') {latest_sql} "
                      "ORDER BY post_id, content_hash").fetchall()


@pytest.fixture
def data_dir(sample_dataset, tmp_path):
    return copy_sample(sample_dataset, tmp_path)


def test_compact_keeps_every_version_in_one_sorted_part(data_dir, capsys):
    before = rows(data_dir)
    assert len(site_parts(data_dir, SITE)) == 2  # one part per crawl
    assert main(["data", "compact", "--data-dir", str(data_dir)]) == 0  # every site

    parts = site_parts(data_dir, SITE)
    assert len(parts) == 1
    assert rows(data_dir) == before
    assert len(before) == 505  # 499 posts, 6 of them edited between the two crawls
    table = pq.read_table(parts[0], columns=["thread_id", "position"])
    keys = list(zip(table["thread_id"].to_pylist(), table["position"].to_pylist()))
    assert keys == sorted(keys)  # sorted by thread, then position: the exports read threads in order
    assert not (data_dir / STAGING_DIR_NAME).exists()
    out = capsys.readouterr().out
    assert "compact miataturbo: 2 parts" in out and "505 rows -> 505 (every version), verified" in out
    assert "compact reddit: already one part, nothing to do" in out


def test_compact_latest_keeps_only_the_latest_version_of_each_post(data_dir, capsys):
    versions = {}
    for row in rows(data_dir):
        versions[row[0]] = versions.get(row[0], 0) + 1
    edited_ids = {post_id for post_id, n in versions.items() if n == 2}
    latest_before = rows(data_dir, latest=True)
    assert main(["data", "compact", "--data-dir", str(data_dir), "--site", SITE, "--latest"]) == 0
    after = rows(data_dir)
    assert after == latest_before
    assert len(after) == 499
    # The posts edited between the crawls keep only their second-crawl text.
    assert len(edited_ids) == 6
    assert {r[0] for r in after if "UPDATE 1: still holding boost." in (r[6] or "")} == edited_ids
    assert "505 rows -> 499 (latest versions only)" in capsys.readouterr().out


def test_target_size_rolls_files(data_dir, monkeypatch):
    before = rows(data_dir)
    monkeypatch.setattr(compact, "ROWS_PER_BATCH", 100)
    result = compact.compact_site(data_dir, SITE, target_size=10_000)
    parts = site_parts(data_dir, SITE)
    assert result.new_parts == len(parts) == 6  # 505 rows in row groups of 100: a new file after each
    assert [pq.ParquetFile(p).metadata.num_rows for p in parts] == [100, 100, 100, 100, 100, 5]
    assert rows(data_dir) == before


@pytest.mark.parametrize("text, size", [("256MB", 256 * 2**20), ("1g", 2**30), ("500k", 500 * 1024), ("4096", 4096)])
def test_parse_size(text, size):
    assert parse_size(text) == size


def run_compact_crashing_at(point: str, data_dir: Path, *extra: str, patch: str = "") -> subprocess.CompletedProcess:
    code = (f"import sys\nfrom miata_spiders.cli import main\n{patch}\n"
            f"sys.exit(main(['data', 'compact', '--data-dir', {str(data_dir)!r}, '--site', {SITE!r}, *{list(extra)!r}]))")
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={**os.environ, CRASH_POINT_ENV: point})


@pytest.mark.parametrize("point, visible", [("written", "old"), ("verified", "old"), ("swapped", "new")])
@pytest.mark.parametrize("latest", [False, True])
def test_a_crash_during_compaction_leaves_the_old_or_the_new_set(data_dir, point, visible, latest):
    old, new = rows(data_dir), rows(data_dir, latest=latest)
    old_parts = sorted(p.name for p in site_parts(data_dir, SITE))
    flags = ["--latest"] if latest else []

    crashed = run_compact_crashing_at(point, data_dir, *flags)
    assert crashed.returncode == -9, crashed.stderr  # killed, as a power cut would
    assert rows(data_dir) == (old if visible == "old" else new)
    names = sorted(p.name for p in site_parts(data_dir, SITE))
    assert (names == old_parts) == (visible == "old")
    assert list((data_dir / STAGING_DIR_NAME).iterdir())  # the interrupted run's staging, not yet removed

    # The next run cleans up (and compacts, when the crash came before the swap).
    assert main(["data", "compact", "--data-dir", str(data_dir), "--site", SITE, *flags]) == 0
    assert rows(data_dir) == new
    assert len(site_parts(data_dir, SITE)) == 1
    assert not (data_dir / STAGING_DIR_NAME).exists()


RAISE_EXCHANGE = """
import errno
from miata_spiders.data import compact
def no_exchange(a, b):
    raise OSError(errno.EINVAL, "no RENAME_EXCHANGE on this filesystem")
compact.exchange = no_exchange
"""


def test_without_an_atomic_exchange_the_two_renames_are_finished_by_the_next_run(data_dir):
    old = rows(data_dir)
    crashed = run_compact_crashing_at("old-moved-aside", data_dir, patch=RAISE_EXCHANGE)
    assert crashed.returncode == -9, crashed.stderr
    # The documented gap of the fallback: between its two renames the site directory is missing...
    assert not (data_dir / "posts" / f"site={SITE}").exists()
    # ...and the next compact puts the verified new set in place before anything else.
    assert main(["data", "compact", "--data-dir", str(data_dir), "--site", SITE]) == 0
    assert rows(data_dir) == old
    assert len(site_parts(data_dir, SITE)) == 1
    assert not (data_dir / STAGING_DIR_NAME).exists()


def test_without_an_atomic_exchange_compaction_still_completes(data_dir, monkeypatch):
    old = rows(data_dir)

    def no_exchange(a, b):
        raise OSError(errno.ENOSYS, "renameat2 is Linux only")

    monkeypatch.setattr(compact, "exchange", no_exchange)
    compact.compact_site(data_dir, SITE)
    assert rows(data_dir) == old and len(site_parts(data_dir, SITE)) == 1


def test_a_failed_verification_keeps_the_old_set(data_dir, monkeypatch, capsys):
    old_names = sorted(p.name for p in site_parts(data_dir, SITE))
    old = rows(data_dir)
    write = compact._write_new_parts

    def lose_a_row(*args, **kwargs):
        parts, before, after = write(*args, **kwargs)
        table = pq.read_table(parts[0])
        pq.write_table(table.slice(1), parts[0])
        return parts, before, after

    monkeypatch.setattr(compact, "_write_new_parts", lose_a_row)
    assert main(["data", "compact", "--data-dir", str(data_dir), "--site", SITE]) == 2
    err = capsys.readouterr().err
    assert "the new parts hold 504 rows, expected 505; the old set is kept" in err
    assert sorted(p.name for p in site_parts(data_dir, SITE)) == old_names
    assert rows(data_dir) == old
    assert not (data_dir / STAGING_DIR_NAME).exists()


def test_compact_waits_for_no_one_while_a_crawl_holds_the_site(data_dir, capsys):
    with SiteLock(data_dir, SITE):
        assert main(["data", "compact", "--data-dir", str(data_dir), "--site", SITE]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("miata data compact: site 'miataturbo' is being written by another process")
    assert len(site_parts(data_dir, SITE)) == 2


def test_compact_errors(data_dir, tmp_path, capsys):
    assert main(["data", "compact", "--data-dir", str(tmp_path / "nowhere")]) == 2
    assert main(["data", "compact", "--data-dir", str(data_dir), "--site", "nosuchsite"]) == 2
    damaged = data_dir / "posts" / f"site={SITE}" / "part-20000101T000000000000Z-bad.parquet"
    damaged.write_bytes(b"PAR1 truncated")
    assert main(["data", "compact", "--data-dir", str(data_dir), "--site", SITE]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 3
    assert lines[0].startswith(f"miata data compact: no dataset at {tmp_path / 'nowhere'}")
    assert lines[1] == (f"miata data compact: unknown site 'nosuchsite' in {data_dir}; sites there: miataturbo, reddit")
    assert lines[2].startswith(f"miata data compact: damaged part {damaged}:")
