from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from miata_spiders.dates import DateResolver, offset_from_footer

NEW_YORK = ZoneInfo("America/New_York")
# A Wednesday noon in New York, crawl time of these tests.
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=NEW_YORK)


@pytest.fixture
def dates():
    return DateResolver(tz=NEW_YORK, now=NOW, date_order="MDY")


@pytest.mark.parametrize(
    "printed, utc",
    [
        ("09-04-2015, 02:54 PM", "2015-09-04T18:54:00+00:00"),  # EDT, UTC-4
        ("12-24-2009, 11:05 PM", "2009-12-25T04:05:00+00:00"),  # EST, UTC-5
        ("03-17-18 12:02 AM", "2018-03-17T04:02:00+00:00"),  # IB index two-digit year
        ("Today, 09:14 AM", "2026-11-25T14:14:00+00:00"),
        ("Yesterday 12:47 PM", "2026-11-24T17:47:00+00:00"),
        ("Yesterday, 11:59 PM", "2026-11-25T04:59:00+00:00"),
        ("Today at 09:14 AM", "2026-11-25T14:14:00+00:00"),
        ("12th Jun 2025, 08:57", "2025-06-12T12:57:00+00:00"),  # pprune's IB format
        ("06-15-2016,\xa003:03 PM", "2016-06-15T19:03:00+00:00"),  # vBulletin 4 with &nbsp;
    ],
)
def test_printed_dates_resolve_to_utc(dates, printed, utc):
    assert dates.parse(printed) == datetime.fromisoformat(utc)


@pytest.mark.parametrize(
    "printed, utc",
    [
        # Internet Brands skin: absolute dates and Today/Yesterday split from the time by "|".
        ("Mar 3, 2021 | 10:05 PM", "2021-03-04T03:05:00+00:00"),
        ("Today | 09:14 AM", "2026-11-25T14:14:00+00:00"),
        ("Yesterday | 11:00 PM", "2026-11-25T04:00:00+00:00"),
        # vBulletin 3 with a site-chosen ISO-like format (AnimeSuki).
        ("2016-02-01, 02:21", "2016-02-01T07:21:00+00:00"),
        # phpBB 3.0: weekday, month name, lower-case am/pm.
        ("Sun May 26, 2019 4:34 pm", "2019-05-26T20:34:00+00:00"),
        # XenForo 1 title attribute, and a spelled-out month with an ordinal.
        ("Oct 19, 2014 at 8:27 PM", "2014-10-20T00:27:00+00:00"),
        ("November 21st, 2010 at 10:51 AM", "2010-11-21T15:51:00+00:00"),
        # Machine-readable forms carry their own offset: the page timezone does not apply.
        ("2010-11-21T10:51:58+0000", "2010-11-21T10:51:58+00:00"),
        ("2013-02-04T15:26:26.278-05:00", "2013-02-04T20:26:26+00:00"),
        ("2019-03-24T19:54:11Z", "2019-03-24T19:54:11+00:00"),
        ("1290336718", "2010-11-21T10:51:58+00:00"),  # XenForo data-time
        # Two-digit years: this century unless that would be more than a year ahead.
        ("03-17-98", "1998-03-17T05:00:00+00:00"),
        ("11-24-26 10:00 PM", "2026-11-25T03:00:00+00:00"),
        ("12:47 p.m.", None),  # a time without a day
    ],
)
def test_more_english_and_machine_forms(dates, printed, utc):
    expected = datetime.fromisoformat(utc) if utc else None
    assert dates.parse(printed) == expected


BERLIN = ZoneInfo("Europe/Berlin")  # UTC+1 in November and early March, UTC+2 in summer


