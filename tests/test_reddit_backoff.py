"""429 waits and the comment-count state of incremental runs (no server needed)."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from prawcore.exceptions import TooManyRequests

from pipelines.reddit.backoff import Backoff
from pipelines.reddit.state import STATE_FILE, CommentCounts


def too_many_requests(headers: dict) -> TooManyRequests:
    return TooManyRequests(SimpleNamespace(status_code=429, headers=headers, text='{"error": 429}'))


def failing(times: int, headers: dict):
    calls = []

    def call():
        calls.append(1)
        if len(calls) <= times:
            raise too_many_requests(headers)
        return "ok"

    return call, calls


def test_waits_what_reddit_says_then_retries():
    waits: list[float] = []
    call, calls = failing(2, {"retry-after": "12"})
    assert Backoff(sleep=waits.append).call("listing r/Miata new", call) == "ok"
    assert waits == [12.0, 12.0] and len(calls) == 3


def test_without_retry_after_it_waits_for_the_rate_limit_window_then_doubles():
    waits: list[float] = []
    assert Backoff(sleep=waits.append).call("x", failing(1, {"x-ratelimit-reset": "42"})[0]) == "ok"
    assert waits == [42.0]
    waits.clear()
    assert Backoff(base=3.0, sleep=waits.append).call("x", failing(3, {})[0]) == "ok"
    assert waits == [3.0, 6.0, 12.0]


def test_no_wait_is_longer_than_the_cap_and_it_gives_up_after_the_retries(caplog):
    waits: list[float] = []
    backoff = Backoff(retries=2, cap=60.0, sleep=waits.append)
    with pytest.raises(TooManyRequests):
        backoff.call("fetching the comments of t3_abc", failing(5, {"retry-after": "3600"})[0])
    assert waits == [60.0, 60.0] and backoff.waits == 2
    assert "429 Too Many Requests while fetching the comments of t3_abc; waiting 60 s before retry 1 of 2" in caplog.text
    assert "giving up" in caplog.text


def test_comment_counts_are_saved_only_when_committed(tmp_path):
    counts = CommentCounts.load(tmp_path)
    counts.record("t3_abc", 12)
    assert counts.get("t3_abc") is None and not (tmp_path / STATE_FILE).exists()
    counts.commit()
    assert CommentCounts.load(tmp_path).get("t3_abc") == 12
    assert json.loads((tmp_path / STATE_FILE).read_text()) == {"num_comments": {"t3_abc": 12}}
    assert [p.name for p in (tmp_path / STATE_FILE).parent.iterdir()] == [STATE_FILE.name]  # no temporary left
