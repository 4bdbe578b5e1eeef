"""Running expressions under a deadline: a worker process that is killed when one overruns.

The CEL library has no cost limit, and its Rust core holds the GIL while a program runs, so a
thread cannot time it out: a nested comprehension over a long list could stall a CI job for
hours. The programs of one evaluation (or one load-time probe) run in one forked worker, which
reports after each program; the parent waits at most `budget` seconds for each report and kills
the worker when one does not come. A fork costs ~3 ms and shares the compiled programs and the
activation without pickling them. Where fork is not available the programs run in the process.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection
from typing import Any

DEFAULT_BUDGET_S = 2.0
"""Seconds each rule's expression may run, at load time (the type probe) and in evaluation."""


class BudgetExceededError(Exception):
    """Task `index` did not finish within `budget` seconds."""

    def __init__(self, index: int, budget: float) -> None:
        super().__init__(f"task {index} ran longer than {budget:g} s")
        self.index = index
        self.budget = budget


def _work(tasks: Sequence[Callable[[], Any]], out: Connection) -> None:
    for task in tasks:
        out.send(task())


def run_tasks(tasks: Sequence[Callable[[], Any]], budget: float) -> list[Any]:
    """Each task's return value, computed in a worker; BudgetExceededError names the first
    task that overran.

    Tasks catch their own exceptions and return picklable values (an error as its message)."""
    if not tasks:
        return []
    if not hasattr(os, "fork"):  # pragma: no cover - Windows: no deadline, as before
        return [task() for task in tasks]
    receive, send = multiprocessing.Pipe(duplex=False)
    pid = os.fork()
    if pid == 0:  # the worker: never returns into the caller's code
        status = 0
        try:
            receive.close()
            _work(tasks, send)
        except BaseException:  # a worker reports by its exit status only
            status = 1
        finally:
            os._exit(status)
    send.close()
    results: list[Any] = []
    try:
        for index in range(len(tasks)):
            if not receive.poll(budget):
                raise BudgetExceededError(index, budget)
            try:
                results.append(receive.recv())
            except EOFError as error:  # the worker died (out of memory, a signal)
                raise BudgetExceededError(index, budget) from error
    finally:
        receive.close()
        if len(results) < len(tasks):
            _kill(pid)
        os.waitpid(pid, 0)
    return results


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):  # it had just exited
        os.kill(pid, signal.SIGKILL)
