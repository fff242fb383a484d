"""The one timestamp parser every module reads instants with (providers/base/fields.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from providers import parse_instant

aware = st.datetimes(
    min_value=datetime(1971, 1, 1),
    max_value=datetime(9998, 12, 31),
    timezones=st.builds(
        timezone,
        st.integers(min_value=-14 * 60, max_value=14 * 60).map(
            lambda minutes: timedelta(minutes=minutes)
        ),
    ),
)


@given(aware)
def test_every_spelling_of_an_instant_parses_to_the_same_utc_moment(moment: datetime) -> None:
    parsed = parse_instant(moment.isoformat())
    assert parsed == moment
    assert parsed is not None
    assert parsed.utcoffset() == timedelta(0)
    utc_z = moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    assert parse_instant(utc_z) == moment


def test_more_fractional_digits_than_python_keeps_are_truncated_not_refused() -> None:
    # RFC 3339 allows any number of fractional digits; the API has sent nanoseconds.
    assert parse_instant("2027-06-30T00:00:00.123456789Z") == datetime(
        2027, 6, 30, 0, 0, 0, 123456, tzinfo=UTC
    )


def test_a_zoneless_timestamp_is_utc_from_the_api_but_refused_from_a_user() -> None:
    assert parse_instant("2027-06-30T00:00:00") == datetime(2027, 6, 30, tzinfo=UTC)
    assert parse_instant("2027-06-30T00:00:00", naive_is_utc=False) is None


def test_absent_and_malformed_values_are_none_not_errors() -> None:
    for value in (None, "", "tomorrow", "2027-13-01T00:00:00Z"):
        assert parse_instant(value) is None


def test_a_datetime_passes_through_as_utc() -> None:
    paris = timezone(timedelta(hours=1))
    assert parse_instant(datetime(2027, 1, 1, 1, tzinfo=paris)) == datetime(2027, 1, 1, tzinfo=UTC)
