from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from iss_dashboards.macros import (
    MacroError,
    QueryContext,
    expand_promql,
    expand_sql,
    format_interval,
    parse_interval,
)

pytestmark = pytest.mark.unit

START = datetime(2026, 11, 21, 14, 0, 0, tzinfo=UTC)
END = datetime(2026, 11, 21, 15, 30, 5, 250000, tzinfo=UTC)
CONTEXT = QueryContext(
    time_from=START,
    time_to=END,
    interval=timedelta(seconds=30),
    rate_interval=timedelta(minutes=2),
    variables={"satellite": "25544"},
)


def test_time_filter_expands_to_a_between_of_rfc3339_literals() -> None:
    sql = expand_sql("WHERE $__timeFilter(event_time)", CONTEXT)

    assert sql == "WHERE event_time BETWEEN '2026-11-21T14:00:00Z' AND '2026-11-21T15:30:05.25Z'"


def test_time_from_and_to_are_quoted_literals() -> None:
    assert expand_sql("$__timeFrom() .. $__timeTo()", CONTEXT) == (
        "'2026-11-21T14:00:00Z' .. '2026-11-21T15:30:05.25Z'"
    )


def test_variables_are_replaced_in_both_spellings() -> None:
    assert expand_sql("norad_id = $satellite OR norad_id = ${satellite}", CONTEXT) == (
        "norad_id = 25544 OR norad_id = 25544"
    )


def test_time_group_alias_uses_the_dashboard_interval() -> None:
    sql = expand_sql("SELECT $__timeGroupAlias(bucket, $__interval)", CONTEXT)

    assert sql == 'SELECT floor(extract(epoch from bucket)/30)*30 AS "time"'


def test_time_group_followed_by_a_comma_gets_the_alias_like_grafana() -> None:
    sql = expand_sql("SELECT $__timeGroup(bucket, 1m), x", CONTEXT)

    assert sql == 'SELECT floor(extract(epoch from bucket)/60)*60 AS "time", x'


def test_an_unknown_variable_is_an_error_not_silently_left() -> None:
    with pytest.raises(MacroError, match=r"\$norad"):
        expand_sql("WHERE norad_id = $norad", CONTEXT)


def test_an_unknown_macro_is_an_error() -> None:
    with pytest.raises(MacroError, match="unknown macro"):
        expand_sql("WHERE $__nonsense(x)", CONTEXT)


def test_promql_gets_rate_interval_and_range() -> None:
    expr = expand_promql("increase(x[$__range]) / rate(y[$__rate_interval])", CONTEXT)

    assert expr == "increase(x[5405s]) / rate(y[2m])"


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("5s", 5), ("1m", 60), ("100ms", 0.1), ("2h", 7200), ("1d", 86400), ("'15s'", 15)],
)
def test_intervals_parse_like_grafana(text: str, seconds: float) -> None:
    assert parse_interval(text).total_seconds() == pytest.approx(seconds)


def test_a_malformed_interval_is_an_error() -> None:
    with pytest.raises(MacroError):
        parse_interval("five seconds")


@pytest.mark.parametrize(
    ("seconds", "text"), [(90, "90s"), (300, "5m"), (0.25, "250ms"), (7200, "2h"), (86400, "1d")]
)
def test_intervals_format_in_their_shortest_spelling(seconds: float, text: str) -> None:
    assert format_interval(timedelta(seconds=seconds)) == text
