"""Errors keep where they happened and what to do, even after crossing a process boundary (a PDF
chunk printed in a worker process, a sync run in a subprocess)."""

from __future__ import annotations

import pickle

from pmsync.errors import ReportError, RetriableSourceError


def test_an_error_sent_from_a_worker_process_says_all_it_said() -> None:
    sent = RetriableSourceError(
        "HTTP 429 from /rest/api/2/search", source="jira", record="PRJ-7", hint="wait", retry_after=30.0
    )
    received = pickle.loads(pickle.dumps(sent))
    assert type(received) is RetriableSourceError
    assert str(received) == str(sent) == "source 'jira': PRJ-7: HTTP 429 from /rest/api/2/search (wait)"
    assert received.retry_after == 30.0
    assert pickle.loads(pickle.dumps(ReportError("bad", record="PDF"))).record == "PDF"
