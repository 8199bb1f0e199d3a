"""Turn the dates forums print into UTC datetimes.

Forums print local, often relative dates ("Today, 09:14 AM", "Yesterday 12:47 PM", "5 minutes ago",
"09-04-2015, 02:54 PM", "12th Jun 2025, 08:57"). A ``DateResolver`` knows the crawl time and the
timezone the page was rendered in, so every form resolves to one UTC instant. Anything it cannot
read resolves to ``None`` (and the caller counts it): a wrong date is worse than no date.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

_ORDINAL = re.compile(r"\b(\d{1,2})(st|nd|rd|th)\b", re.I)
_RELATIVE = re.compile(
    r"^(?P<n>\d+|an?|one)\s+(?P<unit>second|sec|minute|min|hour|hr|day|week|month|year)s?\s+ago$", re.I
)
_DAY_WORD = re.compile(r"^(?P<word>today|yesterday)\b[,\s]*(?:at\s+)?(?P<rest>.*)$", re.I)
_GMT_OFFSET = re.compile(r"All times are (?:GMT|UTC)\s*(?P<sign>[+-])?\s*(?P<hours>\d{1,2})?(?:[.:](?P<frac>\d+))?", re.I)

_TIMES = ["%I:%M %p", "%I:%M%p", "%H:%M", "%I:%M:%S %p", "%H:%M:%S"]
_DATES_BY_ORDER = {
    "MDY": ["%m-%d-%Y", "%m-%d-%y", "%m/%d/%Y", "%m/%d/%y"],
    "DMY": ["%d-%m-%Y", "%d-%m-%y", "%d/%m/%Y", "%d/%m/%y", "%d.%m.%Y", "%d.%m.%y"],
}
# Formats with a spelled-out month or a four-digit year first are unambiguous in any order.
_DATES_ANY_ORDER = ["%Y-%m-%d", "%d %b %Y", "%d %B %Y", "%b %d %Y", "%B %d %Y", "%a %b %d %Y", "%A %B %d %Y"]


def offset_from_footer(text: str) -> tzinfo | None:
    """The fixed offset a vBulletin page was rendered in, from "All times are GMT -5."

    vBulletin renders every date on a page with the viewer's current offset (DST included), not the
    offset in force on that date, so this footer is the exact key to the page's dates.
    """
    match = _GMT_OFFSET.search(text or "")
    if not match:
        return None
    hours = int(match.group("hours") or 0)
    minutes = int(round(float("0." + match.group("frac")) * 60)) if match.group("frac") else 0
    delta = timedelta(hours=hours, minutes=minutes)
    if match.group("sign") == "-":
        delta = -delta
    return timezone(delta)


@dataclass
class DateResolver:
    """Resolves forum-printed dates against a crawl time ``now`` in the page's timezone."""

    tz: tzinfo = field(default_factory=lambda: ZoneInfo("UTC"))
    now: datetime | None = None
    date_order: str = "MDY"

    def __post_init__(self):
        if isinstance(self.tz, str):
            self.tz = ZoneInfo(self.tz)
        if self.now is None:
            self.now = datetime.now(timezone.utc)
        elif self.now.tzinfo is None:
            self.now = self.now.replace(tzinfo=self.tz)

    def with_tz(self, tz: tzinfo | None) -> "DateResolver":
        return self if tz is None else DateResolver(tz=tz, now=self.now, date_order=self.date_order)

    @property
    def local_today(self) -> date:
        return self.now.astimezone(self.tz).date()

    def parse(self, text: str | None) -> datetime | None:
        """UTC datetime for a printed date, or None when it cannot be read with certainty."""
        if not text:
            return None
        cleaned = _clean(text)
        if not cleaned:
            return None
        relative = _RELATIVE.match(cleaned)
        if relative:
            return self._relative(relative.group("n"), relative.group("unit"))
        day_word = _DAY_WORD.match(cleaned)
        if day_word:
            day = self.local_today - timedelta(days=1 if day_word.group("word").lower() == "yesterday" else 0)
            clock = _parse_clock(day_word.group("rest"))
            if clock is None:
                return None
            return self._localise(datetime.combine(day, clock))
        for fmt_date in _DATES_BY_ORDER.get(self.date_order, []) + _DATES_ANY_ORDER:
            parsed = _try_formats(cleaned, fmt_date)
            if parsed is not None:
                return self._localise(parsed)
        return self._dateparser_fallback(cleaned)

    def _dateparser_fallback(self, text: str) -> datetime | None:
        # Strict: a full day, month and year, in the site's order, or nothing. Never a guess.
        import dateparser

        parsed = dateparser.parse(
            text,
            languages=["en"],
            settings={
                "DATE_ORDER": self.date_order,
                "STRICT_PARSING": True,
                "RELATIVE_BASE": self.now.astimezone(self.tz).replace(tzinfo=None),
                "PREFER_DATES_FROM": "past",
            },
        )
        return None if parsed is None else self._localise(parsed.replace(tzinfo=None))

    def _relative(self, n: str, unit: str) -> datetime:
        count = 1 if n.lower() in ("a", "an", "one") else int(n)
        unit = unit.lower()
        seconds = {
            "second": 1, "sec": 1, "minute": 60, "min": 60, "hour": 3600, "hr": 3600,
            "day": 86400, "week": 7 * 86400, "month": 30 * 86400, "year": 365 * 86400,
        }[unit]
        return (self.now - timedelta(seconds=count * seconds)).astimezone(timezone.utc)

    def _localise(self, naive: datetime) -> datetime:
        return naive.replace(tzinfo=self.tz).astimezone(timezone.utc)


def _clean(text: str) -> str:
    text = text.replace("\xa0", " ")
    text = _ORDINAL.sub(r"\1", text)
    text = re.sub(r"\s+at\s+", " ", text, flags=re.I)
    text = text.replace(",", " ")
    return " ".join(text.split()).strip(" .")


def _parse_clock(text: str):
    text = " ".join(text.replace(",", " ").split())
    for fmt in _TIMES:
        try:
            return datetime.strptime(text.upper(), fmt).time()
        except ValueError:
            continue
    return None


def _try_formats(text: str, fmt_date: str) -> datetime | None:
    for fmt_time in _TIMES:
        try:
            return datetime.strptime(text, f"{fmt_date} {fmt_time}")
        except ValueError:
            pass
    try:
        return datetime.strptime(text, fmt_date)
    except ValueError:
        return None
