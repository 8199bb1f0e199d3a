"""What the last runs fetched: each submission's comment count when its whole tree was collected.

A re-run fetches a comment tree again only when the listing shows a different ``num_comments``. The
count cannot live in the post rows: a submission row whose text did not change is a duplicate and is
never written again, so its stored ``num_comments`` would stay the first one seen.

Counts are only recorded once the rows they stand for are on disk (:meth:`CommentCounts.commit`
after the Parquet writer flushed): a crash never records a tree whose comments were lost.

File: ``DATA_DIR/state/reddit-comment-counts.json``, outside ``posts/`` so no dataset glob reads it.
Deleting it costs one full re-fetch, never data: the dedupe drops what is already stored.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

STATE_FILE = Path("state") / "reddit-comment-counts.json"


class CommentCounts:
    def __init__(self, path: Path, counts: dict[str, int]):
        self.path = path
        self._counts = counts
        self._pending: dict[str, int] = {}

    @classmethod
    def load(cls, data_dir: str | os.PathLike) -> CommentCounts:
        path = Path(data_dir) / STATE_FILE
        try:
            counts = json.loads(path.read_text())["num_comments"]
        except FileNotFoundError:
            counts = {}
        return cls(path, counts)

    def get(self, submission_fullname: str) -> int | None:
        return self._counts.get(submission_fullname)

    def __len__(self) -> int:
        return len(self._counts)

    def record(self, submission_fullname: str, num_comments: int) -> None:
        """Remember a count, to be saved by the next :meth:`commit`."""
        self._pending[submission_fullname] = num_comments

    def commit(self) -> None:
        """Save the recorded counts (atomically: a reader sees the old file or the new one)."""
        if not self._pending:
            return
        self._counts.update(self._pending)
        self._pending = {}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".tmp")
        try:
            with os.fdopen(handle, "w") as file:
                json.dump({"num_comments": self._counts}, file, sort_keys=True, indent=0)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
