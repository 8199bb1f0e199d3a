"""Turn the dates forums print into UTC datetimes.

Forums print local, often relative dates ("Today, 09:14 AM", "Heute, 14:17", "Today | 09:14 AM",
"5 minutes ago", "09-04-2015, 02:54 PM", "12th Jun 2025, 08:57", "03.03.2011, 14:17", "3. März 2011").
A ``DateResolver`` knows the crawl time and the timezone the page was rendered in, so every form
resolves to one UTC instant. Anything it cannot read resolves to ``None`` (and the caller counts it):
a wrong date is worse than no date.

Speed matters (a thread page prints 10-40 dates): each text is classified by a few precompiled,
anchored patterns and the datetime is built straight from the matched numbers; no ``strptime`` trial
and error. What a text says (an absolute local time, N days back at a clock time, N seconds ago) does
not depend on the crawl time or timezone, so that reading is cached per distinct text. Month, weekday,
day and unit words come from dateparser's language data; dateparser itself is only asked, and cached,
for a text with a four-digit year that none of the patterns read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from functools import lru_cache
from typing import NamedTuple
from zoneinfo import ZoneInfo

#: languages whose month names, weekday names, Today/Yesterday and "N minutes ago" words are read
LANGUAGES = ("en", "de", "fr", "es", "it", "nl")
#: more languages read by the same patterns; a word of theirs that one of LANGUAGES reads otherwise
#: (Polish "so" for Saturday is German Sunday) keeps the LANGUAGES meaning
MORE_LANGUAGES = ("pt", "pl", "ru", "sv", "da", "nb", "cs", "tr")

# vBulletin's footer in the languages of LANGUAGES ("WEZ", Westeuropäische Zeit, is GMT).
FOOTER_LEADS = ("All times are", "Alle Zeitangaben in", "Heures au format", "Fuseau horaire", "Todas las horas son",
                "Tutti gli orari sono", "Alle tijden zijn", "Heure", "Les heures sont au format", "Orario")
_GMT_OFFSET = re.compile(
    rf"(?:{'|'.join(FOOTER_LEADS)})\s+(?:GMT|UTC|WEZ)\s*(?P<sign>[+-])?\s*(?P<hours>\d{{1,2}})?(?:[.:](?P<frac>\d+))?",
    re.I)


def offset_from_footer(text: str) -> tzinfo | None:
    """The fixed offset a vBulletin page was rendered in, from "All times are GMT -5." (or "Alle
    Zeitangaben in WEZ +1", "Todas las horas son GMT +1", ...).

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


# --- what a printed date says, independent of when and where it is read ------------------------

class Local(NamedTuple):
    """An absolute wall-clock time in the page's timezone."""

    when: datetime


class Aware(NamedTuple):
    """An absolute instant with its own offset (ISO 8601 with Z/+hh:mm, a Unix timestamp)."""

    when: datetime


class DaysBack(NamedTuple):
    """Today (0) or Yesterday (1) at a clock time, in the page's timezone."""

    days: int
    clock: time


class Ago(NamedTuple):
    """So many seconds before the crawl time."""

    seconds: int


class Weekday(NamedTuple):
    """A weekday of the past week at a clock time ("Monday at 9:14 PM": XenForo between two and six
    days back), in the page's timezone."""

    weekday: int  # Monday = 0
    clock: time


Reading = Local | Aware | DaysBack | Ago | Weekday


@dataclass
class DateResolver:
    """Resolves forum-printed dates against a crawl time ``now`` in the page's timezone.

    ``date_order`` ("MDY" or "DMY") decides only numeric dates separated by ``-`` or ``/``, and only
    where both orders are possible (``25/12/2019`` is day-first whatever the order); dotted dates
    (``03.03.2011``) are day-first everywhere and ISO dates are year-first everywhere.
    """

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
        reading = read_date(text, self.date_order, self.now.year)
        if reading is None:
            return None
        if isinstance(reading, Local):
            return self._localise(reading.when)
        if isinstance(reading, Aware):
            return reading.when.astimezone(timezone.utc)
        if isinstance(reading, DaysBack):
            day = self.local_today - timedelta(days=reading.days)
            return self._localise(datetime.combine(day, reading.clock))
        if isinstance(reading, Weekday):
            days = (self.local_today.weekday() - reading.weekday) % 7
            if days == 0:
                return None  # today would say "Today"; a week ago is a guess
            return self._localise(datetime.combine(self.local_today - timedelta(days=days), reading.clock))
        return (self.now - timedelta(seconds=reading.seconds)).astimezone(timezone.utc)

    def _localise(self, naive: datetime) -> datetime:
        return naive.replace(tzinfo=self.tz).astimezone(timezone.utc)


@lru_cache(maxsize=8192)
def read_date(text: str, date_order: str = "MDY", this_year: int | None = None) -> Reading | None:
    """What a printed date says, or None. ``this_year`` places two-digit years (a year more than one
    ahead of it is read as the previous century)."""
    cleaned = _clean(text)
    if not cleaned:
        return None
    this_year = this_year or datetime.now(timezone.utc).year
    unlabelled = _LABEL.sub("", cleaned, count=1)
    for candidate in (cleaned, unlabelled) if unlabelled != cleaned else (cleaned,):
        for pattern, reader in _patterns():
            match = pattern.match(candidate)
            if match:
                try:
                    return reader(match, date_order, this_year)
                except (ValueError, OverflowError):  # 31 February, hour 25, ...: printed wrong, not a guess
                    return None
    cleaned = unlabelled
    if _LETTER.search(cleaned) and _YEAR.search(cleaned):
        naive = _dateparser_reading(cleaned, date_order)
        return None if naive is None else Local(naive)
    return None


_SPACES = re.compile(r"[\s\u00a0\u202f]+")
# The word a skin prints before the date ("Posted: ...", "Verfasst am ...", "Publié le ..."), in the
# languages we read: tried only when the whole text is not a date.
_LABEL = re.compile(r"^(?:posted|post date|date|datum|verfasst|geschrieben|publié|posté|envoyé|publicado|enviado|"
                    r"scritto|inviato|pubblicato|geplaatst|gepost)(?:\s+(?:on|am|le|el|il|op))?\s*:?\s*"
                    r"|^(?:on|am|le|el|il|op)\s+")
_LETTER = re.compile(r"[^\W\d_]")
_YEAR = re.compile(r"\b\d{4}\b")


def _clean(text: str) -> str:
    return _SPACES.sub(" ", text).strip(" .").lower().replace("\u2019", "'")


# --- the patterns ------------------------------------------------------------------------------

_TIME = (r"(?P<hour>\d{1,2})(?:[:h.](?P<minute>\d{2}))(?::(?P<second>\d{2}))?"
         r"(?:\s*(?P<ampm>[ap])\.?\s*m\.?)?(?:\s*uhr)?")
# Between a date and its time: commas, "|" (IB skins), a dash, and the languages' "at" (those of
# MORE_LANGUAGES too: "às", "в", "saat", "kl.", Polish "o", Czech "v").
_AT = r"(?:\s*[,|\u2013-]\s*|\s+)(?:(?:at|um|à|a las|a la|alle|om|le|às|в|saat|kl\.?|o|v)\s+)?"
_ORDINAL = r"(?:st|nd|rd|th|er|e|º|°|\.)?"


def _clock(match) -> time:
    hour, minute = int(match["hour"]), int(match["minute"])
    second = int(match["second"] or 0)
    ampm = match["ampm"]
    if ampm:
        if not 1 <= hour <= 12:
            raise ValueError("12-hour clock out of range")
        hour = hour % 12 + (12 if ampm == "p" else 0)
    return time(hour, minute, second)


def _clock_or_midnight(match) -> time:
    return _clock(match) if match["hour"] is not None else time(0, 0)


def _full_year(digits: str, this_year: int) -> int:
    year = int(digits)
    if len(digits) == 2:
        year += 2000
        if year > this_year + 1:
            year -= 100
    return year


def _read_iso(match, date_order, this_year):
    when = datetime.combine(date(int(match["year"]), int(match["month"]), int(match["day"])), _clock_or_midnight(match))
    offset = match["offset"]
    if offset is None:
        return Local(when)
    if offset == "z":
        return Aware(when.replace(tzinfo=timezone.utc))
    sign = -1 if offset[0] == "-" else 1
    digits = offset[1:].replace(":", "")
    return Aware(when.replace(tzinfo=timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:] or 0)))))


