"""A submission's whole comment tree through PRAW: ``replace_more(limit=None)`` with 429s waited out
and 413s answered by asking for fewer comments at a time.

Everything runs one request at a time: Reddit answers concurrent ``replace_more`` calls with 429.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from praw.models import MoreComments
from prawcore.exceptions import TooLarge

from pipelines.reddit.backoff import Backoff

logger = logging.getLogger(__name__)


@dataclass
class CommentTree:
    """Every comment fetched, parents before replies, with its depth (0: a reply to the submission)."""

    comments: list[tuple[object, int]] = field(default_factory=list)
    complete: bool = True  # False when some "load more comments" could not be fetched


def _containers(submission):
    """Every list holding comments or MoreComments: the top level, then each comment's replies.

    These are PRAW's own ``CommentForest._comments`` lists; there is no public way to change which
    comments a MoreComments asks for, and replace_more reads these lists afresh on every call.
    """
    stack = [submission.comments._comments]
    while stack:
        things = stack.pop()
        yield things
        stack.extend(thing.replies._comments for thing in things if not isinstance(thing, MoreComments))


def _more(submission, template: MoreComments, children: list[str]) -> MoreComments:
    piece = MoreComments(
        submission._reddit,
        {
            "count": len(children),
            "children": children,
            "parent_id": template.parent_id,
            "id": children[0],
            "name": f"t1_{children[0]}",
            "depth": vars(template).get("depth"),
        },
    )
    piece.submission = submission
    return piece


class _Batches:
    """MoreComments cut down to at most ``size`` comments each, the rest kept back in order.

    A MoreComments names its hidden comments parents first, and a reply can only join the tree once
    its parent is in it. So each cut-down MoreComments keeps the first ``size`` comments and the rest
    wait here until it is fetched: the next batch is only put in the tree by :meth:`release`.
    """

    def __init__(self, submission):
        self.submission = submission
        self.size: int | None = None
        self._waiting: dict[tuple[int, str], tuple[list, MoreComments, list[str]]] = {}

    def __bool__(self) -> bool:
        return bool(self._waiting)

    def shrink(self) -> bool:
        """Halve the batch size and cut every larger MoreComments; False when already at one."""
        largest = max((len(t.children) for c in _containers(self.submission) for t in c if isinstance(t, MoreComments)), default=0)
        if largest <= 1:
            return False
        self.size = max(1, min(largest, self.size or largest) // 2)
        for container in _containers(self.submission):
            for index, thing in enumerate(container):
                if isinstance(thing, MoreComments) and len(thing.children) > self.size:
                    key = (id(container), thing.parent_id)
                    _, _, later = self._waiting.get(key, (container, thing, []))
                    # What this one does not fetch now comes before anything already waiting.
                    self._waiting[key] = (container, thing, thing.children[self.size :] + later)
                    container[index] = _more(self.submission, thing, thing.children[: self.size])
        return True

    def release(self) -> None:
        """Put the next batch of every waiting MoreComments into the tree."""
        for key, (container, template, children) in list(self._waiting.items()):
            container.append(_more(self.submission, template, children[: self.size]))
            if children[self.size :]:
                self._waiting[key] = (container, template, children[self.size :])
            else:
                del self._waiting[key]

    def drop(self) -> None:
        self._waiting.clear()


def fetch_comment_tree(submission, backoff: Backoff) -> CommentTree:
    """Load ``submission``'s comments and resolve every "load more comments" and "continue this thread"."""
    what = f"fetching the comments of t3_{submission.id}"
    backoff.call(what, lambda: submission.comments)
    batches = _Batches(submission)
    complete = True
    while True:
        try:
            backoff.call(what, lambda: submission.comments.replace_more(limit=None))
        except TooLarge:
            # Reddit refuses a /api/morechildren request naming too many comments: ask for fewer.
            if not batches.shrink():
                logger.error("reddit: t3_%s: 413 Too Large even for a single comment; its tree stays incomplete", submission.id)
                submission.comments.replace_more(limit=0)  # drop what cannot be fetched, keep the rest
                batches.drop()
                complete = False
                break
            logger.info("reddit: t3_%s: 413 Too Large; now asking for at most %d hidden comments per request", submission.id, batches.size)
            continue
        if not batches:
            break
        batches.release()
    tree = CommentTree(complete=complete)
    stack = [(comment, 0) for comment in reversed(list(submission.comments))]
    while stack:
        comment, depth = stack.pop()
        tree.comments.append((comment, depth))
        stack.extend((reply, depth + 1) for reply in reversed(list(comment.replies)))
    return tree