@pytest.mark.parametrize(
    "printed, utc",
    [
        # German vBulletin 4: dotted dates are day-first, Heute/Gestern.
        ("03.03.2011, 14:17", "2011-03-03T13:17:00+00:00"),
        ("15.06.2016, 08:05", "2016-06-15T06:05:00+00:00"),
        ("Heute, 14:17", "2026-11-25T13:17:00+00:00"),
        ("Gestern, 09:30", "2026-11-24T08:30:00+00:00"),
        ("Gestern um 14:17 Uhr", "2026-11-24T13:17:00+00:00"),
        # French, Spanish, Italian, Dutch day words.
        ("Aujourd'hui à 09h05", "2026-11-25T08:05:00+00:00"),
        ("Aujourd’hui, 09:05", "2026-11-25T08:05:00+00:00"),
        ("Hier à 14h17", "2026-11-24T13:17:00+00:00"),
        ("Hoy, 14:17", "2026-11-25T13:17:00+00:00"),
        ("Ayer a las 14:17", "2026-11-24T13:17:00+00:00"),
        ("Oggi, 14:17", "2026-11-25T13:17:00+00:00"),
        ("Ieri alle 14:17", "2026-11-24T13:17:00+00:00"),
        ("Vandaag, 14:17", "2026-11-25T13:17:00+00:00"),
        ("Gisteren om 14:17", "2026-11-24T13:17:00+00:00"),
        # Month names in the forum's language.
        ("3. März 2011, 14:17", "2011-03-03T13:17:00+00:00"),
        ("Donnerstag, 3. März 2011, 14:17", "2011-03-03T13:17:00+00:00"),
        ("3. März 2011", "2011-03-02T23:00:00+00:00"),
        ("3 mars 2011", "2011-03-02T23:00:00+00:00"),
        ("1er mars 2011 à 14h17", "2011-03-01T13:17:00+00:00"),
        ("3 de marzo de 2011", "2011-03-02T23:00:00+00:00"),
        ("3 marzo 2011, 14:17", "2011-03-03T13:17:00+00:00"),
        ("3 maart 2011 14:17", "2011-03-03T13:17:00+00:00"),
        ("le 3 mars 2011", "2011-03-02T23:00:00+00:00"),  # read by dateparser, the last resort
        ("3 mars", None),  # no year: not a guess
    ],
)
def test_european_forms(printed, utc):
    # date_order MDY on purpose: it never applies to dotted or spelled-out dates.
    berlin = DateResolver(tz=BERLIN, now=NOW, date_order="MDY")
    expected = datetime.fromisoformat(utc) if utc else None
    assert berlin.parse(printed) == expected


@pytest.mark.parametrize(
    "printed, back",
    [
        ("5 minutes ago", timedelta(minutes=5)),
        ("1 hour ago", timedelta(hours=1)),
        ("2 days ago", timedelta(days=2)),
        ("vor 5 Minuten", timedelta(minutes=5)),
        ("vor einer Stunde", timedelta(hours=1)),
        ("il y a 5 minutes", timedelta(minutes=5)),
        ("hace 3 horas", timedelta(hours=3)),
        ("5 minuti fa", timedelta(minutes=5)),
        ("10 minuten geleden", timedelta(minutes=10)),
    ],
)
def test_relative_ages_in_several_languages(dates, printed, back):
    assert dates.parse(printed) == (NOW - back).astimezone(timezone.utc)


@pytest.mark.parametrize("printed", ["2 months ago", "a year ago", "vor 3 Monaten"])
def test_ages_too_coarse_to_place_are_none(dates, printed):
    assert dates.parse(printed) is None


def test_dotted_dates_are_day_first_whatever_the_site_order():
    us = DateResolver(tz="UTC", now=NOW, date_order="MDY")
    assert us.parse("04.09.2015") == datetime(2015, 9, 4, tzinfo=timezone.utc)
    assert us.parse("04-09-2015") == datetime(2015, 4, 9, tzinfo=timezone.utc)


def test_a_date_only_one_order_can_read_is_read_in_that_order():
    """A member who set a day-first format on a month-first board prints "25/12/2019": no 25th month exists."""
    us = DateResolver(tz="UTC", now=NOW, date_order="MDY")
    uk = DateResolver(tz="UTC", now=NOW, date_order="DMY")
    assert us.parse("25/12/2019 22:05") == datetime(2019, 12, 25, 22, 5, tzinfo=timezone.utc)
    assert uk.parse("12/25/2019 10:05 PM") == datetime(2019, 12, 25, 22, 5, tzinfo=timezone.utc)
    assert us.parse("12/11/2019 22:05") == datetime(2019, 12, 11, 22, 5, tzinfo=timezone.utc)  # both possible: site order


