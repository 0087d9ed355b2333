"""A derivative curve (deriv.plot.Curve) as a matplotlib figure (the optional `plot` extra).

Each piece is drawn on its own, so a jump is a gap, not a vertical line; every jump and kink is
marked with a dashed line and labelled with its location, jumps with open circles at both
one-sided limits, and each piece with its value or slope. The Figure is built without pyplot,
so nothing global (backend, open figures) is touched.
"""

from __future__ import annotations

from pathlib import Path

from deriv.errors import DerivError
from deriv.render.textplot import held, title

FORMATS = ("png", "svg", "pdf")
LINE = "#1f5fbf"
MARK = "#c0282d"


def _matplotlib():
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise DerivError("drawing a plot to a file needs matplotlib: "
                         "pip install 'deriv[plot]' (or pip install matplotlib); "
                         "without -o, `deriv plot` draws in the terminal") from None
    return Figure


def figure(curve, width: float = 7.0):
    from deriv.names import partial, pretty
    from deriv.render.notation import number
    from deriv.render.textplot import describe_piece, kink_label

    Figure = _matplotlib()
    d = curve.problem.display
    notes = [f"{i}  {kink_label(curve, k)}" for i, k in enumerate(curve.kinks, start=1)]
    fixed = held(curve)
    if fixed:
        if len(fixed) > 120:
            cut = fixed.rfind(", ", 0, 120)
            fixed = fixed[:cut + 1] + "\n        " + fixed[cut + 2:]
        notes.append(f"held at {fixed}")
    lines = sum(n.count("\n") + 1 for n in notes)
    plot_h, top_h, bottom_h = 2.8, (0.75 if curve.kinks else 0.4), 0.55 + 0.17 * lines
    height = plot_h + top_h + bottom_h
    fig = Figure(figsize=(width, height), dpi=100)
    fig.subplots_adjust(left=0.1, right=0.97, top=1 - top_h / height, bottom=bottom_h / height)
    ax = fig.add_subplot(1, 1, 1)
    for piece in curve.pieces:
        ax.plot(piece.xs, piece.ys, color=LINE, linewidth=2, solid_capstyle="butt")
    ys = [y for p in curve.pieces for y in p.ys if y == y and abs(y) != float("inf")]
    y_lo, y_hi = (min(ys), max(ys)) if ys else (-1.0, 1.0)
    if y_hi - y_lo < 1e-12 * (1 + abs(y_hi)):
        pad = max(1.0, abs(y_hi) * 0.5)
    else:
        pad = 0.15 * (y_hi - y_lo)
    ax.set_ylim(y_lo - pad, y_hi + pad)
    ax.set_xlim(curve.lo, curve.hi)
    ax.axhline(0, color="#999999", linewidth=0.8, zorder=0)
    ax.grid(True, color="#eeeeee", linewidth=0.6)

    # every jump and kink: a dashed line, its number and location on the top axis
    for k in curve.kinks:
        ax.axvline(k.x, color=MARK, linestyle="--", linewidth=1)
        if k.kind == "jump":
            ax.plot([k.x, k.x], [k.left, k.right], linestyle="none", marker="o", markersize=6,
                    markerfacecolor="white", markeredgecolor=LINE, zorder=3)
    if curve.kinks:
        top = ax.secondary_xaxis("top")
        top.set_xticks([k.x for k in curve.kinks])
        top.set_xticklabels([f"{i}: {number(round(k.x, 3))}"
                             for i, k in enumerate(curve.kinks, start=1)],
                            fontsize=8, color=MARK)
        top.tick_params(axis="x", colors=MARK, length=4)

    for piece in curve.pieces:
        if piece.kind == "undefined" or not len(piece.xs):
            continue
        mid = len(piece.xs) // 2
        x, y = piece.xs[mid], piece.ys[mid]
        if y != y:
            continue
        ax.annotate(describe_piece(piece), xy=(x, y), xytext=(0, 6), textcoords="offset points",
                    ha="center", va="bottom", fontsize=8, color=LINE,
                    bbox=dict(boxstyle="round,pad=0.15", facecolor="white", edgecolor="none",
                              alpha=0.85))

    ax.set_xlabel(pretty(curve.over, d), labelpad=1)
    ax.set_ylabel(partial(curve.of, curve.wrt, d))
    fig.suptitle(f"{curve.problem.id}: {title(curve)}", fontsize=10, y=1 - 0.08 / height,
                 va="top")
    y = (bottom_h - 0.42) / height
    for note in notes:
        colour = MARK if note[0].isdigit() else "#555555"
        fig.text(0.04, y, note, ha="left", va="top", fontsize=7.5, color=colour)
        y -= 0.17 * (note.count("\n") + 1) / height
    return fig


def save(curve, path: str | Path) -> Path:
    path = Path(path)
    suffix = path.suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        raise DerivError(f"-o {path}: a plot is written as .png, .svg or .pdf")
    fig = figure(curve)
    try:
        fig.savefig(path, dpi=100)
    except OSError as err:
        raise DerivError(f"cannot write {path}: {err.strerror or err}") from None
    return path
