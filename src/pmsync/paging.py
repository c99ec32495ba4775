"""Paging helpers for connectors: where the next page starts, and a guard that refuses to loop.

In the spirit of singer-sdk's paginators, a paginator is a small object that holds where the next
request starts (:attr:`Paginator.current`) and, given the page just read, moves on
(:meth:`Paginator.advance`) or says it is done (:attr:`Paginator.finished`). Every paginator refuses
a token it has already followed: a service that sends the same next link or page token twice would
otherwise make a sync loop for ever, so that is a :class:`~pmsync.errors.SourceDataError` naming the
source and what was being read.

Pages are decoded JSON objects (``Mapping``), not HTTP responses, so one paginator serves any client
(``requests``, the ``jira`` package, Microsoft Graph's OData client). Three shapes cover the sources
pmsync reads:

- :class:`OffsetPaginator`: ``startAt``/``maxResults`` or ``offset``/``limit``; stops on a short page
  or at the page's ``total``;
- :class:`NextLinkPaginator`: ``@odata.nextLink`` (Graph, Dataverse) or any absolute next URL;
- :class:`TokenPaginator`: an opaque page token or cursor (Jira Cloud's ``nextPageToken`` with
  ``isLast``, most REST APIs' ``next_cursor``).

:func:`follow` drives one: ``for page in follow(fetch, paginator): ...`` where ``fetch(current)``
reads the page that starts at ``current``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Generic, TypeVar

from pmsync.errors import SourceDataError
from pmsync.logs import redact

__all__ = ["NextLinkPaginator", "OffsetPaginator", "Paginator", "TokenPaginator", "follow"]

T = TypeVar("T")
Page = Mapping[str, Any]


class Paginator(ABC, Generic[T]):
    """Where the next page starts; :meth:`advance` moves on from the page just read."""

    #: what the token is called in error messages (``nextPageToken``, ``@odata.nextLink``, ...)
    token_name = "page token"

    def __init__(self, start: T, *, source: str, what: str) -> None:
        self.current: T = start
        self.finished = False
        self.source = source
        self.what = what
        self.pages = 0
        self._followed: set[Any] = set()

    @abstractmethod
    def next_value(self, page: Page) -> T | None:
        """Where the page after ``page`` starts, or ``None`` when ``page`` was the last."""

    def advance(self, page: Page) -> None:
        """Move past ``page``: to the next start, or :attr:`finished`; a start already followed is an
        error, not a loop."""
        self.pages += 1
        following = self.next_value(page)
        if following is None:
            self.finished = True
            return
        if following in self._followed or following == self.current:
            raise SourceDataError(
                f"{self.what}: the service sent the same {self.token_name} twice "
                f"({redact(str(following))[:120]}); stopping rather than looping",
                source=self.source,
                record=self.what,
            )
        self._followed.add(following)
        self.current = following


class OffsetPaginator(Paginator[int]):
    """``startAt``/``offset`` paging: the next page starts after the items read; a short page, an
    empty one, or reaching the page's ``total`` ends it."""

    token_name = "offset"

    def __init__(
        self,
        *,
        page_size: int,
        source: str,
        what: str,
        start: int = 0,
        items_key: str = "values",
        total_key: str | None = "total",
    ) -> None:
        super().__init__(start, source=source, what=what)
        self.page_size = page_size
        self.items_key = items_key
        self.total_key = total_key

    def next_value(self, page: Page) -> int | None:
        items = page.get(self.items_key)
        count = len(items) if isinstance(items, list) else 0
        following = self.current + count
        total = page.get(self.total_key) if self.total_key else None
        if count == 0 or count < self.page_size:
            return None
        if isinstance(total, int) and not isinstance(total, bool) and following >= total:
            return None
        return following


class NextLinkPaginator(Paginator[str]):
    """Next-link paging (OData's ``@odata.nextLink``, a REST API's ``next`` URL)."""

    token_name = "next link"

    def __init__(self, first_url: str, *, source: str, what: str, key: str = "@odata.nextLink") -> None:
        super().__init__(first_url, source=source, what=what)
        self.key = key
        self.token_name = key

    def next_value(self, page: Page) -> str | None:
        link = page.get(self.key)
        if link is not None and not isinstance(link, str):
            raise SourceDataError(f"{self.key} is not a URL", source=self.source, record=self.what)
        return link or None


class TokenPaginator(Paginator[str | None]):
    """Opaque-token paging: the first page is asked for without a token; ``last_key`` (e.g. Jira's
    ``isLast``) true, or no token, ends it."""

    def __init__(
        self, *, source: str, what: str, key: str = "nextPageToken", last_key: str | None = "isLast"
    ) -> None:
        super().__init__(None, source=source, what=what)
        self.key = key
        self.last_key = last_key
        self.token_name = key

    def next_value(self, page: Page) -> str | None:
        if self.last_key is not None and page.get(self.last_key) is True:
            return None
        token = page.get(self.key)
        return str(token) if token else None


def follow(fetch: Callable[[T], Page], paginator: Paginator[T]) -> Iterator[Page]:
    """Every page, from ``paginator.current`` on: ``fetch(start)`` reads one."""
    while not paginator.finished:
        page = fetch(paginator.current)
        yield page
        paginator.advance(page)
