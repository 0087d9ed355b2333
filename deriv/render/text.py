"""Terminal renderers: data in, rich Text out. No computation happens here."""

from __future__ import annotations

from rich.cells import cell_len
from rich.console import Group
from rich.table import Table
from rich.text import Text

from deriv.escape import printable as S
from deriv.names import numerator, partial, pretty
from deriv.render.safe import clean, short_path
from deriv.render.notation import number, text as math
from deriv.render.words import (UnicodeMath, claim_label, error_reason,
                                 omitted_tangents, sentence)


def _ref(ref, display):
    return partial(ref.of, ref.wrt, display)


EDGE_LEGEND = ("(∂a/∂b)ₑ is the edge partial, a's other inputs held fixed; other paths also "
               "lead from b to a")


def _factor(term, ref, display) -> str:
    """A chain-rule factor; an edge partial that differs from the total derivative is (∂a/∂b)ₑ."""
    text = _ref(ref, display)
    return f"({text})ₑ" if getattr(term, "bypassed", False) and ref == term.edge else text


def step_line(step, value, display, verdict=None, shown=None) -> Text:
    """∂y/∂f₃ = ∂y/∂f₄·∂f₄/∂f₃ + ∂y/∂f₅·∂f₅/∂f₃ = exp(f₃) + cos(f₃) = 78.47"""
    parts = [_ref(step.target, display)]
    terms = step.terms
    if terms and not (len(terms) == 1 and terms[0].factors == (step.target,)
                      and not getattr(terms[0], "bypassed", False)):
        parts.append(" + ".join("·".join(_factor(t, f, display) for f in t.factors)
                                for t in terms))
    parts.append(math(shown, display))
    if not shown.is_Number and value is not None:
        parts.append(number(value))
    line = Text("  ")
    line.append(parts[0], style="bold")
    for p in parts[1:]:
        line.append(" = ")
        line.append(p)
    if verdict is not None:
        line.append("   ")
        line.append_text(verdict)
    return line


COLUMN_WIDTH = 60       # characters a column is padded to, at most


def _columns(rows: list[tuple[str, ...]], bold: int | None = None) -> list[Text]:
    """Rows of cells in aligned columns, one space apart (what a rich grid draws, at a cost
    linear in the rows: a grid of a 1,500-node forward pass took seconds to lay out)."""
    # a cell longer than COLUMN_WIDTH (a sum of 500 terms) runs on, the others are not padded
    # to it: 500 rows padded to one 6,000-character formula printed 3 MB
    widths = [max((n for r in rows if (n := cell_len(r[i])) <= COLUMN_WIDTH), default=0)
              for i in range(len(rows[0]))] if rows else []
    lines = []
    for row in rows:
        line = Text()
        for i, cell in enumerate(row):
            last = i == len(row) - 1
            line.append(cell + ("" if last else " " * (widths[i] - cell_len(cell)) + " "),
                        style="bold" if i == bold else None)
        lines.append(line)
    return lines


def claim_marks(verdicts, display=None) -> dict:
    """Step target → the document's claims for it with their outcomes, for `deriv solve`."""
    marks: dict = {}
    for v in verdicts:
        if v.claim.is_value or v.claim.spec is not None:   # (a shape, count, … claim)
            continue
        label, style = OUTCOME_STYLE[v.outcome]
        mark = marks.setdefault(v.claim.target, Text())
        if mark:
            mark.append("  ")
        mark.append(f"[{S(v.claim.id)}: {label}", style=style)
        if v.verdict == "fail" and v.diagnosis:
            mark.append(f" — {sentence(v.diagnosis[0], UnicodeMath(display))}", style=style)
        mark.append("]", style=style)
    return marks


def heading(p) -> Text:
    """`problem-7.12  Derivatives on a general acyclic graph`, as every view starts."""
    head = Text()
    head.append(p.id, style="bold cyan")
    head.append("  " + S(p.title), style="bold")
    return head


def point_text(point: dict[str, float], display) -> str:
    return ", ".join(f"{pretty(k, display)} = {number(v)}" for k, v in point.items())


