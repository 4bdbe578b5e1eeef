"""Running expressions under a deadline: long-lived worker processes, killed when one overruns.

The CEL library has no cost limit, and its Rust core holds the GIL while a program runs, so a
thread cannot time it out: a nested comprehension over a long list could stall a CI job for
hours. Expressions therefore run in a small pool of worker processes that live as long as the
caller. A caller hands a worker one request (plain picklable values: expression sources and the
facts as JSON values), the worker runs `handler(request, started)` and sends back one list of
results; `started(i)` writes the index of the task it begins into memory the parent reads. The
parent wakes every quarter budget: a task index that stays the same for `budget` seconds gets the
worker killed (and replaced on the next request) and BudgetExceededError naming that task.

Workers are forked only from a single-threaded parent (the CLI: a fork costs a few ms and
inherits the imported engine). A multi-threaded parent (the service) starts them through the
'forkserver' (or, without fork, 'spawn') context: forking a process whose other threads may hold
locks would leave those locks held in the child. Each request holds one worker, so any number of
threads can evaluate at once; at most `_POOL_SIZE` workers exist, further callers wait for one.
"""

from __future__ import annotations

import atexit
import contextlib
import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from multiprocessing.sharedctypes import Synchronized
from typing import Any

DEFAULT_BUDGET_S = 2.0
"""Seconds each rule's expression may run, at load time (the type probe) and in evaluation."""

_POOL_SIZE = max(1, min(4, os.cpu_count() or 1))
_NOT_STARTED = -1

Handler = Callable[[Any, Callable[[int], None]], list[Any]]
"""Runs a request's tasks in the worker; calls `started(i)` before task i; returns the results."""


class BudgetExceededError(Exception):
    """Task `index` did not finish within `budget` seconds."""

    def __init__(self, index: int, budget: float) -> None:
        super().__init__(f"task {index} ran longer than {budget:g} s")
        self.index = index
        self.budget = budget


def _serve(handler: Handler, requests: Connection, current: Synchronized[int]) -> None:
    """The worker's loop: one request in, one list of results out, until the parent goes."""

    def started(index: int) -> None:
        current.value = index

    while True:
        try:
            request = requests.recv()
        except (EOFError, OSError):  # the parent closed the pipe or exited
            return
        current.value = _NOT_STARTED
        requests.send(handler(request, started))


class _Worker:
    """One worker process, its pipe and the index of the task it runs."""

    def __init__(self, handler: Handler) -> None:
        method = _start_method()
        context: Any = multiprocessing.get_context(method)
        if method == "forkserver":  # the server imports the handler's module, not `__main__`
            context.set_forkserver_preload([handler.__module__])
        self.current: Synchronized[int] = context.RawValue("l", _NOT_STARTED)
        self.pipe, child = context.Pipe()
        self.process: BaseProcess = context.Process(
            target=_serve, args=(handler, child, self.current), daemon=True
        )
        self.process.start()
        child.close()

    def run(self, request: Any, budget: float) -> list[Any]:
        self.current.value = _NOT_STARTED
        self.pipe.send(request)
        seen, since = _NOT_STARTED, time.monotonic()
        while not self.pipe.poll(budget / 4):
            index, now = self.current.value, time.monotonic()
            if index != seen:
                seen, since = index, now
            elif index != _NOT_STARTED and now - since >= budget:
                raise BudgetExceededError(index, budget)
        try:
            results: list[Any] = self.pipe.recv()
        except EOFError as error:  # the worker died (out of memory, a signal)
            raise BudgetExceededError(max(self.current.value, 0), budget) from error
        return results

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self.pipe.close()
        self.process.kill()
        self.process.join()


def _start_method() -> str:
    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and threading.active_count() == 1:
        return "fork"
    return "forkserver" if "forkserver" in methods else "spawn"


class _Pool:
    """Idle workers per handler; a worker that overran or failed is stopped, not returned."""

    def __init__(self) -> None:
        self._idle: dict[Handler, list[_Worker]] = {}
        self._all: set[_Worker] = set()
        self._free = threading.Condition()

    def run(self, handler: Handler, request: Any, budget: float) -> list[Any]:
        worker = self._take(handler)
        healthy = False
        try:
            results = worker.run(request, budget)
            healthy = True
            return results
        finally:
            self._give_back(handler, worker, healthy)

    def _take(self, handler: Handler) -> _Worker:
        with self._free:
            while True:
                idle = self._idle.setdefault(handler, [])
                if idle:
                    return idle.pop()
                if len(self._all) < _POOL_SIZE:
                    break
                if self._evict_idle():
                    continue
                self._free.wait()
            worker = _Worker(handler)
            self._all.add(worker)
            return worker

    def _evict_idle(self) -> bool:
        """Stops one idle worker of another handler to make room; False when none is idle."""
        for workers in self._idle.values():
            if workers:
                self._discard(workers.pop())
                return True
        return False

    def _give_back(self, handler: Handler, worker: _Worker, healthy: bool) -> None:
        with self._free:
            if healthy:
                self._idle.setdefault(handler, []).append(worker)
            else:
                self._discard(worker)
            self._free.notify()

    def _discard(self, worker: _Worker) -> None:
        self._all.discard(worker)
        worker.stop()

    def pids(self) -> list[int]:
        """The process ids of the live workers."""
        with self._free:
            return [w.process.pid for w in self._all if w.process.pid is not None]

    def close(self) -> None:
        """Stops every worker (at exit: none outlives the caller)."""
        with self._free:
            for worker in list(self._all):
                self._discard(worker)
            self._idle.clear()


_pool = _Pool()
atexit.register(_pool.close)


def run_tasks(handler: Handler, request: Any, budget: float) -> list[Any]:
    """`handler`'s results for `request`, computed in a worker; BudgetExceededError names the
    first task that ran longer than `budget` seconds (the worker is killed).

    `handler` is a module-level function (it is pickled by reference), `request` plain values;
    the handler catches its tasks' exceptions and returns picklable values."""
    return _pool.run(handler, request, budget)


def worker_pids() -> list[int]:
    """The process ids of the live workers (for tests: none may outlive its caller)."""
    return _pool.pids()