@pytest.mark.parametrize("printed, utc", [
    ("Posted: Wed Mar 03, 2021 10:05 pm", "2021-03-03T22:05:00+00:00"),  # phpBB subsilver2 prints its label
    ("Posted on 03-03-2021 at 10:05 PM", "2021-03-03T22:05:00+00:00"),
    ("Verfasst am: 03.03.2021, 22:05", "2021-03-03T22:05:00+00:00"),
    ("Publié le 3 mars 2021, 22:05", "2021-03-03T22:05:00+00:00"),
    ("2021/03/03 22:05", "2021-03-03T22:05:00+00:00"),  # year first with slashes
])
def test_a_label_before_the_date_and_year_first_slashes(printed, utc):
    assert DateResolver(tz="UTC", now=NOW).parse(printed) == datetime.fromisoformat(utc)


@pytest.mark.parametrize("printed, utc", [
    ("pn, 04 sty 2016, 22:52", "2016-01-04T22:52:00+00:00"),  # phpBB, Polish language pack
    ("04 янв 2016, 22:52", "2016-01-04T22:52:00+00:00"),  # Russian
    ("Seg Jan 04, 2016 10:52 pm", "2016-01-04T22:52:00+00:00"),  # Brazilian Portuguese weekday
    ("mån 04 jan 2016 22:52", "2016-01-04T22:52:00+00:00"),  # Swedish
    ("3 de março de 2021, 22:05", "2021-03-03T22:05:00+00:00"),
    ("Wczoraj, 22:05", "2026-11-24T22:05:00+00:00"),
    ("Вчера, 22:05", "2026-11-24T22:05:00+00:00"),
    ("há 5 minutos", "2026-11-25T16:55:00+00:00"),
    ("hace menos de un minuto", "2026-11-25T17:00:00+00:00"),  # phpBB 3.1+ "less than a minute ago"
    ("vor weniger als einer Minute", "2026-11-25T17:00:00+00:00"),
    ("19 Outubro 2014 às 20:27", "2014-10-19T20:27:00+00:00"),  # XenForo 1 title dates, Portuguese pack
    ("19 окт 2014 в 20:27", "2014-10-19T20:27:00+00:00"),
    ("19 Ekim 2014 saat 20:27", "2014-10-19T20:27:00+00:00"),
    ("Wczoraj o 20:27", "2026-11-24T20:27:00+00:00"),
])
def test_more_languages_read_by_the_same_patterns(printed, utc):
    assert DateResolver(tz="UTC", now=NOW).parse(printed) == datetime.fromisoformat(utc)


def test_a_word_of_a_further_language_keeps_its_meaning_in_the_first_six():
    # Polish "so" (sobota, Saturday) must not unseat German "So" (Sonntag) in XenForo's "So um 14:00".
    assert DateResolver(tz="UTC", now=NOW).parse("So um 14:00") == datetime(2026, 11, 22, 14, 0, tzinfo=timezone.utc)


def test_a_label_alone_is_no_date():
    assert DateResolver(tz="UTC", now=NOW).parse("Posted by admin") is None


def test_same_text_resolves_per_resolver_not_per_cache():
    """Readings are cached per text; the timezone and crawl time must still be each resolver's own."""
    london = DateResolver(tz="Europe/London", now=NOW)
    new_york = DateResolver(tz=NEW_YORK, now=NOW)
    a_day_later = DateResolver(tz=NEW_YORK, now=NOW + timedelta(days=1))
    assert london.parse("Today, 09:14 AM") == datetime(2026, 11, 25, 9, 14, tzinfo=timezone.utc)
    assert new_york.parse("Today, 09:14 AM") == datetime(2026, 11, 25, 14, 14, tzinfo=timezone.utc)
    assert a_day_later.parse("Today, 09:14 AM") == datetime(2026, 11, 26, 14, 14, tzinfo=timezone.utc)
    assert new_york.with_tz(timezone(timedelta(hours=-5))).parse("03-17-18 12:02 AM") == datetime(
        2018, 3, 17, 5, 2, tzinfo=timezone.utc)


