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


def _factor_outside(expr: sp.Expr) -> sp.Expr:
    """Factor with every function application held opaque, so exp(a + b) is not split into
    exp(a)·exp(b) and arguments stay as written."""
    hidden: dict[sp.Expr, sp.Dummy] = {}

    def hide(e):
        if isinstance(e, sp.Function):
            return hidden.setdefault(e, sp.Dummy())
        return e.func(*(hide(a) for a in e.args)) if e.args else e

    return sp.factor(hide(expr)).xreplace({d: e for e, d in hidden.items()})


def tidy(expr: sp.Expr, seconds: float = 2.0) -> sp.Expr:
    """A readable form of `expr`: factored if that is no longer and finishes in time."""
    if sp.count_ops(expr) > MAX_OPS:
        return expr
    best = expr
    try:
        with time_limit(seconds):
            factored = _factor_outside(expr)  # (2f₁ + 1)(exp f₃ + cos f₃), as documents write
            if sp.count_ops(factored) <= sp.count_ops(best):
                best = factored
            # (SymPy's simplify is not tried: its trig passes cost seconds on these sums and
            # merge exp(f₃)·exp(x) into exp(f₃ + x), mixing nodes and inputs)
    except (TimedOut, RecursionError, sp.PolynomialError):
        pass
    return best
