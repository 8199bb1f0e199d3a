"""`miata query` runs SQL over every site's parts as one `posts` view."""

from datetime import datetime, timezone

from miata_spiders.cli import main
from miata_spiders.items import PostItem
from pipelines.parquet import ParquetBatchWriter, item_to_row


def write(data_dir, site, post_id, author):
    writer = ParquetBatchWriter(data_dir, site, batch_size=10)
    writer.add(item_to_row(PostItem(source="forum", site=site, post_id=post_id, thread_id="97412", author=author,
                                    body_text="Boost leak found.",
                                    scraped_at=datetime(2026, 11, 25, tzinfo=timezone.utc)), site))
    writer.close()


def test_query_spans_sites(tmp_path, capsys):
    write(tmp_path, "miataturbo", "1638215", "NA8C_Dan")
    write(tmp_path, "mx5nutz", "5521", "roadster_rob")
    assert main(["query", "--data-dir", str(tmp_path), "SELECT site, author FROM posts ORDER BY site"]) == 0
    out = capsys.readouterr().out
    assert out.index("miataturbo") < out.index("mx5nutz") and "NA8C_Dan" in out and "roadster_rob" in out


def test_query_names_a_missing_dataset_and_bad_sql(tmp_path, capsys):
    assert main(["query", "--data-dir", str(tmp_path), "SELECT 1"]) == 2
    assert str(tmp_path / "posts") in capsys.readouterr().err
    write(tmp_path, "miataturbo", "1638215", "NA8C_Dan")
    assert main(["query", "--data-dir", str(tmp_path), "SELECT nope FROM posts"]) == 1
    assert "nope" in capsys.readouterr().err
