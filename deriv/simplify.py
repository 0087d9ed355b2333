"""Simplification with a bound on its cost: a pathological expression comes back unsimplified."""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager

import sympy as sp

MAX_OPS = 400


class TimedOut(Exception):
    pass


@contextmanager
def time_limit(seconds: float):
    """Raise TimedOut after `seconds` (main thread only; elsewhere it just runs)."""
    if (threading.current_thread() is not threading.main_thread() or seconds <= 0
            or not hasattr(signal, "setitimer")):  # Windows: no interval timer, no limit
        yield
        return

    def on_alarm(signum, frame):
        raise TimedOut()

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def tidy(expr: sp.Expr, seconds: float = 2.0) -> sp.Expr:
    """A readable form of `expr`: SymPy's simplify if it finishes in time, else `expr`."""
    if sp.count_ops(expr) > MAX_OPS:
        return expr
    candidates = [expr]
    try:
        with time_limit(seconds):
            candidates.append(sp.factor(expr))  # (2f₁ + 1)(exp f₃ + cos f₃), as documents write
            candidates.append(sp.simplify(expr))
    except (TimedOut, RecursionError, sp.PolynomialError):
        pass
    return min(candidates, key=sp.count_ops)  # the first of the shortest: keeps expr on ties