def solution(sol, verdicts=None) -> Text:
    """The whole derivation as the document would write it."""
    p = sol.problem
    d = p.display
    out: list = []
    out.append(heading(p))
    if p.source_title or p.section:
        out.append(Text(f"source: {S(p.source_title)}" + (f" · {S(p.section)}" if p.section
                                                          else ""),
                        style="dim"))
    if p.ask:
        out.append(Text(f"asks:   {S(p.ask)}"))
    out.append(Text(f"point:  {point_text(sol.point, d)}   ({sol.point_source})"))

    out.append(Text("\nForward pass", style="bold underline"))
    out.extend(_columns([("  " + pretty(fv.name, d), "=", math(fv.expr, d), "=", number(fv.value))
                         for fv in sol.forward_pass], bold=0))

    for sweep in sol.sweeps:
        if sweep.mode == "reverse":
            title = f"Reverse mode: adjoints {numerator(sweep.origin, d)}/∂·, output to inputs"
        else:
            title = f"Forward mode: tangents ∂·/∂{pretty(sweep.origin, d)}, input to output"
        out.append(Text("\n" + title, style="bold underline"))
        for step in sweep.steps:
            if step.seed:
                continue
            verdict = verdicts.get(step.target) if verdicts else None
            out.append(step_line(step, sol.value(sweep.mode, step), d, verdict,
                                 sol.shown.get((sweep.mode, step.target))))

    if sol.omitted:
        out.append(Text("\n" + omitted_tangents(sol, lambda n: pretty(n, d)), style="dim"))
    if any(getattr(t, "bypassed", False) for sw in sol.sweeps for st in sw.steps for t in st.terms):
        out.append(Text(EDGE_LEGEND, style="dim"))

    out.append(Text("\nResult", style="bold underline"))
    for r in sol.results:
        line = Text("  ")
        line.append(_ref(r.target, d), style="bold green")
        line.append(" = " + math(r.expr, d))
        out.append(line)
        pad = " " * len(_ref(r.target, d))
        if not r.expr.is_Number and r.value is not None:
            out.append(Text(f"  {pad} = {number(r.value)}"))
    # one Text of lines: rich renders thousands of separate lines a third slower
    return Text("\n").join(out)


def catalog_table(problems) -> Table:
    table = Table(title=None, show_edge=False, header_style="bold")
    table.add_column("id", style="cyan", no_wrap=True)
    table.add_column("source")
    table.add_column("title")
    table.add_column("claims", justify="right")
    for p in problems:
        src = p.source_file.split("_")[0] if p.source_file else ""
        table.add_row(p.id, S((src + " " + p.section).strip()), S(p.title), str(len(p.claims)))
    return table


def problem_view(p) -> Group:
    d = p.display
    out: list = []
    out.append(heading(p))
    out.append(Text(f"source: {S(p.source_title)} ({S(p.source_file)})" +
                    (f" · {S(p.section)}" if p.section else ""), style="dim"))
    if p.ask:
        out.append(Text(f"asks:   {S(p.ask)}"))
    if p.note:
        out.append(Text(f"note:   {S(p.note)}", style="dim"))
    inputs = ", ".join(f"{pretty(i.name, d)} ({i.kind})" for i in p.inputs.values())
    out.append(Text(f"inputs: {inputs}"))
    if p.at:
        out.append(Text(f"point:  {point_text(p.at, d)}"))
    out.append(Text(f"mode:   {p.mode};  output: {pretty(p.output, d)}"))
    out.append(Text("\nGraph", style="bold underline"))
    for name in p.graph.order:
        out.append(Text(f"  {pretty(name, d)} = {math(p.graph.nodes[name].expr, d)}"))
    if p.asks:
        out.append(Text("\nDerivatives asked", style="bold underline"))
        out.append(Text("  " + ", ".join(_ref(a, d) for a in p.asks)))
    if p.claims:
        out.append(Text("\nClaims as printed", style="bold underline"))
        for c in p.claims:
            line = Text("  ")
            line.append(S(c.id), style="bold")
            line.append("  " + (claim_label(c, UnicodeMath(d)) or
                                (_ref(c.target, d) + (" (local)" if c.local else ""))))
            if c.expect == "fail":
                line.append("  known erratum", style="yellow")
            out.append(line)
            out.append(Text(f"      printed: {S(c.printed)}", style="dim"))
            if c.expr is not None:
                out.append(Text(f"      reads:   {math(c.expr, d)}"))
            elif c.spec is not None and c.expr_text:     # as written: 8*10 + … stays a sum
                out.append(Text(f"      reads:   {S(c.expr_text)}"))
            if c.chain_text:
                out.append(Text(f"      chain:   {S(c.chain_text)}"))
    if p.unchecked:
        out.append(Text("\nPrinted, not checked", style="bold underline"))
        for u in p.unchecked:
            line = Text("  ")
            line.append(S(u.id), style="bold")
            line.append(f"  {S(u.section)} ({S(u.kind)}): {S(u.reason)}")
            out.append(line)
            if u.printed:
                out.append(Text(f"      printed: {S(u.printed)}", style="dim"))
    return Group(*out)


