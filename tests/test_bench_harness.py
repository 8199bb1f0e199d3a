"""The parse benchmarks keep measuring the real thing: the spider's per-page path finds a fixture page's
posts, and the nesting benchmark's pages really carry the nesting they claim (no timing here)."""

import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"
sys.path.insert(0, str(BENCH))

import bench_nesting  # noqa: E402
import bench_real_pages  # noqa: E402


def test_spider_path_reads_every_post_and_the_next_page_of_a_fixture_page():
    page = next(p for p in bench_real_pages.fixture_pages() if p["id"].endswith("thread-97412-page1.html"))
    page["body"] = page["path"].read_bytes()
    posts, next_page = bench_real_pages.spider_path()(page)
    assert posts == page["expected_posts"]
    assert next_page and "page2" in next_page


def test_flat_control_page_has_the_same_bytes_as_the_nested_one():
    nested = bench_nesting.build_page("xenforo", "quotes", 50, nested=True)
    flat = bench_nesting.build_page("xenforo", "quotes", 50, nested=False)
    assert len(nested["body"]) == len(flat["body"])
    assert nested["body"] != flat["body"]
    assert bench_nesting.MARKER.encode() not in nested["body"]


@pytest.mark.parametrize("kind, opening, closing", [("divs", b"<div>", b"</div>"),
                                                   ("quotes", b"<blockquote cite=", b"</blockquote>")])
def test_nesting_is_injected_into_one_post_with_the_engine_markup(kind, opening, closing):
    body = bench_nesting.build_page("phpbb", kind, 40, nested=True)["body"]
    plain = bench_nesting.build_page("phpbb", kind, 0, nested=True)["body"]
    assert body.count(opening) - plain.count(opening) == 40
    assert body.count(closing) - plain.count(closing) == 40
    # Nested: the deepest text sits inside the last block opened; flat: after the last block closed.
    flat = bench_nesting.build_page("phpbb", kind, 40, nested=False)["body"]
    assert not body.partition(b"deepest words")[0].endswith(closing)
    assert flat.partition(b"deepest words")[0].endswith(closing)


def test_nested_page_parses_whole_at_a_shallow_depth():
    result = bench_nesting.run_case("vbulletin4", "divs", 20, nested=True)
    plain = bench_nesting.run_case("vbulletin4", "divs", 0, nested=True)
    assert result["posts"] == plain["posts"] > 1
    assert result["next_page"] is True


def test_regenerating_the_benchmarks_document_keeps_its_hand_run_sections(tmp_path):
    import run_all

    doc = tmp_path / "benchmarks.md"
    doc.write_text(f"# Benchmarks\n\nold generated table\n\n{run_all.HAND_RUN_MARKER}\n\n## Several workers\n\n| 2 | 7.92 |\n")
    assert run_all.hand_run_sections(doc) == f"\n{run_all.HAND_RUN_MARKER}\n\n## Several workers\n\n| 2 | 7.92 |\n"
    assert run_all.hand_run_sections(tmp_path / "missing.md") == ""


def test_the_why_section_states_each_targets_budget_from_the_profile():
    import recommendations

    row = {"page": "phpbb3/x.html", "engine": "phpbb3", "kb": 94.7, "posts": 25, "lxml_bare_ms": 2.0, "tree_ms": 2.0,
           "page_facts_ms": 1.0, "posts_ms": 5.0, "per_post_us": 200, "items_ms": 0.5, "forumscraper_ms": 12.0,
           "lexbor_ms": 1.6}
    real = {"pages": [{"id": "phpbb3/x.html", "ms": {"bs4_html_parser": 60.0}}]}
    text = "\n".join(recommendations.recommendations(None, None, None, {"real_pages": [row]}, real))
    # total 8.5 ms against 3x lxml = 6.00, bs4 / 12 = 5.00, forumscraper / 5 = 2.40 (the tree alone: 83%)
    assert "| phpbb3 | 94.7 | 25 | 2.00 | 2.00 | 1.00 | 5.00 (200 us) | 0.50 | 8.50 | 6.00 | 5.00 | 2.40 |" in text
    assert "phpbb3 83% of the budget (leaving 0.40 ms, 16 us a post)" in text
    assert "1.2x to 1.2x as fast as lxml's" in text
