"""The schema, the item and the dataset card describe the same fields."""

import dataclasses
import importlib.util
import re
import types
import typing
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from miata_spiders.items import PostItem, Quote
from pipelines.parquet import ParquetBatchWriter, item_to_row
from pipelines.schema import POST_SCHEMA, QUOTE, content_hash

DATASET_CARD = Path(__file__).resolve().parent.parent / "docs" / "schema.md"


def test_post_item_fields_are_the_schema_fields_in_order():
    assert [f.name for f in dataclasses.fields(PostItem)] == POST_SCHEMA.names


# The Arrow type each Python type of an item field is stored as.
ARROW_TYPE_OF = {
    str: pa.string(),
    int: pa.int32(),
    bool: pa.bool_(),
    datetime: pa.timestamp("us", tz="UTC"),
    list[str]: pa.list_(pa.string()),
    list[dict]: pa.list_(QUOTE),
}


def stored_as(annotation) -> tuple[pa.DataType, bool]:
    """(Arrow type, nullable) an item field annotated ``annotation`` needs."""
    members = typing.get_args(annotation) if isinstance(annotation, types.UnionType) else (annotation,)
    python_type = next(member for member in members if member is not type(None))
    return ARROW_TYPE_OF[python_type], type(None) in members


def test_each_post_item_field_has_its_columns_type_and_is_optional_exactly_where_the_column_is_nullable():
    hints = typing.get_type_hints(PostItem)
    expected = {column.name: (column.type, column.nullable) for column in POST_SCHEMA}
    assert {name: stored_as(hints[name]) for name in POST_SCHEMA.names} == expected


def test_a_required_column_is_never_left_empty_by_a_minimal_item():
    item = PostItem(source="forum", site="miataturbo", post_id="1234567", thread_id="98765")
    empty = [column.name for column in POST_SCHEMA if not column.nullable and getattr(item, column.name) in (None, "")]
    assert empty == []


def test_the_item_hashes_its_own_content_when_it_is_made():
    quotes = [{"author": "Savington", "post_id": "1234560", "text": "Creeps to 14 psi by redline."}]
    item = PostItem(source="forum", site="miataturbo", post_id="1234567", thread_id="98765",
                    body_text="Port the wastegate.", quotes=quotes, images=["https://x.test/a.png"])
    assert item.content_hash == content_hash("Port the wastegate.", quotes, ["https://x.test/a.png"])


def test_quote_fields_are_the_quote_struct_fields_in_order():
    assert [f.name for f in dataclasses.fields(Quote)] == [QUOTE.field(i).name for i in range(QUOTE.num_fields)]


def test_a_filled_post_item_converts_to_the_schema():
    item = PostItem(
        source="forum",
        site="miataturbo",
        post_id="1234567",
        thread_id="98765",
        thread_title="BEGi stage 2 on a 99: boost creep above 6k",
        thread_url="https://www.miataturbo.net/showthread.php?t=98765",
        forum_id="12",
        forum_path=["Miata Turbo Forum", "Boost Control"],
        position=3,
        page=1,
        author="Braineack",
        author_id="1123",
        posted_at=datetime(2014, 3, 2, 18, 41, tzinfo=timezone.utc),
        edited_at=datetime(2014, 3, 2, 19, 5, tzinfo=timezone.utc),
        edited_by="Braineack",
        body_text="Port the wastegate, it is too small for that turbine.",
        body_html="<div>Port the wastegate, it is too small for that turbine.</div>",
        quotes=[{"author": "Savington", "post_id": "1234560", "text": "Creeps to 14 psi by redline."}],
        images=["https://www.miataturbo.net/attachments/boost-log.png"],
        links=["https://www.diymiata.com/"],
        signature="99 BEGi / MS3",
        url="https://www.miataturbo.net/showpost.php?p=1234567",
        scraped_at=datetime(2026, 1, 10, 12, 0, tzinfo=timezone.utc),
    )
    table = pa.Table.from_pylist([dataclasses.asdict(item)], schema=POST_SCHEMA)
    assert table.to_pylist()[0]["quotes"][0]["author"] == "Savington"
    assert table.column("posted_at").type == pa.timestamp("us", tz="UTC")


def test_content_hash_ignores_layout_but_not_edits():
    original = content_hash("Port the  wastegate.\n", [{"text": "Creeps to 14 psi"}])
    assert content_hash(" Port the wastegate. ", [{"text": "Creeps to  14 psi"}]) == original
    assert content_hash("Port the wastegate, then retune.", [{"text": "Creeps to 14 psi"}]) != original
    assert content_hash("Port the wastegate.", [{"text": "Creeps to 14 psi"}], is_deleted=True) != original


def test_dataset_card_documents_every_field():
    documented = set(re.findall(r"^\| `(\w+)` \|", DATASET_CARD.read_text(), flags=re.MULTILINE))
    assert set(POST_SCHEMA.names) <= documented


def card_code_blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DATASET_CARD.read_text(), flags=re.DOTALL)


@pytest.fixture
def small_dataset(tmp_path, monkeypatch):
    """data/ with an original and an edited version of one post, and a Reddit comment."""
    monkeypatch.chdir(tmp_path)
    first = datetime(2026, 1, 10, 12, 0, tzinfo=timezone.utc)
    later = datetime(2026, 2, 1, 12, 0, tzinfo=timezone.utc)
    rows = [
        ("miataturbo", "1234567", "Boost creeps past 12 psi.", first),
        ("miataturbo", "1234567", "Boost creeps past 12 psi. EDIT: ported the wastegate, fixed.", later),
        ("reddit", "kx9q2ab", "Flyin' Miata kit, no regrets.", first),
    ]
    for site, post_id, body, scraped_at in rows:
        writer = ParquetBatchWriter("data", site, batch_size=10)
        item = PostItem(source="forum", site=site, post_id=post_id, thread_id="98765", body_text=body,
                        scraped_at=scraped_at)
        writer.add(item_to_row(item, site))
        writer.close()
    return later


def test_dataset_card_sql_runs(small_dataset):
    queries = card_code_blocks("sql")
    assert len(queries) == 2
    selected, latest = ([dict(zip(rel.columns, row)) for row in rel.fetchall()] for rel in map(duckdb.sql, queries))
    assert [row["post_id"] for row in selected] == ["1234567", "1234567"]
    assert len(latest) == 2
    assert {row["scraped_at"] for row in latest if row["post_id"] == "1234567"} == {small_dataset}
    assert {row["site"] for row in latest} == {"miataturbo", "reddit"}


def test_dataset_card_python_runs(small_dataset):
    blocks = card_code_blocks("python")
    assert len(blocks) == 4
    for block in blocks:
        if "import pandas" in block and importlib.util.find_spec("pandas") is None:
            continue  # pandas is not a dependency of the project
        namespace: dict = {}
        exec(compile(block, str(DATASET_CARD), "exec"), namespace)
        if "latest" in namespace:
            assert len(namespace["latest"]) == 2