def _read_numeric(match, date_order, this_year):
    first, second = int(match["first"]), int(match["second_"])
    # Dotted dates are the German/European form: day first whatever the site's order.
    if match["sep"] == "." or date_order == "DMY":
        day, month = first, second
    else:
        month, day = first, second
    if month > 12 >= day:
        # The site's order cannot be meant: a 25th month does not exist, while "25/12" can only be
        # day-first (a board whose members chose their own date format prints both orders).
        day, month = month, day
    when = date(_full_year(match["year"], this_year), month, day)
    return Local(datetime.combine(when, _clock_or_midnight(match)))


def _read_month_first(match, date_order, this_year):
    when = date(int(match["year"]), _month_number(match["month"]), int(match["day"]))
    return Local(datetime.combine(when, _clock_or_midnight(match)))


_read_day_first = _read_month_first


def _read_day_word(match, date_order, this_year):
    return DaysBack(_vocabulary().days_back[match["word"]], _clock(match))


def _read_weekday(match, date_order, this_year):
    return Weekday(_vocabulary().weekday_numbers[match["weekday"].rstrip(".")], _clock(match))


def _read_moment(match, date_order, this_year):
    return Ago(0)


def _read_ago(match, date_order, this_year):
    vocab = _vocabulary()
    count = match["count"]
    n = int(count) if count.isdigit() else 1
    return Ago(n * vocab.unit_seconds[match["unit"]])


