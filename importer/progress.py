"""What long work shows while it goes, on standard error: on a terminal a live display that fits
its width (redrawn in place with rich, erased when the work ends); elsewhere (a log file, a CI
job) a plain line every LOG_EVERY seconds; nothing with `-q`. Colours only on a terminal, and
never with NO_COLOR set (https://no-color.org).

rich is imported only when a live display is drawn, so that `--help` stays fast. The display
runs no thread of its own: it redraws when the work reports progress, at most every REDRAW_EVERY
seconds (a thread would also make the dry run's worker processes start by spawn, not fork).
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Self, TextIO

if TYPE_CHECKING:
    from rich.console import Console, ConsoleOptions, RenderResult
    from rich.live import Live
    from rich.text import Text

    from .readers import Table
    from .sending import SubmitStats

LOG_EVERY = 5.0  # seconds between plain progress lines when standard error is not a terminal
REDRAW_EVERY = 0.1  # seconds between redraws of the live display
RATE_WINDOW = 30.0  # seconds of recent work that the rate and the ETA are drawn from
MIN_BAR, MAX_BAR = 10, 40  # a bar narrower than MIN_BAR says nothing: left out when narrow
_SEPARATOR = "  "

# A line of the display: its pieces in order, each with a rank. When the terminal is narrow the
# pieces of the highest rank are left out first; rank 0 is always shown.
Line = list[tuple[int, "Text"]]


def is_terminal(stream: TextIO) -> bool:
    """Whether `stream` is a terminal that can redraw a line (not TERM=dumb)."""
    try:
        return stream.isatty() and os.environ.get("TERM") != "dumb"
    except (AttributeError, ValueError):  # no file behind it, or closed
        return False


def colours_on(stream: TextIO) -> bool:
    """The one rule for colour: only on a terminal, never with NO_COLOR set (to anything)."""
    return is_terminal(stream) and not os.environ.get("NO_COLOR")


def plain_duration(seconds: float) -> str:
    """`45s`, `3m 05s`, `2h 07m`: an ETA as people read it."""
    whole = max(int(round(seconds)), 0)
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m {whole % 60:02d}s"
    return f"{whole // 3600}h {whole % 3600 // 60:02d}m"


class _Display:
    """Progress of one piece of work: how it is shown (live, logged or not at all), and the
    rate and ETA drawn from recent work. Subclasses say what the display holds (`lines`)."""

    def __init__(self, label: str, quiet: bool, stream: TextIO | None = None) -> None:
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.mode = "off" if quiet else "live" if is_terminal(self.stream) else "log"
        self.started = time.monotonic()
        self.done_count = 0
        self.total: int | None = None
        self.estimated = False  # the total is an estimate (a CSV's, from its bytes)
        self._recent: deque[tuple[float, int]] = deque()
        self._drawn_at = 0.0
        self._logged_at = self.started
        self._live: Live | None = None

    # --- what the subclasses say ------------------------------------------------------------

    def lines(self, colour: bool) -> list[Line]:
        """What the display holds; the first line gets the bar."""
        raise NotImplementedError

    def _measure(self) -> None:
        """Bring the total up to date just before it is shown (it may cost a system call)."""

    def _advance(self, done: int) -> None:
        now = time.monotonic()
        self.done_count = done
        if not self._recent or now - self._recent[-1][0] >= 0.25:
            self._recent.append((now, done))
            while len(self._recent) > 2 and now - self._recent[0][0] > RATE_WINDOW:
                self._recent.popleft()
        if self.mode == "live" and now - self._drawn_at >= REDRAW_EVERY:
            self._drawn_at = now
            self._measure()
            self._draw()
        elif self.mode == "log" and now - self._logged_at >= LOG_EVERY:
            self._logged_at = now
            self._measure()
            self._log()

    # --- the pieces every display shows ----------------------------------------------------

    def counted(self, noun: str = "rows") -> str:
        """`1,234/5,000 rows`, `1,234/~5,000 rows` for an estimate, `1,234 rows` unknown."""
        if not self.total:
            return f"{self.done_count:,} {noun}"
        about = "~" if self.estimated else ""
        return f"{self.done_count:,}/{about}{max(self.total, self.done_count):,} {noun}"

    def rate(self) -> float | None:
        """Rows done per second over the last RATE_WINDOW seconds; None until it is known."""
        now = time.monotonic()
        since, then = self._recent[0] if self._recent else (self.started, 0)
        if now - since < 1.0 or self.done_count <= then:
            return None
        return (self.done_count - then) / (now - since)

    def eta(self) -> float | None:
        rate = self.rate()
        if rate is None or not self.total:
            return None
        return max(self.total - self.done_count, 0) / rate

    def rate_piece(self) -> Line:
        rate = self.rate()
        return [] if rate is None else [(2, _text(f"{rate:,.0f} rows/s"))]

    def eta_piece(self) -> Line:
        eta = self.eta()
        return [] if eta is None else [(1, _text(f"ETA {plain_duration(eta)}"))]

    # --- showing -----------------------------------------------------------------------------

    def _log(self) -> None:
        text = ", ".join(piece.plain for line in self.lines(colour=False) for _, piece in line)
        try:
            print(time.strftime("%H:%M:%S ") + text, file=self.stream, flush=True)
        except (BrokenPipeError, ValueError):  # standard error closed: show nothing more
            self.mode = "off"

    def _draw(self) -> None:
        try:
            if self._live is None:
                self._live = _start_live(self, self.stream)
            else:
                self._live.refresh()
        except (BrokenPipeError, ValueError):
            self.mode = "off"

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        colour = not console.no_color
        # One column short of the width: a line as wide as the terminal leaves some terminals
        # on the next line, and the next redraw would leave a copy behind.
        width = options.max_width - 1
        for index, line in enumerate(self.lines(colour)):
            bar = self._bar(colour, options.ascii_only) if index == 0 else None
            yield fit_line(line, width, bar)

    def _bar(self, colour: bool, ascii_only: bool) -> Callable[[int], Text] | None:
        """The bar, drawn `width` cells wide; None when the total is not known."""
        if not self.total:
            return None
        share = min(self.done_count / self.total, 1.0)

        def draw(width: int) -> Text:
            filled = int(width * share)
            full, empty = ("#", "-") if ascii_only else ("━", "─")
            bar = _text(full * filled, "green" if colour else "")
            bar.append(empty * (width - filled), style="bright_black" if colour else "")
            return bar

        return draw

    def done(self) -> None:
        """Take the live display away, for a summary or a question; more progress (the rest of
        a canary run) brings it back."""
        if self._live is not None:
            live, self._live = self._live, None
            with contextlib.suppress(BrokenPipeError, ValueError):  # standard error closed
                live.stop()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.done()


def _start_live(display: _Display, stream: TextIO) -> Live:
    from rich.console import Console
    from rich.live import Live

    colour = colours_on(stream)
    console = Console(
        file=stream,
        force_terminal=True,
        color_system="auto" if colour else None,
        no_color=not colour,
        highlight=False,
        markup=False,
    )
    live = Live(
        display,
        console=console,
        auto_refresh=False,
        transient=True,
        redirect_stdout=False,
        redirect_stderr=False,
    )
    live.start(refresh=True)
    return live


def fit_line(line: Line, width: int, bar: Callable[[int], Text] | None = None) -> Text:
    """The pieces of `line` that fit in `width` cells, the highest rank left out first, with a
    bar after the first piece when there is room for one."""
    kept = list(line)

    def length(pieces: Line) -> int:
        return sum(p.cell_len for _, p in pieces) + len(_SEPARATOR) * max(len(pieces) - 1, 0)

    while length(kept) > width and any(rank for rank, _ in kept):
        worst = max(rank for rank, _ in kept)
        del kept[max(i for i, (rank, _) in enumerate(kept) if rank == worst)]
    fitted = _text("")
    fitted.no_wrap, fitted.overflow = True, "crop"
    room = width - length(kept) - len(_SEPARATOR)
    for index, (_, piece) in enumerate(kept):
        if index:
            fitted.append(_SEPARATOR)
        fitted.append_text(piece)
        if index == 0 and bar is not None and room >= MIN_BAR:
            fitted.append(_SEPARATOR)
            fitted.append_text(bar(min(room, MAX_BAR)))
    fitted.truncate(width)
    return fitted


def _text(content: str, style: str = "") -> Text:
    from rich.text import Text

    return Text(content, style=style)


class ValidationProgress(_Display):
    """The dry run: rows checked of the file's rows, rate and ETA. The total is the sheet's for
    a workbook; for a CSV it is estimated from the bytes read so far, and shown with `~`."""

    def __init__(self, quiet: bool, stream: TextIO | None = None) -> None:
        super().__init__("Validating", quiet, stream)
        self.table: Table | None = None

    def opened(self, table: Table) -> None:
        """The input is open: from now on its size gives the total."""
        self.table = table
        self.estimated = table.sheet is None

    def __call__(self, count: int) -> None:
        if self.mode != "off":
            self._advance(count)

    def _measure(self) -> None:
        if self.table is not None:
            self.total = self.table.expected_rows()

    def lines(self, colour: bool) -> list[Line]:
        label = _text(self.label, "bold" if colour else "")
        return [[(0, label), (0, _text(self.counted())), *self.rate_piece(), *self.eta_piece()]]


class SendingProgress(_Display):
    """Sending: rows settled of the file's rows and the ETA on one line; requests sent,
    created, failed (skipped and retries when any) and the rate on the next."""

    def __init__(self, quiet: bool, stream: TextIO | None = None) -> None:
        super().__init__("Sending", quiet, stream)
        self.stats: SubmitStats | None = None
        self.running = False

    def start(self, total: int) -> None:
        """Sending begins now, for `total` rows (the invalid ones are settled without sending)."""
        self.total, self.started, self.running = max(total, 1), time.monotonic(), True
        self._recent.clear()
        self._logged_at = self.started

    def __call__(self, stats: SubmitStats) -> None:
        if self.mode != "off" and self.running:
            self.stats = stats
            self._advance(sum(stats.by_status.values()))

    def lines(self, colour: bool) -> list[Line]:
        stats = self.stats
        counts = stats.by_status if stats is not None else None
        created = counts["created"] if counts else 0
        failed = counts["failed"] if counts else 0
        skipped = counts["skipped"] if counts else 0
        retries = stats.retries if stats is not None else 0
        label = _text(self.label, "bold" if colour else "")
        outcomes: Line = [
            (0, _text(f"sent {stats.sent if stats is not None else 0:,}")),
            (0, _text(f"created {created:,}", "green" if colour and created else "")),
            (0, _text(f"failed {failed:,}", "red" if colour and failed else "")),
        ]
        if skipped:
            outcomes.append((3, _text(f"skipped {skipped:,}")))
        if retries:
            outcomes.append((3, _text(f"retries {retries:,}")))
        return [
            [(0, label), (0, _text(self.counted())), *self.eta_piece()],
            [*outcomes, *self.rate_piece()],
        ]