OUTCOME_STYLE = {"passed": ("PASSED", "green"), "failed": ("FAILED", "bold red"),
                 "xfailed": ("XFAIL", "yellow"), "xpassed": ("XPASS", "bold red"),
                 "error": ("ERROR", "bold red"), "warning": ("WARNING", "yellow")}


def report(rep, problems=None, verbose: bool = False, quiet: bool = False) -> Group:
    """One line per claim, the diagnosis under failures; with several files, a heading per
    file and a table of files; a pytest-like summary line. Quiet: only what went wrong."""
    out: list = []
    current = None
    several = len({v.file for v in rep.verdicts} | {i.file for i in rep.inputs}) > 1
    display = {(p.path, p.id): p.display for p in problems or rep.problems}
    for v in rep.verdicts:
        if quiet and not v.unexpected:
            continue
        if (v.file, v.problem) != current:
            if several and (current is None or v.file != current[0]):
                out.append(Text(clean(short_path(v.file or "")), style="bold"))
            current = (v.file, v.problem)
            out.append(Text(v.problem, style="bold cyan"))
        out.extend(verdict_lines(v, display.get((v.file, v.problem)), verbose))
    if not quiet:
        for m in rep.missing:
            where = f"{clean(short_path(m.file))}: " if several and m.file else ""
            out.append(Text(f"missing  {where}{m.problem}: no claim covers {m.derivative}",
                            style="yellow"))
    if several:
        out.append(file_table(rep))
    out.append(summary_line(rep))
    return Group(*out)


def verdict_lines(v, d, verbose: bool) -> list[Text]:
    out = []
    label, style = OUTCOME_STYLE[v.outcome]
    line = Text("  ")
    line.append(f"{label:<7}", style=style)
    line.append(f" {clean(v.claim.id):<18}")
    target = claim_label(v.claim, UnicodeMath(d)) or (
        f"{pretty(v.claim.of, d)} (value)" if v.claim.is_value
        else f"Newton step in {pretty(v.claim.wrt, d)}" if v.claim.update == "newton"
        else f"gradient step in {pretty(v.claim.wrt, d)}" if v.claim.update
        else partial(v.claim.of, v.claim.wrt, d) + (" (local)" if v.claim.local else ""))
    line.append(f" {target}")
    extras = []
    if v.branches:
        extras.append(f"branches {v.branches_seen}/{v.branches}")
    if v.undefined:
        extras.append(f"{v.undefined} undefined")
    if v.singular:
        extras.append(f"{v.singular} singular")
    if v.dropped:
        extras.append("not compared at " + "; ".join(
            ", ".join(f"{k} = {n}" for k, n in d.items()) for d in v.dropped))
    if v.overflow:
        extras.append(f"{v.overflow} overflow float64 ({v.precise} checked at 50 digits)")
    if v.verdict != "error" and v.reason:        # e.g. a chain through a tensor: links only
        extras.append(v.reason)
    if extras and (verbose or v.branches_seen < v.branches or v.undefined or v.dropped or
                   v.singular or v.reason):
        line.append("   " + ", ".join(extras), style="dim")
    out.append(line)
    if v.outcome == "error":
        out.append(Text(f"           {error_reason(v)}", style="red"))
    if v.verdict == "fail" and v.claim.printed and (v.outcome != "xfailed" or verbose):
        out.append(Text(f"           printed: {clean(v.claim.printed)}", style="dim"))
    if v.verdict == "fail":
        for f in v.diagnosis:
            out.append(Text(f"           {clean(sentence(f, UnicodeMath(d)))}",
                            style="red" if v.unexpected else "yellow"))
    if v.outcome == "xfailed" and v.claim.note and verbose:
        out.append(Text(f"           known erratum: {clean(v.claim.note)}", style="dim"))
    if v.outcome == "xpassed":
        out.append(Text(f"           marked as a known erratum ({clean(v.claim.note)}) but it "
                        "passes", style="red"))
    if v.partial:
        out.append(Text("           not every branch was seen: the pass covers only the "
                        "sides sampled", style="yellow"))
    return out


