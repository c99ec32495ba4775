"""pmsync.paging: each paginator stops where its service says the pages end, and none follows a token
it has followed before (a service that repeats itself stops the read with an error, not a loop)."""

from __future__ import annotations

from typing import Any

import pytest

from pmsync.errors import SourceDataError
from pmsync.paging import NextLinkPaginator, OffsetPaginator, TokenPaginator, follow


def test_offset_paging_reads_until_a_short_page_or_the_total() -> None:
    items = list(range(23))
    asked: list[int] = []

    def fetch(start: int) -> dict[str, Any]:
        asked.append(start)
        return {"values": items[start : start + 10], "total": len(items)}

    pages = list(follow(fetch, OffsetPaginator(page_size=10, source="jira", what="search")))
    assert asked == [0, 10, 20] and sum(len(p["values"]) for p in pages) == 23

    asked.clear()
    exact = list(range(20))
    pages = list(
        follow(
            lambda s: {"values": exact[s : s + 10], "total": 20},
            OffsetPaginator(page_size=10, source="s", what="w"),
        )
    )
    assert len(pages) == 2  # the total says the second full page was the last: no empty third request


def test_next_links_are_followed_until_there_is_none() -> None:
    answers = {"u1": {"@odata.nextLink": "u2"}, "u2": {"@odata.nextLink": "u3"}, "u3": {}}
    pages = list(follow(answers.__getitem__, NextLinkPaginator("u1", source="planner", what="tasks")))
    assert len(pages) == 3


@pytest.mark.parametrize(
    "paginator",
    [
        NextLinkPaginator("u1", source="planner", what="plan tasks"),
        TokenPaginator(source="jira", what="search"),
    ],
)
def test_a_repeated_token_stops_the_read_naming_source_and_what(paginator: Any) -> None:
    key = paginator.key
    answers = iter([{key: "A"}, {key: "B"}, {key: "A"}, {key: "C"}])
    with pytest.raises(SourceDataError, match=f"same {key} twice") as caught:
        list(follow(lambda _: next(answers), paginator))
    assert caught.value.source == paginator.source and caught.value.record == paginator.what


def test_token_paging_ends_on_the_last_page_flag_even_with_a_token() -> None:
    answers = iter([{"nextPageToken": "t1"}, {"nextPageToken": "t2", "isLast": True}])
    paginator = TokenPaginator(source="jira", what="search")
    assert len(list(follow(lambda _: next(answers), paginator))) == 2 and paginator.finished
