"""PostgreSQL's COPY text format as pmsync writes it (``pmsync.store.copy_text``): any text goes in
and comes back as it was, and an escaped field never holds what COPY reads as a separator."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pmsync.store.copy_text import NULL, copy_escaped, copy_fields, copy_moment

AWKWARD = st.text(
    alphabet=st.sampled_from(["\\", "\t", "\n", "\r", "N", "t", "n", "r", ".", "é", "\x1f", "a"])
)


@given(st.lists(AWKWARD | st.text(), min_size=1, max_size=6))
def test_escaped_fields_joined_by_tabs_split_back_as_they_were(fields: list[str]) -> None:
    line = "\t".join(copy_escaped(field) for field in fields)
    assert copy_fields(line) == fields


@given(AWKWARD | st.text())
def test_an_escaped_field_holds_no_separator_and_is_never_the_null(text: str) -> None:
    escaped = copy_escaped(text)
    assert "\t" not in escaped and "\n" not in escaped and "\r" not in escaped
    assert escaped != NULL


def test_a_moment_keeps_its_instant_and_a_naive_one_is_refused() -> None:
    berlin = timezone(timedelta(hours=1))
    assert (
        copy_moment(datetime(2026, 12, 7, 9, 30, 0, 123456, tzinfo=berlin))
        == "2026-12-07T09:30:00.123456+01:00"
    )
    assert copy_moment(datetime(2026, 12, 7, 8, tzinfo=UTC)) == "2026-12-07T08:00:00+00:00"
    assert copy_moment(None) == NULL
    with pytest.raises(ValueError, match="naive"):
        copy_moment(datetime(2026, 12, 7, 8))
