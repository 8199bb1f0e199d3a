"""CrawlState: per-thread lookups in SQLite (nothing loaded whole at start), resume points never move back."""

import pytest

from miata_spiders.errors import StorageError
from pipelines.crawl_state import CrawlState, ThreadProgress


def progress(thread_id: str, page: int, has_next_page: bool = True, reply_count=None) -> ThreadProgress:
    return ThreadProgress(site="miataturbo", thread_id=thread_id, forum_id="12", thread_url=f"https://t/{thread_id}",
                          page=page, page_url=f"https://t/{thread_id}/page{page}", last_position=page * 15,
                          has_next_page=has_next_page, reply_count=reply_count, last_post_at=None)


def test_threads_are_read_from_the_database_one_at_a_time(tmp_path):
    writer = CrawlState.for_site(tmp_path, "miataturbo")
    reader = CrawlState.for_site(tmp_path, "miataturbo")  # opened before anything was written
    writer.commit([progress("7", 1), progress("8", 3, has_next_page=False, reply_count=44)], "2026-11-25T12:00:00+00:00")
    # Nothing cached at open: what is committed is what the next lookup sees.
    assert reader.thread("7").last_page == 1 and not reader.thread("7").complete
    assert reader.thread("8").complete and reader.thread("8").reply_count == 44
    assert reader.thread("9") is None
    assert len(reader) == 2
    writer.close()
    reader.close()


def test_a_resume_point_never_moves_back_even_within_one_commit(tmp_path):
    state = CrawlState.for_site(tmp_path, "miataturbo")
    state.commit([progress("7", 3), progress("7", 2)], "2026-11-25T12:00:00+00:00")
    assert state.thread("7").last_page == 3
    state.commit([progress("7", 1)], "2026-11-25T12:01:00+00:00")
    assert state.thread("7").last_page == 3 and state.thread("7").last_position == 45
    state.close()


def test_a_state_file_that_cannot_be_written_is_a_storage_error_naming_it(tmp_path):
    state = CrawlState.for_site(tmp_path, "miataturbo")
    state.db.execute("PRAGMA query_only = ON")  # every write now fails, as on a full or read-only disk
    with pytest.raises(StorageError, match=f"cannot write the crawl state file {state.path}"):
        state.commit([progress("7", 1)], "2026-11-25T12:00:00+00:00")
    state.close()
