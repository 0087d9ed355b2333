"""A derivative curve (deriv.plot.Curve) as a text plot for the terminal.

Dots for the derivative, ┊ and a numbered ▲ under each jump or kink, then the list of
kinks (location, symbolic where it is linear in the varying input) and of pieces (value or
slope). Data in, rich Text out.
"""

from __future__ import annotations

import math

import numpy as np
from rich.console import Group
from rich.text import Text

from deriv.names import partial, pretty
from deriv.parse import dref_of
from deriv.render.notation import number, text as math_text

WIDTH = 64
HEIGHT = 15


def kink_label(curve, kink) -> str:
    d = curve.problem.display
    where = f"{pretty(curve.over, d)} = "
    if kink.location is not None and not kink.location.is_Number:
        where += f"{math_text(kink.location, d)} = "
    where += number(round(kink.x, 10))
    if kink.kind == "jump":
        return f"jump at {where}: from {number(kink.left)} to {number(kink.right)}"
    return (f"kink at {where}: slope {number(kink.slope_left)} → {number(kink.slope_right)}")


def piece_label(curve, piece) -> str:
    d = curve.problem.display
    x = pretty(curve.over, d)
    lo = "[" if piece.lo == curve.lo else "("
    hi = "]" if piece.hi == curve.hi else ")"
    span = f"{x} ∈ {lo}{number(round(piece.lo, 10))}, {number(round(piece.hi, 10))}{hi}"
    return f"{span}: {describe_piece(piece)}"


def title(curve) -> str:
    d = curve.problem.display
    return (f"{partial(curve.of, curve.wrt, d)} as a function of {pretty(curve.over, d)} "
            f"on [{number(curve.lo)}, {number(curve.hi)}]")


def held(curve) -> str:
    d = curve.problem.display
    return ", ".join(f"{pretty(k, d)} = {number(v)}" for k, v in curve.held.items())


def plot(curve, width: int = WIDTH, height: int = HEIGHT) -> Group:
    d = curve.problem.display
    out: list = []
    head = Text()
    head.append(curve.problem.id, style="bold cyan")
    head.append("  " + title(curve), style="bold")
    out.append(head)
    if curve.held:
        out.append(Text(f"held:   {held(curve)}   ({curve.point_source})", style="dim"))
    if curve.expr.is_Symbol and dref_of(curve.expr) is not None:     # a large graph's
        out.append(Text(f"        {partial(curve.of, curve.wrt, d)}, from the adjoint program "
                        f"of its {len(curve.problem.graph.order)} nodes (`deriv solve` writes "
                        "its formula)"))
    else:
        out.append(Text(f"        {partial(curve.of, curve.wrt, d)} = {math_text(curve.expr, d)}"
                        + (f" = {math_text(curve.inlined, d)}" if curve.inlined != curve.expr
                           else "")))
    out.append(Text(""))

    xs = np.concatenate([p.xs for p in curve.pieces]) if curve.pieces else curve.xs
    ys = np.concatenate([p.ys for p in curve.pieces]) if curve.pieces else curve.ys
    finite = np.isfinite(ys)
    if finite.any():
        y_lo, y_hi = float(np.min(ys[finite])), float(np.max(ys[finite]))
    else:
        y_lo, y_hi = -1.0, 1.0
    if y_hi - y_lo < 1e-12 * (1 + abs(y_hi)):
        pad = max(1.0, abs(y_hi) * 0.5)
        y_lo, y_hi = y_lo - pad, y_hi + pad
    else:
        pad = 0.08 * (y_hi - y_lo)
        y_lo, y_hi = y_lo - pad, y_hi + pad

    def col(x: float) -> int:
        return min(width - 1, max(0, int((x - curve.lo) / (curve.hi - curve.lo) * width)))

    def row(y: float) -> int:
        return min(height - 1, max(0, int(round((y_hi - y) / (y_hi - y_lo) * (height - 1)))))

    grid = [[" "] * width for _ in range(height)]
    zero = row(0.0) if y_lo <= 0 <= y_hi else None
    if zero is not None:
        for c in range(width):
            grid[zero][c] = "·"
    kink_cols = {col(k.x): i + 1 for i, k in enumerate(curve.kinks)}
    for c in kink_cols:
        for r in range(height):
            grid[r][c] = "┊"
    for x, y in zip(xs, ys):
        if math.isfinite(y):
            grid[row(float(y))][col(float(x))] = "•"

    labels = {0: number(round(y_hi, 4)), height - 1: number(round(y_lo, 4))}
    if zero is not None and zero not in labels:
        labels[zero] = "0"
    margin = max(len(v) for v in labels.values()) + 1
    for r in range(height):
        line = Text(labels.get(r, "").rjust(margin) + " ┤ " if r in labels
                    else " " * margin + " │ ", style="dim")
        for ch in grid[r]:
            line.append(ch, style="bold" if ch == "•" else ("yellow" if ch == "┊" else "dim"))
        out.append(line)
    out.append(Text(" " * margin + " └─" + "─" * width, style="dim"))
    marks = [" "] * width
    for c in kink_cols:
        marks[c] = "▲"
    if kink_cols:
        out.append(Text(" " * (margin + 3) + "".join(marks).rstrip(), style="yellow"))
    numbers = [" "] * (width + 4)
    for c, i in kink_cols.items():
        for j, ch in enumerate(str(i)):
            if c + j < len(numbers):
                numbers[c + j] = ch
    lo_text, hi_text = number(curve.lo), number(curve.hi)
    axis = list(" " * (width + 4))
    axis[: len(lo_text)] = lo_text
    axis[width - len(hi_text): width] = hi_text
    label = pretty(curve.over, d)
    mid = width // 2 - len(label) // 2
    axis[mid: mid + len(label)] = label
    if kink_cols:
        out.append(Text(" " * (margin + 3) + "".join(numbers).rstrip(), style="yellow"))
    out.append(Text(" " * (margin + 3) + "".join(axis).rstrip(), style="dim"))

    out.append(Text(""))
    if curve.kinks:
        out.append(Text("Jumps and kinks", style="bold underline"))
        for i, k in enumerate(curve.kinks, start=1):
            out.append(Text(f"  {i}  {kink_label(curve, k)}"))
    else:
        out.append(Text("No jumps or kinks on this interval.", style="bold"))
    out.append(Text("Pieces", style="bold underline"))
    for piece in curve.pieces:
        out.append(Text(f"     {piece_label(curve, piece)}"))
    return Group(*out)


def describe_piece(piece: Piece) -> str:
    if piece.kind == "constant":
        return f"value {number(piece.value)}"
    if piece.kind == "linear":
        return f"slope {number(piece.slope)}"
    if piece.kind == "curved":
        return f"curved, between {number(piece.low)} and {number(piece.high)}"   # (its range)
    return "undefined"
