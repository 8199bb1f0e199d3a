"""Scrubbing e-mail addresses and phone numbers from exported text (on by default; ``--keep-pii`` keeps them).

Only exports are scrubbed: the raw dataset is never rewritten. The patterns aim at what forum posts
carry ("PM me or email joe123@example.com", "call me at (555) 555-1234", "+44 7911 123456") and avoid
what Miata posts are full of: years and ranges (1990-1997), part numbers (BP4W-13-250), pressures,
prices and mileages. A phone number needs at least ten digits, grouped as phone numbers are.
"""

from __future__ import annotations

import re

EMAIL = re.compile(r"(?<![\w.+-])[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")
PHONE = re.compile(
    r"(?<![\w+])(?:"
    # North American: (555) 555-1234, 555-555-1234, 555.555.1234, +1 555 555 1234
    r"(?:\+?1[\s.-]?)?\(?[2-9]\d{2}\)?[\s.-]?\d{3}[\s.-]\d{4}"
    # International with a country code: +44 7911 123456, +49 30 1234 5678
    r"|\+\d{1,3}(?:[\s.-]?\(?\d{1,4}\)?){2,5}"
    r")(?![\w-])")
EMAIL_MASK = "[email]"
PHONE_MASK = "[phone]"


def scrub(text: str) -> str:
    """``text`` with e-mail addresses and phone numbers replaced by ``[email]`` and ``[phone]``."""
    if "@" in text:
        text = EMAIL.sub(EMAIL_MASK, text)
    return PHONE.sub(_phone, text)


def _phone(match: re.Match) -> str:
    digits = sum(c.isdigit() for c in match.group())
    return PHONE_MASK if digits >= 10 else match.group()