def _read_timestamp(match, date_order, this_year):
    return Aware(datetime.fromtimestamp(int(match["epoch"]), timezone.utc))


def _month_number(word: str) -> int:
    return _vocabulary().months[word.rstrip(".")]


class _Vocabulary(NamedTuple):
    months: dict[str, int]
    weekdays: list[str]
    weekday_numbers: dict[str, int]  # Monday = 0; only words no two languages read differently
    days_back: dict[str, int]
    unit_seconds: dict[str, int]
    ago_before: list[str]  # "vor", "il y a", "hace": the number follows
    ago_after: list[str]  # "ago", "fa", "geleden": the number comes first


# Units whose length is exact enough to count back from the crawl time. "2 months ago" would be a
# guess of up to weeks, so months and years stay unread.
_UNIT_SECONDS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400, "week": 7 * 86400}
_MONTH_KEYS = ("january", "february", "march", "april", "may", "june", "july", "august", "september",
               "october", "november", "december")
_WEEKDAY_KEYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# "an hour ago", "vor einer Stunde", "il y a une heure", "hace una hora", "un'ora fa", "een uur geleden"
# "Under a minute ago" as XenForo and Discourse print it, in LANGUAGES.
_MOMENT = ("a moment ago", "just now", "gerade eben", "vor einem moment", "à l'instant", "il y a un instant",
           "hace un momento", "un momento fa", "zojuist", "een moment geleden",
           # phpBB 3.1+ prints its AGO[0] string in each language pack
           "less than a minute ago", "vor weniger als einer minute", "il y a moins d'une minute",
           "hace menos de un minuto", "meno di un minuto fa", "minder dan een minuut geleden")
_ONE = ("a", "an", "one", "ein", "eine", "einer", "einem", "un", "une", "una", "uno", "un'", "een")


@lru_cache(maxsize=1)
def _vocabulary() -> _Vocabulary:
    core, more = _words_of(LANGUAGES), _words_of(MORE_LANGUAGES)
    merged = []
    for mine, theirs in zip(core, more):
        if isinstance(mine, dict):
            merged.append({**{w: v for w, v in theirs.items() if w not in mine}, **mine})
        else:
            merged.append(sorted(set(mine) | set(theirs)))
    return _Vocabulary(*merged)


def _words_of(languages) -> _Vocabulary:
    from dateparser.languages.loader import default_loader

    months: dict[str, set[int]] = {}
    weekdays: set[str] = set()
    weekday_numbers: dict[str, set[int]] = {}
    days_back: dict[str, int] = {}
    units: dict[str, set[int]] = {}
    before: set[str] = set()
    after: set[str] = set()
    for language in languages:
        info = default_loader.get_locale(language).info
        for number, key in enumerate(_MONTH_KEYS, start=1):
            for word in info[key]:
                months.setdefault(word.lower().rstrip("."), set()).add(number)
        for number, key in enumerate(_WEEKDAY_KEYS):
            weekdays.update(word.lower() for word in info[key])
            for word in info[key]:
                weekday_numbers.setdefault(word.lower().rstrip("."), set()).add(number)
        for days, key in ((0, "0 day ago"), (1, "1 day ago")):
            for word in info["relative-type"].get(key, []):
                if word != "till date":
                    days_back[word.lower()] = days
        for unit, seconds in _UNIT_SECONDS.items():
            for word in info[unit]:
                units.setdefault(word.lower(), set()).add(seconds)
        # Languages whose relative-type-regex puts the word before the number say "vor 5 Minuten".
        regexes = [regex for key, values in info["relative-type-regex"].items() if "ago" in key for regex in values]
        for word in (word.lower() for word in info["ago"]):
            if any(regex.startswith(word + " ") for regex in regexes):
                before.add(word)
            elif any(regex.endswith(" " + word) for regex in regexes):
                after.add(word)
    # A word two languages read as different months or units is not read at all.
    return _Vocabulary(
        months={word: numbers.pop() for word, numbers in months.items() if len(numbers) == 1},
        weekdays=sorted(weekdays),
        weekday_numbers={word: numbers.pop() for word, numbers in weekday_numbers.items() if len(numbers) == 1},
        days_back=days_back,
        unit_seconds={word: seconds.pop() for word, seconds in units.items() if len(seconds) == 1},
        ago_before=sorted(before),
        ago_after=sorted(after),
    )