FILE_COLUMNS = ("passed", "xfailed", "failed", "warnings", "errors")
FILE_STYLES = {"passed": "green", "xfailed": "yellow", "failed": "bold red",
               "warnings": "yellow", "errors": "bold red"}


class FileTable:
    """Per file: passed, xfailed, failed, warnings, errors (bad input in red), as lines — a
    rich Table of 100 files took 0.15 s to lay out. Names too wide for the console lose their
    beginning, not the file's own name."""

    def __init__(self, rows: list[dict]):
        self.cells = [[clean(short_path(r["file"] or ""))] + [str(r[k]) for k in FILE_COLUMNS]
                      for r in rows]
        self.rows = rows

    def __rich_console__(self, console, options):
        from rich.cells import cell_len
        header = ["file", *FILE_COLUMNS]
        widths = [max([cell_len(header[j])] + [cell_len(c[j]) for c in self.cells])
                  for j in range(len(header))]
        widths[0] = max(8, min(widths[0], options.max_width - sum(widths[1:]) - 3 * 5))

        def name(text: str) -> str:
            while cell_len(text) > widths[0]:
                text = "…" + text[2:]
            return text + " " * (widths[0] - cell_len(text))
        line = Text(name(header[0]), style="bold")
        for column, w in zip(FILE_COLUMNS, widths[1:]):
            line.append("   " + column.rjust(w), style="bold")
        yield line
        yield Text("─" * (sum(widths) + 3 * 5))
        for row, cells in zip(self.rows, self.cells):
            line = Text(name(cells[0]))
            for key, cell, w in zip(FILE_COLUMNS, cells[1:], widths[1:]):
                line.append("   ")
                line.append(cell.rjust(w), style=FILE_STYLES[key] if row[key] else "dim")
            yield line


def file_table(rep) -> FileTable:
    from deriv.batch import file_rows
    return FileTable(file_rows(rep))


def summary_line(rep) -> Text:
    counts = rep.summary()
    parts = []
    for key, style in (("failed", "bold red"), ("passed", "green"), ("warnings", "yellow"),
                       ("xfailed", "yellow"),
                       ("xpassed", "bold red"), ("errors", "bold red")):
        if counts[key]:
            parts.append((f"{counts[key]} {key}", style))
    if rep.missing:
        parts.append((f"{len(rep.missing)} missing", "yellow"))
    if counts["bad_inputs"]:
        bad = counts["bad_inputs"]
        parts.append((f"{bad} bad input{'s' * (bad > 1)}", "bold red"))
    files = len({i.file for i in rep.inputs})
    if files > 1:
        parts.append((f"{files} files", ""))
    line = Text()
    for i, (p, style) in enumerate(parts or [("no claims", "yellow")]):
        if i:
            line.append(", ")
        line.append(p, style=style)
    line.append(f" in {rep.seconds:.2f}s")
    return line
