"""Independent pieces of a run on the machine's cores: forked worker processes that inherit the
loaded problems (nothing is pickled on the way in) and send back their results.

Knows nothing about checking: `each(work, tasks, jobs)` yields (task, result) as results come;
a task whose worker died is yielded with None, for the caller to do itself. On a platform
without fork, or with one job, nothing is started.
"""

from __future__ import annotations

import os
import sys

MAX_JOBS = 8


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:          # not Linux
        return os.cpu_count() or 1


def available() -> bool:
    import multiprocessing as mp
    # fork is what makes a worker cheap (no re-import, no pickled problems); elsewhere it is
    # unsafe (macOS) or missing (Windows), and the run stays in this process
    return sys.platform.startswith("linux") and "fork" in mp.get_all_start_methods()


_work = None       # the function the forked workers run, set before they start


def _run(task):
    return _work(task)


def each(work, tasks: list, jobs: int):
    """(task, work(task)) for every task, in the order they finish, on up to `jobs` forked
    workers; (task, None) for the tasks a worker died on or whose result could not be sent
    back. Tasks come first-given first. Interrupted (Ctrl-C) or left early, the workers are
    stopped at once, not waited for."""
    global _work
    import multiprocessing as mp
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool
    _work = work
    pool = ProcessPoolExecutor(max_workers=jobs, mp_context=mp.get_context("fork"))
    try:
        pending = {pool.submit(_run, t): t for t in tasks}
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                task = pending.pop(future)
                try:
                    result = future.result()
                except BrokenProcessPool:
                    result = None
                except Exception:      # noqa: BLE001 — a result that did not pickle: the
                    result = None      # caller does that task itself
                yield task, result
    except BaseException:
        _stop(pool)
        raise
    else:
        pool.shutdown(wait=True)
    finally:
        _work = None


def _stop(pool) -> None:
    processes = list((getattr(pool, "_processes", None) or {}).values())
    for process in processes:          # before shutdown, which forgets them
        process.terminate()
    pool.shutdown(wait=False, cancel_futures=True)