def _alternation(words) -> str:
    # Longest first, so "march" is tried before "mar".
    return "|".join(re.escape(word) for word in sorted(set(words), key=len, reverse=True))


@lru_cache(maxsize=1)
def _patterns():
    vocab = _vocabulary()
    months = _alternation(vocab.months)
    weekday = rf"(?:(?:{_alternation(vocab.weekdays)})\.?,?\s+)?"
    time_part = rf"(?:{_AT}{_TIME})?"
    units = _alternation(vocab.unit_seconds)
    one = _alternation(_ONE)
    count = rf"(?P<count>\d+|{one})\s*"
    plural = r"(?:s|en|n|e)?"
    return [
        # 2016-02-01, 02:21 / 2010-11-21T10:51:58+0000 / 2016/02/01 02:21
        (re.compile(rf"^(?P<year>\d{{4}})(?P<ysep>[-/])(?P<month>\d{{1,2}})(?P=ysep)(?P<day>\d{{1,2}})"
                    rf"(?:(?:t|{_AT}){_TIME}(?:\.\d+)?)?\s*(?P<offset>z|[+-]\d{{2}}:?\d{{2}})?$"), _read_iso),
        # 06-15-2016, 03:03 PM / 03.03.2011, 14:17 / 03-17-18 12:02 AM
        (re.compile(rf"^(?P<first>\d{{1,2}})(?P<sep>[-/.])(?P<second_>\d{{1,2}})(?P=sep)(?P<year>\d{{4}}|\d{{2}})"
                    rf"{time_part}$"), _read_numeric),
        # Today, 09:14 AM / Heute, 14:17 / Hier à 14h17 / Today | 09:14 AM / Gestern um 14:17 Uhr
        (re.compile(rf"^(?P<word>{_alternation(vocab.days_back)}){_AT}{_TIME}$"), _read_day_word),
        # Mar 3, 2021 | 10:05 PM / Sun May 26, 2019 4:34 pm / November 21st, 2010 at 10:51 AM
        (re.compile(rf"^{weekday}(?P<month>{months})\.?\s+(?P<day>\d{{1,2}}){_ORDINAL},?\s+(?P<year>\d{{4}})"
                    rf"{time_part}$"), _read_month_first),
        # 12th Jun 2025, 08:57 / 3. März 2011, 14:17 / 3 mars 2011 / 3 de marzo de 2011
        (re.compile(rf"^{weekday}(?P<day>\d{{1,2}}){_ORDINAL}\s+(?:de\s+)?(?P<month>{months})\.?,?\s+(?:de\s+)?"
                    rf"(?P<year>\d{{4}}){time_part}$"), _read_day_first),
        # 5 minutes ago / 5 minuti fa / 5 minuten geleden
        (re.compile(rf"^{count}(?P<unit>{units}){plural}\s+(?:{_alternation(vocab.ago_after)})$"), _read_ago),
        # vor 5 Minuten / il y a 5 minutes / hace 5 minutos
        (re.compile(rf"^(?:{_alternation(vocab.ago_before)})\s+{count}(?P<unit>{units}){plural}$"), _read_ago),
        # Monday at 9:14 PM / Montag um 21:05 / lundi à 21:05 (XenForo, two to six days back)
        (re.compile(rf"^(?P<weekday>{_alternation(vocab.weekday_numbers)})\.?{_AT}{_TIME}$"), _read_weekday),
        # A moment ago / Just now (XenForo, under a minute)
        (re.compile(rf"^(?:{_alternation(_MOMENT)})$"), _read_moment),
        # data-time="1290336718"
        (re.compile(r"^(?P<epoch>1\d{9})$"), _read_timestamp),
    ]


@lru_cache(maxsize=4096)
def _dateparser_reading(text: str, date_order: str) -> datetime | None:
    # Strict: a full day, month and year in one of our languages, or nothing. Never a guess. Only
    # texts with a four-digit year come here, so the answer does not depend on the crawl time.
    import dateparser

    parsed = dateparser.parse(
        text,
        languages=list(LANGUAGES),
        settings={"DATE_ORDER": date_order, "STRICT_PARSING": True, "PREFER_DATES_FROM": "past",
                  "RETURN_AS_TIMEZONE_AWARE": False},
    )
    return parsed
