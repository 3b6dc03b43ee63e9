"""kit.times: one clock, one way to write a time, one ISO 8601 reader with one zone rule."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest

from kit.errors import UsageError
from kit.times import folder_stamp, iso_z, parse_time, require_time, utc_now, utc_text


def test_parse_time_odd_forms() -> None:
    assert parse_time("1/21/2015 10:14:26 PM") == datetime(2015, 1, 21, 22, 14, 26, tzinfo=UTC)
    assert parse_time("not a time") is None
    assert parse_time(None) is None
    assert parse_time("") is None
    assert parse_time(12345) is None


@pytest.mark.parametrize("text", [
    "2026-11-25T08:00:00Z", "2026-11-25T08:00:00+00:00", "2026-11-25T09:00:00+01:00",
    "2026-11-25T08:00:00", "2026-11-25T08:00:00.0000000Z", " 2026-11-25T08:00:00z ",
])
def test_every_reader_gives_the_same_utc_instant(text: str) -> None:
    expected = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
    assert parse_time(text) == expected
    assert require_time(text, "--start") == expected
    assert parse_time(text).tzinfo is UTC  # type: ignore[union-attr]


def test_a_zone_less_time_is_utc_for_options_and_parameters_alike() -> None:
    assert require_time("2026-11-25T06:00:00", "window_start") == parse_time("2026-11-25T06:00:00Z")


def test_aware_datetimes_are_converted_not_relabelled() -> None:
    cet = timezone(timedelta(hours=1))
    assert parse_time(datetime(2026, 11, 25, 9, 0, tzinfo=cet)) == datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
    assert parse_time(datetime(2026, 11, 25, 9, 0)) == datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def test_require_time_names_the_option_it_refuses() -> None:
    with pytest.raises(UsageError, match=r"^--end 'yesterday' is not an ISO 8601 time"):
        require_time("yesterday", "--end")


def test_written_times_and_folder_stamps_have_one_form() -> None:
    moment = datetime(2026, 11, 25, 19, 0, 1, 120000, tzinfo=timezone(timedelta(hours=1)))
    assert utc_text(moment) == "2026-11-25T18:00:01.120000Z"
    assert folder_stamp(moment) == "20261125T180001Z"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", utc_text())
    assert re.fullmatch(r"\d{8}T\d{6}Z", folder_stamp())
    assert parse_time(utc_text(moment)) == moment
    assert abs(utc_now() - datetime.now(UTC)) < timedelta(seconds=5)


def test_reported_times_keep_their_precision_in_utc() -> None:
    cet = timezone(timedelta(hours=1))
    assert iso_z(datetime(2026, 11, 25, 10, 13, 50, tzinfo=cet)) == "2026-11-25T09:13:50Z"
    assert iso_z(datetime(2026, 11, 25, 9, 13, 50, 250000, tzinfo=UTC)) == "2026-11-25T09:13:50.250000Z"
