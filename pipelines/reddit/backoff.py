"""Wait out Reddit's 429s, saying how long and why.

prawcore's own rate limiter paces every request from Reddit's ``x-ratelimit-*`` headers and retries
5xx answers itself, but it raises ``TooManyRequests`` on a 429 at once. A 429 means we are over
the limit for a while (or ran two requests at once), so the call is repeated after Reddit's
``Retry-After``, else its ``x-ratelimit-reset``, else an exponential backoff.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from prawcore.exceptions import TooManyRequests

logger = logging.getLogger(__name__)

T = TypeVar("T")


def _seconds(value) -> float | None:
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return None
    return seconds if seconds >= 0 else None


@dataclass
class Backoff:
    retries: int = 5
    base: float = 2.0  # first wait without a hint from Reddit; doubles with every retry
    cap: float = 600.0  # no single wait is longer than this
    sleep: Callable[[float], None] | None = None  # None: time.sleep
    waits: int = 0  # 429s waited out so far, for the run's summary

    def wait_for(self, error: TooManyRequests, attempt: int) -> float:
        hint = _seconds(error.retry_after)
        if hint is None:
            hint = _seconds(error.response.headers.get("x-ratelimit-reset"))
        if hint is None:
            hint = self.base * 2 ** (attempt - 1)
        return min(self.cap, hint)

    def call(self, what: str, function: Callable[[], T]) -> T:
        """``function()``, repeated after each 429 up to ``retries`` times."""
        attempt = 0
        while True:
            try:
                return function()
            except TooManyRequests as error:
                attempt += 1
                if attempt > self.retries:
                    logger.error("reddit: still 429 Too Many Requests after %d retries while %s; giving up on it", self.retries, what)
                    raise
                wait = self.wait_for(error, attempt)
                self.waits += 1
                logger.warning(
                    "reddit: 429 Too Many Requests while %s; waiting %.0f s before retry %d of %d",
                    what,
                    wait,
                    attempt,
                    self.retries,
                )
                (self.sleep or time.sleep)(wait)
