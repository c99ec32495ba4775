"""Printing HTML to PDF with a headless Chromium (Chrome, Edge), the PDF writer's faster engine.

One browser is started per report and driven over the DevTools protocol on a pipe
(``--remote-debugging-pipe``: JSON messages ending in a NUL byte, commands on the browser's fd 3,
replies and events on its fd 4), so no port is opened and no WebSocket client is needed. Each HTML
text is written to a private temporary folder, opened in a tab and printed with ``Page.printToPDF``;
several tabs print at once, and the browser spreads them over the CPU cores. A tab that printed a
page prints the next one (a new document in the same renderer process), one that failed is closed.

The browser is started so that it makes no connection of its own (no background networking,
component updates, sync or extensions); every request a page makes is intercepted, and anything but
the page itself is refused and fails the report, as with WeasyPrint (a template override could point
at a URL or a local file). The profile is a fresh temporary folder, removed afterwards.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import queue
import re
import shutil
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from pmsync.errors import ReportError

#: executables tried, in order, when no path is configured: the headless shells first (Chromium
#: built for automation, without the browser's own UI: about 40 % less CPU per page printed here)
BROWSER_NAMES = (
    "chromium-headless-shell",
    "chrome-headless-shell",
    "chromium",
    "chromium-browser",
    "google-chrome",
    "google-chrome-stable",
    "microsoft-edge",
    "msedge",
)
#: set to 1 to start the browser without its own sandbox (containers without user namespaces)
NO_SANDBOX = "PMSYNC_CHROMIUM_NO_SANDBOX"
#: seconds one page may take to load and print before the report fails
PRINT_TIMEOUT = 600.0
BROWSER_HINT = (
    "install Chromium (Debian/Ubuntu: apt-get install chromium), Google Chrome or Microsoft Edge, "
    "or set reports.chromium_path; or use reports.pdf_engine: weasyprint"
)
_FLAGS = (
    "--headless",
    "--disable-gpu",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    # A tab prints page after page (see _Tab): the page it navigates away from is dropped, not kept
    # in the back/forward cache for a "back" that never comes (which held ~200 MB more at 500 projects).
    "--disable-features=BackForwardCache",
    "--remote-debugging-pipe",
)
#: generateDocumentOutline: bookmarks from the headings, as WeasyPrint makes them (the pack's length
#: is measured from them, and a committee member jumps to a project with them)
_PRINT_OPTIONS = {
    "printBackground": True,
    "preferCSSPageSize": True,
    "displayHeaderFooter": False,
    "generateDocumentOutline": True,
}
#: added to each page: a browser lays a page out for the screen while it loads and again after
#: printing, work nobody sees; hidden on screen, the page is laid out for print only (~25 % less)
_PRINT_ONLY = '<style media="screen">html { display: none; }</style>'


def find_browser(configured: Path | str | None = None) -> str:
    """The browser executable: ``configured`` when given, else the first of :data:`BROWSER_NAMES` on PATH."""
    if configured is not None:
        found = shutil.which(str(configured))
        if found is None:
            raise ReportError(
                f"reports.chromium_path {str(configured)!r} is not an executable",
                record="reports.chromium_path",
                hint=BROWSER_HINT,
            )
        return found
    for name in BROWSER_NAMES:
        found = shutil.which(name)
        if found is not None:
            return found
    raise ReportError(
        "the chromium PDF engine needs Chromium, Chrome or Edge, and none was found on PATH",
        record="reports.pdf_engine",
        hint=BROWSER_HINT,
    )


def _print_only(html: str) -> str:
    """``html`` with :data:`_PRINT_ONLY` in its head (or first, when it has none)."""
    head = re.search(r"</head\s*>", html, flags=re.IGNORECASE)
    if head is None:
        return _PRINT_ONLY + html
    return html[: head.start()] + _PRINT_ONLY + html[head.start() :]


@dataclass
class _Tab:
    """A browser tab kept for the next page once it printed one.

    A new tab costs a new renderer process, started and torn down for each page: at 500 projects
    (50 pages of 20 projects, two tabs at once) reusing two tabs took 33.0-33.3 CPU s of the browser
    where a tab per page took 36.5-36.9, and 17.1 s of wall time instead of 19.0, for the same PDFs
    (byte for byte, once element names and dates are set aside). Each page is a file of its own, so
    its navigation is a new document: nothing of the previous page is left to print."""

    target: str
    session: str
    events: queue.Queue[dict[str, Any]]


class ChromiumPrinter:
    """A headless browser printing HTML texts to PDF bytes; use as ``with ChromiumPrinter(path) as p``.

    :meth:`print_html` may be called from several threads at once: each call prints in its own tab.
    """

    def __init__(self, browser: str) -> None:
        if os.name != "posix":
            raise ReportError(
                "the chromium PDF engine runs on Linux and macOS (it hands the browser a pipe as fd 3/4)",
                record="reports.pdf_engine",
                hint="use reports.pdf_engine: weasyprint on this system",
            )
        import fcntl  # POSIX only, hence here; imported before forking, not in the child

        self._workdir = Path(tempfile.mkdtemp(prefix="pmsync-chromium-"))
        commands_read, self._commands = os.pipe()
        self._replies, replies_write = os.pipe()

        def on_fds_3_and_4() -> None:  # runs in the child between fork and exec
            # Lifted above 9 first, so that placing one end on 3 or 4 cannot overwrite the other.
            read_end = fcntl.fcntl(commands_read, fcntl.F_DUPFD, 10)
            write_end = fcntl.fcntl(replies_write, fcntl.F_DUPFD, 10)
            os.dup2(read_end, 3)
            os.dup2(write_end, 4)

        flags = list(_FLAGS)
        # Chromium refuses to start its sandbox as root; in a container (the Dockerfile sets
        # PMSYNC_CHROMIUM_NO_SANDBOX=1) it cannot, without user namespaces, and the container is the
        # sandbox. The pages are pmsync's own HTML, every request they make refused.
        as_root = hasattr(os, "geteuid") and os.geteuid() == 0
        if as_root or os.environ.get(NO_SANDBOX) == "1":
            flags.append("--no-sandbox")
        # The browser's log goes to a file: a pipe nobody reads would stall it once full.
        self._log = self._workdir / "browser.log"
        try:
            with self._log.open("wb") as log:
                self._process = subprocess.Popen(
                    [browser, *flags, f"--user-data-dir={self._workdir / 'profile'}", "about:blank"],
                    pass_fds=(3, 4, commands_read, replies_write),
                    preexec_fn=on_fds_3_and_4,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=log,
                )
        except OSError as exc:
            os.close(self._commands)
            os.close(self._replies)
            shutil.rmtree(self._workdir, ignore_errors=True)
            raise ReportError(
                f"cannot start {browser!r}: {exc.strerror}", record="reports.pdf_engine", hint=BROWSER_HINT
            ) from None
        finally:
            os.close(commands_read)
            os.close(replies_write)
        self._lock = threading.Lock()
        self._last_id = 0
        self._pending: dict[int, queue.Queue[dict[str, Any]]] = {}
        self._events: dict[str, queue.Queue[dict[str, Any]]] = {}
        self._closed = threading.Event()
        self._reader = threading.Thread(target=self._read_replies, name="chromium-replies", daemon=True)
        self._reader.start()
        self._pages = 0
        self._version: str | None = None
        #: tabs that printed a page and wait for the next one (see :class:`_Tab`)
        self._idle_tabs: list[_Tab] = []

    # -- protocol -------------------------------------------------------------------------------

    def _read_replies(self) -> None:
        # A printed chunk arrives as one message of several MB in pipe-sized blocks (64 KB): the
        # buffer grows in place and only the new block is searched for the end of a message (a
        # bytes buffer copied and re-split on every block cost ~0.1 s of CPU per chunk).
        buffer = bytearray()
        with os.fdopen(self._replies, "rb", buffering=0) as replies:
            while block := replies.read(1 << 20):
                searched = len(buffer)
                buffer += block
                messages = []
                while (end := buffer.find(b"\0", searched)) >= 0:
                    messages.append(bytes(buffer[:end]))
                    del buffer[: end + 1]
                    searched = 0
                for raw in messages:
                    message = json.loads(raw)
                    if "id" in message:
                        waiting = self._pending.pop(message["id"], None)
                        if waiting is not None:
                            waiting.put(message)
                    elif (events := self._events.get(message.get("sessionId", ""))) is not None:
                        events.put(message)
        # The browser is gone: wake everyone still waiting, with an error instead of a reply.
        self._closed.set()
        for waiting in list(self._pending.values()):
            waiting.put({"error": {"message": "the browser exited"}})
        for events in list(self._events.values()):
            events.put({"method": "pmsync.browserExited"})

    def _send(
        self, method: str, params: dict[str, Any] | None = None, session: str | None = None
    ) -> queue.Queue[dict[str, Any]]:
        """Send a command; its reply arrives on the returned queue."""
        answer: queue.Queue[dict[str, Any]] = queue.Queue(maxsize=1)
        with self._lock:
            if self._closed.is_set():
                raise self._died()
            self._last_id += 1
            message: dict[str, Any] = {"id": self._last_id, "method": method, "params": params or {}}
            if session is not None:
                message["sessionId"] = session
            self._pending[self._last_id] = answer
            try:
                os.write(self._commands, json.dumps(message).encode("utf-8") + b"\0")
            except OSError:
                raise self._died() from None
        return answer

    def _result(self, method: str, answer: queue.Queue[dict[str, Any]]) -> Any:
        try:
            reply = answer.get(timeout=PRINT_TIMEOUT)
        except queue.Empty:
            raise ReportError(
                f"the browser did not answer {method} within {PRINT_TIMEOUT:.0f} s", record="PDF"
            ) from None
        if "error" in reply:
            if self._closed.is_set():
                raise self._died()
            raise ReportError(f"the browser refused {method}: {reply['error'].get('message')}", record="PDF")
        return reply.get("result", {})

    def _call(self, method: str, params: dict[str, Any] | None = None, session: str | None = None) -> Any:
        return self._result(method, self._send(method, params, session))

    def _died(self) -> ReportError:
        lines = self._log.read_text("utf-8", "replace").strip().splitlines() if self._log.exists() else []
        detail = f": {lines[-1][:300]}" if lines else ""
        return ReportError(f"the browser printing the PDF exited{detail}", record="PDF", hint=BROWSER_HINT)

    # -- printing -------------------------------------------------------------------------------

    @property
    def version(self) -> str:
        """The browser's product and version, e.g. ``HeadlessChrome/156.0.8078.114`` (for /Creator)."""
        if self._version is None:
            self._version = str(self._call("Browser.getVersion").get("product", "Chromium"))
        return self._version

    def print_html(self, html: str, *, tagged: bool = True) -> bytes:
        """The PDF of one HTML text, as the browser prints it (page size and margins from its CSS).
        ``tagged``: with the structure tree that screen readers use (which a join of several
        documents cannot keep; without it a page prints in about 15 % less time, a quarter the size).

        Printed in an idle tab when there is one (see :class:`_Tab`), else in a new one; a tab
        whose print failed is closed, never reused."""
        with self._lock:
            self._pages += 1
            page_file = self._workdir / f"page-{self._pages}.html"
        page_file.write_text(_print_only(html), encoding="utf-8")
        # taken once the page is written, so that a failure to write it holds no tab
        with self._lock:
            tab = self._idle_tabs.pop() if self._idle_tabs else None
        try:
            if tab is None:
                tab = self._open_tab()
            printed = self._print_in(tab, page_file, tagged=tagged)
        except BaseException:
            if tab is not None:
                self._close_tab(tab)
            raise
        finally:
            page_file.unlink(missing_ok=True)
        with self._lock:
            self._idle_tabs.append(tab)
        return printed

    def _open_tab(self) -> _Tab:
        target = self._call("Target.createTarget", {"url": "about:blank"})["targetId"]
        tab = _Tab(target, "", queue.Queue())
        try:
            tab.session = self._call("Target.attachToTarget", {"targetId": target, "flatten": True})[
                "sessionId"
            ]
            self._events[tab.session] = tab.events
            # Every request the page makes is paused and answered here: the page file itself is
            # let through, anything else (a template pointing at a URL or a local file) refused.
            self._call("Fetch.enable", {"patterns": [{"urlPattern": "*"}]}, session=tab.session)
            # No script runs in any page the tab prints (the shipped template's Content-Security-
            # Policy forbids them; a template override may not): a script left running by one page
            # (a timer loading a file, a navigation away) would act while the tab loads the next.
            self._call("Emulation.setScriptExecutionDisabled", {"value": True}, session=tab.session)
            self._call("Page.enable", session=tab.session)
        except BaseException:
            self._close_tab(tab)
            raise
        return tab

    def _print_in(self, tab: _Tab, page_file: Path, *, tagged: bool) -> bytes:
        # what the previous page of this tab still sent after it was printed is no news for this one
        while not tab.events.empty():
            tab.events.get_nowait()
        # Not waited for: the browser answers only once the navigation's request, paused by
        # Fetch, has been let through by _wait_for_load.
        navigated = self._send("Page.navigate", {"url": page_file.as_uri()}, session=tab.session)
        self._wait_for_load(tab.events, tab.session, page_file.as_uri())
        self._result("Page.navigate", navigated)
        options = {**_PRINT_OPTIONS, "generateTaggedPDF": tagged}
        printed = self._call("Page.printToPDF", options, session=tab.session)
        return base64.b64decode(printed["data"])

    def _close_tab(self, tab: _Tab) -> None:
        self._events.pop(tab.session, None)
        if not self._closed.is_set():
            with contextlib.suppress(ReportError):  # the error that brought us here says more
                self._call("Target.closeTarget", {"targetId": tab.target})

    def _wait_for_load(self, events: queue.Queue[dict[str, Any]], session: str, page_url: str) -> None:
        refused: list[str] = []
        # A load before this page's own request was let through is the previous page's (a tab prints
        # page after page; a template's meta refresh can still navigate it), not this page's.
        let_through = False
        while True:
            try:
                event = events.get(timeout=PRINT_TIMEOUT)
            except queue.Empty:
                raise ReportError(
                    f"the page did not load within {PRINT_TIMEOUT:.0f} s", record="PDF"
                ) from None
            method = event.get("method")
            if method == "Fetch.requestPaused":
                request = event["params"]
                if request["request"]["url"] == page_url:
                    self._call("Fetch.continueRequest", {"requestId": request["requestId"]}, session=session)
                    let_through = True
                else:
                    refused.append(request["request"]["url"])
                    self._call(
                        "Fetch.failRequest",
                        {"requestId": request["requestId"], "errorReason": "BlockedByClient"},
                        session=session,
                    )
            elif method == "Page.loadEventFired" and let_through:
                if refused:
                    raise ReportError(
                        f"the report tried to load {refused[0][:200]!r}; reports must be self-contained",
                        record="PDF",
                    )
                return
            elif method == "pmsync.browserExited":
                raise self._died()

    # -- lifecycle ------------------------------------------------------------------------------

    def close(self) -> None:
        try:
            if not self._closed.is_set():
                self._call("Browser.close")
            self._process.wait(timeout=30)
        except (ReportError, subprocess.TimeoutExpired):
            self._process.kill()
            self._process.wait()
        finally:
            os.close(self._commands)
            shutil.rmtree(self._workdir, ignore_errors=True)

    def __enter__(self) -> ChromiumPrinter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
