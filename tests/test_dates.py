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
