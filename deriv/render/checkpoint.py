"""A checkpointing plan (deriv.checkpoint) as text, JSON and Markdown: data in, text out."""

from __future__ import annotations

import json

from deriv.names import pretty


def _names(names, display=None, most: int = 6) -> str:
    if not names:
        return "—"
    shown = [pretty(n, display) for n in names]
    if len(shown) > most:
        shown = shown[:2] + ["…"] + shown[-2:]
    return ", ".join(shown)


def _rows(plan, display=None) -> list[tuple[str, str, str, str]]:
    return [(_names(s.nodes, display, 4), f"{_names(s.recomputed, display)} "
             f"({len(s.recomputed)})" if s.recomputed else "—",
             _names(s.sources, display) if s.sources else "inputs" if s.recomputed else "—",
             str(s.memory))
            for s in plan.segments]


def totals(plan) -> str:
    return (f"stored {len(plan.stored)}, recomputed {plan.recomputed}, evaluations "
            f"{plan.evaluations} ({plan.nodes} forward + {plan.recomputed} recomputed), peak "
            f"memory {plan.peak} values (without checkpointing: {plan.nodes} stored, "
            f"{plan.nodes} evaluations)")


def text(problem, plan):
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    from deriv.render.safe import clean
    d = problem.display
    out = [Text(problem.id, style="bold cyan") + Text("  " + clean(problem.title), style="bold"),
           Text(f"checkpoint K = {plan.every}: the forward pass stores nodes {plan.every}, "
                f"{2 * plan.every}, … of its {plan.nodes} (inputs are always at hand)"),
           Text("\nForward pass", style="bold underline"),
           Text(f"  evaluate {_names(list(problem.graph.order), d)} ({plan.nodes} evaluations)"),
           Text(f"  store {_names(plan.stored, d, 12)} ({len(plan.stored)} values)"),
           Text("\nReverse sweep, segment by segment (last first)", style="bold underline")]
    table = Table(show_edge=False, pad_edge=False, header_style="bold")
    for name in ("segment", "recomputed first", "from", "memory"):
        table.add_column(name, justify="right" if name == "memory" else "left")
    for row in _rows(plan, d):
        table.add_row(*row)
    out += [table, Text("\n" + totals(plan))]
    return Group(*out)


def as_json(problem, plan) -> str:
    return json.dumps({
        "problem": problem.id, "every": plan.every, "nodes": plan.nodes,
        "stored": list(plan.stored),
        "segments": [{"nodes": list(s.nodes), "recomputed": list(s.recomputed),
                      "sources": list(s.sources), "memory": s.memory} for s in plan.segments],
        "counts": {q: plan.count(q) for q in ("stored", "recomputed", "evaluations", "peak")},
        "without": {"stored": plan.nodes, "evaluations": plan.nodes}},
        indent=2, ensure_ascii=False)


def markdown(problem, plan) -> str:
    from deriv.render.markdown import escape
    d = problem.display
    out = [f"### {escape(problem.id)}: checkpoint every {plan.every} nodes", "",
           f"Stored in the forward pass: {escape(_names(plan.stored, d, 12))}.", "",
           "| segment | recomputed first | from | memory |", "| --- | --- | --- | ---: |"]
    out += ["| " + " | ".join(escape(c) for c in row) + " |" for row in _rows(plan, d)]
    return "\n".join(out + ["", totals(plan).capitalize() + ".", ""])
