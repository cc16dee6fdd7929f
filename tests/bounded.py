"""Run code that hostile input could make hang or blow up in a forked process with a time limit,
so that a lost guard fails its test instead of stopping the suite."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from typing import Any, NamedTuple

import pytest


class Outcome(NamedTuple):
    raised: str | None  # the exception's class name; None when the function returned
    message: str
    value: Any = None


GUARD_SECONDS = 3.0


def bounded(function: Callable[[], Any], seconds: float = GUARD_SECONDS) -> Outcome:
    """Run `function` in a forked process and report what it did. Should the guard under test
    be lost, the hang (or the gigabytes) stays in that process, which is killed: this test fails
    and the suite goes on. A thread could not be stopped, and an alarm signal waits for C code
    (a regex match) to return."""
    if "fork" not in multiprocessing.get_all_start_methods():
        pytest.skip("needs fork to bound the time of the code under test")
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)

    def run() -> None:
        try:
            result: tuple[Any, ...] = (None, "", function())
        except BaseException as exc:  # noqa: BLE001 - whatever it is, the parent reports it
            result = (type(exc).__name__, str(exc), None)
        send.send(result)

    child = context.Process(target=run, daemon=True)
    child.start()
    send.close()
    try:
        if not receive.poll(seconds):
            pytest.fail(f"still running after {seconds} s: a hostile input is not bounded")
        try:
            return Outcome(*receive.recv())
        except EOFError:
            child.join()
            pytest.fail(f"the process died without an answer (exit code {child.exitcode})")
    finally:
        child.kill()
        child.join()