@pytest.mark.parametrize("printed", ["31.02.2011, 14:17", "Today, 25:00", "Today, 13:00 PM", "2011-13-01"])
def test_impossible_dates_are_none(dates, printed):
    assert dates.parse(printed) is None


def test_relative_ages_count_back_from_the_crawl_time(dates):
    assert dates.parse("5 minutes ago") == (NOW - timedelta(minutes=5)).astimezone(timezone.utc)
    assert dates.parse("an hour ago") == (NOW - timedelta(hours=1)).astimezone(timezone.utc)


def test_day_month_order_follows_the_site(dates):
    uk = DateResolver(tz="Europe/London", now=NOW, date_order="DMY")
    assert uk.parse("04-09-2015, 14:54") == datetime(2015, 9, 4, 13, 54, tzinfo=timezone.utc)
    assert dates.parse("04-09-2015, 02:54 PM") == datetime(2015, 4, 9, 18, 54, tzinfo=timezone.utc)


@pytest.mark.parametrize("printed", ["", None, "sometime last year", "13-45-2015, 01:00 PM", "Today", "Never"])
def test_unreadable_dates_are_none_not_a_guess(dates, printed):
    assert dates.parse(printed) is None


def test_footer_offset_is_the_pages_rendering_offset():
    assert offset_from_footer("All times are GMT -5. The time now is 09:25 PM.") == timezone(timedelta(hours=-5))
    assert offset_from_footer("All times are GMT. The time now is 09:25.") == timezone.utc
    assert offset_from_footer("All times are GMT +5.5") == timezone(timedelta(hours=5, minutes=30))
    assert offset_from_footer("no footer here") is None


@pytest.mark.parametrize(
    "printed, utc",
    [
        # XenForo names the weekday for dates two to six days back; the crawl time is Wednesday 25th.
        ("Monday at 9:14 PM", "2026-11-24T02:14:00+00:00"),
        ("Sunday at 10:00 AM", "2026-11-22T15:00:00+00:00"),
        ("Montag um 21:05", "2026-11-24T02:05:00+00:00"),
        ("lundi à 21:05", "2026-11-24T02:05:00+00:00"),
        ("A moment ago", "2026-11-25T17:00:00+00:00"),
        ("Gerade eben", "2026-11-25T17:00:00+00:00"),
    ],
)
def test_weekdays_of_the_past_week_and_moments(dates, printed, utc):
    assert dates.parse(printed) == datetime.fromisoformat(utc)


def test_todays_weekday_is_not_read_as_a_week_ago(dates):
    # "Wednesday at 9:14 AM" on a Wednesday is either today (printed "Today") or a week back: a guess.
    assert dates.parse("Wednesday at 9:14 AM") is None


@pytest.mark.parametrize(
    "footer, hours",
    [
        ("Alle Zeitangaben in WEZ +1. Es ist jetzt 14:17 Uhr.", 1),
        ("Todas las horas son GMT +2. La hora es 14:17.", 2),
        ("Tutti gli orari sono GMT. Ora sono le 14:17.", 0),
        ("Alle tijden zijn GMT -5. De tijd is nu 14:17.", -5),
        ("Heure GMT +1. Il est actuellement 13h00.", 1),  # vBulletin 3 French language pack
        ("Les heures sont au format GMT +1. Il est actuellement 13h00.", 1),
        ("Orario GMT +1. Ora sono le 13:00.", 1),  # Italian
    ],
)
def test_footer_offset_in_other_languages(footer, hours):
    assert offset_from_footer(footer).utcoffset(None) == timedelta(hours=hours)
