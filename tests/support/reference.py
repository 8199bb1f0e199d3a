"""The real forum pages saved beside the repository (``../shared/reference-html``, read-only).

A user's fresh clone does not have them; CI does. Tests that read them use ``needs_reference`` (or
``reference_pages()``, empty without the folder), so they skip with the reason instead of failing,
and nothing reads the folder at import time.
"""

from __future__ import annotations

from pathlib import Path

import pytest

REFERENCE = Path(__file__).resolve().parents[2].parent / "shared" / "reference-html"
ABSENT = f"{REFERENCE} is absent: the real reference pages sit beside the repository (in CI), not in a clone"

needs_reference = pytest.mark.skipif(not REFERENCE.is_dir(), reason=ABSENT)


def reference_pages(pattern: str = "*/*.html") -> list[Path]:
    """The saved pages matching ``pattern``; empty when the folder is absent."""
    return sorted(REFERENCE.glob(pattern)) if REFERENCE.is_dir() else []
