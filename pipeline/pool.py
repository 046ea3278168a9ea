"""The process pool the build's parallel passes share: decontamination's per-task pieces and the parts of a
source whose raw files convert apart (pipeline.build). Results come back in the order of the pieces, so that
what is written never depends on how many processes ran."""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor


def default_workers() -> int:
    """The cores this process may use; 1 inside a daemonic process, which may not start children."""
    if multiprocessing.current_process().daemon:
        return 1
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


class Runner:
    """Runs the pieces of a pass in this process (1 worker) or in a pool of spawned processes; results
    come back in the order of the pieces, so that the output does not depend on the number of workers.
    Spawned, not forked: the caller may hold threads (Prefect, tqdm) that a fork would copy."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> Runner:
        if self.workers > 1:
            context = multiprocessing.get_context("spawn")
            self.pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=context)
        return self

    def __exit__(self, kind, error, traceback) -> None:
        if self.pool is None:
            return
        if kind is not None:
            # A piece failed or the caller was interrupted: the pieces still running (a converter part may take
            # many minutes) are stopped rather than waited for, and write nothing more. The executor has no
            # public way to stop its workers before Python 3.14 (terminate_workers).
            for process in list((getattr(self.pool, "_processes", None) or {}).values()):
                process.terminate()
        self.pool.shutdown(wait=True, cancel_futures=True)

    def map(self, fn, pieces: list[tuple]) -> Iterator:
        """fn(*piece) for each piece, in order."""
        if self.pool is None:
            return (fn(*piece) for piece in pieces)
        return self._ordered(fn, pieces)

    def _ordered(self, fn, pieces: list[tuple]) -> Iterator:
        # at most a few pieces ahead of the one consumed: results wait in memory until their turn
        ahead = 4 * self.workers
        futures = deque(self.pool.submit(fn, *piece) for piece in pieces[:ahead])
        following = iter(pieces[ahead:])
        try:
            while futures:
                result = futures.popleft().result()
                nxt = next(following, None)
                if nxt is not None:
                    futures.append(self.pool.submit(fn, *nxt))
                yield result
        finally:
            for future in futures:
                future.cancel()
